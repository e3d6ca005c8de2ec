#pragma once
// What the providers' error mappers share: the server's retry hints and the
// provider's message when its error body is not the documented shape.
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>

#include <boost/json/value.hpp>

#include <string_view>

namespace chatwire::detail {

// The server's retry hint, in chatwire/retry/hints.hpp's precedence, split in
// three steps because the mappers learn the body after the headers: each step
// only fills diag.retry_after when a more specific one did not.

/// The most specific hints: `retry-after-ms`, then `Retry-After`
/// (delay-seconds or an HTTP date). Sets diag.retry_after when one is usable.
void note_retry_after(const http::fields& headers, diagnostics& diag);

/// A JSON body's `retryAfter` (seconds), when no header hint was found.
void note_body_retry_after(const boost::json::value& retry_after, diagnostics& diag);

/// The least specific hints: the IETF `RateLimit` field's `t` / `RateLimit-Reset`,
/// then `X-RateLimit-Reset` (Unix seconds when large, else a delay); only when
/// no other hint was found.
void note_ratelimit_reset(const http::fields& headers, diagnostics& diag);

/// The body as a JSON object, or nullptr.
const boost::json::object* as_object(std::string_view body, boost::json::value& holder);

/// Keeps the start of a body that had no message of the documented shape.
void keep_message(std::string_view body, diagnostics& diag);

} // namespace chatwire::detail
