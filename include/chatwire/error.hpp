#pragma once
// Error codes, the diagnostics that travel with them, and the exception thrown
// by the throwing overloads. A provider's own error code and message are kept
// verbatim in `diagnostics`, never folded into a string.
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace chatwire {

using error_code = boost::system::error_code;

enum class errc {
    // transport
    connect_timeout = 1,     ///< the TCP or TLS connect stage ran out of time
    first_byte_timeout,      ///< no response byte arrived in time after the request was sent
    idle_timeout,            ///< the peer went quiet for too long between reads
    total_timeout,           ///< the operation's overall deadline passed
    cancelled,               ///< the caller cancelled the operation
    header_limit_exceeded,   ///< the response header was larger than the configured limit
    body_limit_exceeded,     ///< a non-streaming response body was larger than the configured limit
    invalid_url,             ///< the URL could not be parsed or has an unsupported scheme
    tls_setup_failed,        ///< the TLS context could not be configured (e.g. an unreadable CA file)
    // responses
    http_error,              ///< a non-success HTTP status without a more specific code
    bad_response,            ///< the response did not have the shape the API documents
    // provider errors (the provider's code and message are in diagnostics)
    bad_request,
    unauthorized,
    forbidden,
    payment_required,        ///< no subscription or insufficient credits: not retryable
    not_found,
    conflict,
    rate_limited,            ///< a burst limit: retry after the hinted delay
    quota_exceeded,          ///< a plan or usage limit: retrying soon does not help
    server_error,
    run_failed,              ///< the provider reported a failed run (even with HTTP 200)
    // streams
    end_of_stream,           ///< the stream ended normally after its terminal event
    truncated_stream,        ///< the stream ended before its terminal event
    event_too_large,         ///< an event or line exceeded the configured maximum size
    malformed_event,         ///< an event's payload could not be parsed
    stream_error,            ///< the provider sent an error event inside the stream
    // caller input
    invalid_argument,        ///< a request field failed validation before anything was sent
    retry_budget_exhausted,  ///< retries stopped because the shared budget ran dry
    reply_too_large,         ///< a streamed reply's text outgrew the configured maximum
    unsupported_encoding,    ///< the response body has a Content-Encoding or Transfer-Encoding this client does not decode
    pagination_loop,         ///< a list walk met a cursor it had already followed (the cursor is in diagnostics::detail)
    page_limit_reached,      ///< a list walk made pager_options::max_pages requests and more remain: cursor() resumes it
    // HTTP/2 (the HTTP/2 error code is in diagnostics::http2_error)
    protocol_error,          ///< the HTTP/2 connection failed: the server sent what is not HTTP/2, an invalid frame, or a flood
    stream_reset,            ///< the server reset the HTTP/2 stream, or it was refused or never processed (REFUSED_STREAM, beyond a GOAWAY)
};

const boost::system::error_category& error_category() noexcept;

inline error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// Classes of failure, to compare any error_code with: chatwire's own codes
/// and the system, TLS and HTTP-parser codes from below alike, e.g.
/// `if (ec == chatwire::condition::retryable)`.
enum class condition {
    retryable = 1,  ///< waiting and trying again may succeed: rate limits, 5xx, refused or broken connections, timeouts
    rate_limited,   ///< the provider refused for a limit: a burst (rate_limited) or a quota (quota_exceeded)
    provider,       ///< the provider answered with an error (its code and message are in diagnostics)
    transport,      ///< the request or its answer did not get through: network, TLS, timeouts, limits
    timeout,        ///< a stage's time or the operation's deadline ran out
    /// The service answered with what chatwire does not take: not the shape
    /// the API documents or not HTTP as written, a header, body, event or
    /// reply over its limit, an encoding it does not decode, an HTTP/2
    /// protocol violation, a list that loops.
    malformed,
    /// Refused before anything was sent: an invalid argument or URL, a TLS
    /// configuration that could not be set up.
    invalid_input,
};

const boost::system::error_category& condition_category() noexcept;

inline boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

/// One failed attempt of a call that was retried or gave up.
struct failed_attempt {
    int http_status = 0;                              ///< 0 when no answer came
    /// The provider's error code, if it sent one.
    std::string provider_code;
    /// The attempt's error.
    error_code ec;
    std::chrono::milliseconds delay{0};               ///< waited after it (0: the call stopped)
    std::string reason;                               ///< why it was retried or the call stopped
    std::string method;                               ///< "POST", "GET", ...
    std::string url;                                  ///< scheme, host, port, path and query: never a key
};

/// Whatever is known about a failure besides its code. Never holds a secret.
struct diagnostics {
    int http_status = 0;                    ///< 0 when no response was received
    std::string provider_code;              ///< e.g. "RATE_LIMIT_EXCEEDED", "NOT_FOUND"
    std::string provider_message;           ///< the provider's own human-readable message
    std::string request_id;                 ///< the provider's request id header, if any
    std::optional<std::chrono::milliseconds> retry_after;  ///< the server's hint
    int attempts = 0;                       ///< requests the call sent (its retries included)
    /// How long the call waited for a free connection (the pool was at
    /// max_connections_per_origin) or for a TLS handshake slot
    /// (max_concurrent_handshakes), over all its attempts.
    std::chrono::microseconds connection_wait{0};
    /// Every failed attempt of the call, oldest first (empty when the first
    /// attempt succeeded).
    std::vector<failed_attempt> failed_attempts;
    /// How long the call waited, before its attempts, for a rate-limit window
    /// the server said was used up to reset (proactive pacing).
    std::chrono::milliseconds paced{0};
    std::string detail;                     ///< library-side context (no secrets)
    /// The conversation the failed call belongs to, when known (one the call
    /// itself created included), so that a retry continues it.
    std::string conversation_id;
    /// The HTTP/2 error code (RFC 9113 §7) that reset the stream or ended the
    /// connection, e.g. 7 for REFUSED_STREAM; unset over HTTP/1.1.
    std::optional<std::uint32_t> http2_error;
    /// The HTTP version of the last attempt's connection: 11 or 20 (0 when
    /// none was made).
    int http_version = 0;

    /// Empties every field.
    void clear() { *this = diagnostics{}; }
    /// A one-line rendering for logs; contains no credentials.
    std::string to_string() const;
};

/// Thrown by the throwing overloads: the code and the full diagnostics.
class error_with_diagnostics : public boost::system::system_error {
public:
    /// The error `ec` with its diagnostics.
    error_with_diagnostics(error_code ec, diagnostics diag);
    /// Whatever is known about the failure besides its code.
    const diagnostics& get_diagnostics() const noexcept { return diag_; }

private:
    diagnostics diag_;
};

/// Throws error_with_diagnostics when `ec` is set.
void throw_on_error(error_code ec, const diagnostics& diag = {});

/// The enumerator's own name ("rate_limited"), for logs and metrics labels.
std::string_view errc_name(errc e) noexcept;

/// Prints the code's message (for logs and test output).
std::ostream& operator<<(std::ostream& os, errc e);

/// The errc a provider's HTTP status maps to when no finer code is known.
errc errc_from_http_status(int status) noexcept;

} // namespace chatwire

namespace boost::system {
template <>
struct is_error_code_enum<chatwire::errc> : std::true_type {};
template <>
struct is_error_condition_enum<chatwire::condition> : std::true_type {};
} // namespace boost::system
