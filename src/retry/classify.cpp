#include <chatwire/retry/classify.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <ostream>
#include <string_view>

namespace chatwire {

namespace {

namespace ae = boost::asio::error;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Codes of a plan or credit limit: waiting seconds will not lift them.
// Suffix match, as ChatBotKit prefixes scoped codes (DISCORD_..., say).
bool is_quota_code(std::string_view code) {
    return ends_with(code, "LIMITS_REACHED") || ends_with(code, "NO_SUBSCRIPTION") ||
           ends_with(code, "INSUFFICIENT_CREDITS");
}

// A failure of the path to the server, which another attempt may not meet.
bool transient(const error_code& ec) {
    return ec == condition::retryable || ec == errc::truncated_stream || ec == ae::host_not_found_try_again;
}

} // namespace

retry_verdict classify(error_code ec, const failure_info& info, const diagnostics& diag, const retry_policy& policy) {
    auto no = [](retry_reason r) { return retry_verdict{false, r}; };
    auto yes = [](retry_reason r) { return retry_verdict{true, r}; };
    // The server may have acted: only a request that may run twice goes again.
    auto ambiguous = [&] {
        const bool may_repeat = info.idempotent || http::is_idempotent(info.method) || policy.retry_ambiguous;
        return may_repeat ? yes(retry_reason::ambiguous_allowed) : no(retry_reason::ambiguous);
    };

    // What the caller or the call itself decided comes first.
    if (!ec) return no(retry_reason::not_retryable);
    if (ec == errc::cancelled || ec == ae::operation_aborted) return no(retry_reason::cancelled);
    if (ec == errc::total_timeout) return no(retry_reason::deadline);
    if (info.delivered_to_user) return no(retry_reason::delivered);
    if (ec == errc::quota_exceeded || ec == errc::payment_required || is_quota_code(diag.provider_code))
        return no(retry_reason::quota);

    // The server answered with a status.
    switch (diag.http_status) {
    case 429: return yes(retry_reason::rate_limited);
    case 503: return yes(retry_reason::unavailable);
    case 408: case 500: case 502: case 504: return ambiguous();
    default: break;
    }
    if (ec == errc::rate_limited) return yes(retry_reason::rate_limited);  // a limit named in the body or a stream
    if (diag.http_status >= 300) return no(retry_reason::not_retryable);    // 4xx: auth, validation...; 501, 505...

    // No status: the connection failed somewhere along the exchange.
    if (ec == ae::connection_refused) return yes(retry_reason::not_sent);
    if (!info.request_written && transient(ec)) return yes(retry_reason::not_sent);
    if (info.connection_reused && !info.response_started && http::is_clean_close(ec))
        return yes(retry_reason::stale_connection);
    if (transient(ec)) return ambiguous();  // timeouts, resets, truncation after the request went out
    return no(retry_reason::not_retryable); // TLS verification, name not found, limits, bad responses...
}

const char* to_string(retry_reason r) noexcept {
    switch (r) {
    case retry_reason::rate_limited: return "rate_limited";
    case retry_reason::unavailable: return "unavailable";
    case retry_reason::not_sent: return "not_sent";
    case retry_reason::stale_connection: return "stale_connection";
    case retry_reason::ambiguous_allowed: return "ambiguous_allowed";
    case retry_reason::ambiguous: return "ambiguous";
    case retry_reason::not_retryable: return "not_retryable";
    case retry_reason::quota: return "quota";
    case retry_reason::cancelled: return "cancelled";
    case retry_reason::deadline: return "deadline";
    case retry_reason::delivered: return "delivered";
    case retry_reason::attempts_exhausted: return "attempts_exhausted";
    case retry_reason::hint_too_long: return "hint_too_long";
    case retry_reason::budget_exhausted: return "budget_exhausted";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, retry_reason r) { return os << to_string(r); }

} // namespace chatwire
