#pragma once
// How an error answer becomes errc + diagnostics, one function for the three
// providers, each described as data: where its error body keeps the code and
// the message, and which codes mean which errc. Also the server's retry hints
// and the provider's message when its error body is not the documented shape.
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>

#include <boost/json/value.hpp>

#include <span>
#include <string_view>

namespace chatwire::detail {

/// One provider code and its errc; `suffix` matches codes that end in it.
struct code_rule {
    std::string_view code;
    errc ec;
    bool suffix = false;
};

/// A provider's error answers.
struct error_shape {
    std::string_view code_key;            ///< the error body's member holding the provider's code
    std::string_view message_key;         ///< ... and its message
    std::span<const code_rule> codes;     ///< first match wins; no match: the HTTP status decides
    bool body_retry_after = false;        ///< the body may carry `retryAfter` (seconds)
    bool success_status_is_run_failed = false;  ///< an error body with a 2xx status reports a failed run
};

/// The errc of an error answer, with the status, the provider's code and
/// message and the retry hint (headers first, then the body's) in diag.
error_code map_provider_error(const error_shape& shape, unsigned status, const http::fields& headers,
                              std::string_view body, diagnostics& diag);

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

/// The string member `key` of an object, or empty (not an object, no such
/// member, not a string).
std::string_view string_at(const boost::json::value& v, std::string_view key);

/// The body as a JSON object, or nullptr.
const boost::json::object* as_object(std::string_view body, boost::json::value& holder);

/// Keeps the start of a body that had no message of the documented shape.
void keep_message(std::string_view body, diagnostics& diag);

} // namespace chatwire::detail
