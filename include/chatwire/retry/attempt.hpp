#pragma once
// What a service may learn of each attempt of a call, to log or count it
// without chatwire choosing a logging library: a callback in the client's
// options sees every attempt, and diagnostics keep the failed ones.
#include <chatwire/error.hpp>
#include <chatwire/retry/classify.hpp>

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace chatwire {

/// One attempt of a call, as reported to an attempt_observer.
struct attempt_report {
    int attempt = 0;                     ///< 1 for the first
    /// The request's method.
    boost::beast::http::verb method = boost::beast::http::verb::post;
    std::string_view target;             ///< path and query: never a key (keys travel in headers)
    std::string_view origin;             ///< "https://host:port"
    int http_status = 0;                 ///< 0 when no answer came
    /// The provider's error code, if it sent one.
    std::string_view provider_code;
    error_code ec;                       ///< the attempt's outcome; empty on success
    /// From sending the request to its answer (or failure).
    std::chrono::milliseconds latency{0};
    /// Waited before this attempt for the key's rate-limit window to reset.
    std::chrono::milliseconds paced{0};
    std::optional<std::chrono::milliseconds> hint;  ///< the server's retry hint, if any
    /// Whether another attempt follows.
    bool will_retry = false;
    std::chrono::milliseconds delay{0};  ///< the wait before the next attempt
    retry_reason reason = retry_reason::not_retryable;  ///< why it is retried or the call stops (failures only)
};

/// Called after every attempt, on the client's executor. Views are valid only
/// during the call.
using attempt_observer = std::function<void(const attempt_report&)>;

} // namespace chatwire
