#pragma once
// What the providers' error mappers share: the server's retry hints and the
// provider's message when its error body is not the documented shape.
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>

#include <boost/json/value.hpp>

#include <string_view>

namespace chatwire::detail {

/// The server's hint from a Retry-After header (delay-seconds or an HTTP date).
void note_retry_after(const http::fields& headers, diagnostics& diag);

/// The least specific hint: X-RateLimit-Reset, epoch seconds when large, else
/// a delay; only when no other hint was found.
void note_ratelimit_reset(const http::fields& headers, diagnostics& diag);

/// The body as a JSON object, or nullptr.
const boost::json::object* as_object(std::string_view body, boost::json::value& holder);

/// Keeps the start of a body that had no message of the documented shape.
void keep_message(std::string_view body, diagnostics& diag);

} // namespace chatwire::detail
