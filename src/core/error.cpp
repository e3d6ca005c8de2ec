#include <chatwire/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <ostream>
#include <string>

namespace chatwire {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "chatwire"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::connect_timeout: return "connect timed out";
        case errc::first_byte_timeout: return "timed out waiting for the first response byte";
        case errc::idle_timeout: return "timed out waiting for more data (idle)";
        case errc::total_timeout: return "the operation's deadline passed";
        case errc::cancelled: return "operation cancelled";
        case errc::header_limit_exceeded: return "response header exceeds the configured limit";
        case errc::body_limit_exceeded: return "response body exceeds the configured limit";
        case errc::invalid_url: return "invalid or unsupported URL";
        case errc::tls_setup_failed: return "TLS configuration failed";
        case errc::http_error: return "HTTP error status";
        case errc::bad_response: return "unexpected response shape";
        case errc::bad_request: return "bad request";
        case errc::unauthorized: return "not authenticated";
        case errc::forbidden: return "not authorized";
        case errc::payment_required: return "payment or subscription required";
        case errc::not_found: return "not found";
        case errc::conflict: return "conflict";
        case errc::rate_limited: return "rate limited";
        case errc::quota_exceeded: return "usage limits reached";
        case errc::server_error: return "server error";
        case errc::run_failed: return "the provider reported a failed run";
        case errc::end_of_stream: return "end of stream";
        case errc::truncated_stream: return "stream ended before its terminal event";
        case errc::event_too_large: return "event exceeds the configured maximum size";
        case errc::malformed_event: return "malformed event";
        case errc::stream_error: return "the provider reported an error inside the stream";
        case errc::invalid_argument: return "invalid argument";
        case errc::retry_budget_exhausted: return "retry budget exhausted";
        case errc::reply_too_large: return "reply text exceeds the configured maximum size";
        case errc::unsupported_encoding: return "response body has an unsupported Content-Encoding or Transfer-Encoding";
        case errc::pagination_loop: return "a list returned a cursor it had returned before";
        case errc::page_limit_reached: return "the list walk reached its page limit";
        case errc::protocol_error: return "the HTTP/2 connection failed: the server broke the protocol";
        case errc::stream_reset: return "the server reset or refused the HTTP/2 stream";
        }
        return "unknown chatwire error " + std::to_string(ev);
    }
};

// The classes of chatwire's own codes, one place for each code: a new code
// does not compile (-Wswitch) until it is placed. `retryable` and
// `rate_limited` are decided in equivalent(), as they single codes out.
enum class_bit : unsigned { provider = 1, transport = 2, timeout = 4, malformed = 8, invalid_input = 16 };

unsigned classes_of(errc e) noexcept {
    switch (e) {
    case errc::connect_timeout: case errc::first_byte_timeout: case errc::idle_timeout: case errc::total_timeout:
        return transport | timeout;
    case errc::header_limit_exceeded: case errc::body_limit_exceeded: case errc::protocol_error:
        return transport | malformed;
    case errc::tls_setup_failed:
        return transport | invalid_input;
    case errc::truncated_stream: case errc::stream_reset:
        return transport;
    case errc::invalid_url: case errc::invalid_argument:
        return invalid_input;
    case errc::http_error: case errc::bad_request: case errc::unauthorized: case errc::forbidden:
    case errc::payment_required: case errc::not_found: case errc::conflict: case errc::rate_limited:
    case errc::quota_exceeded: case errc::server_error: case errc::run_failed: case errc::stream_error:
        return provider;
    case errc::bad_response: case errc::malformed_event: case errc::event_too_large: case errc::reply_too_large:
    case errc::unsupported_encoding: case errc::pagination_loop:
        return malformed;
    // Neither a failure of the service nor of the way to it.
    case errc::cancelled: case errc::retry_budget_exhausted: case errc::end_of_stream:
    case errc::page_limit_reached:
        return 0;
    }
    return 0;
}

bool in(errc e, class_bit c) noexcept { return (classes_of(e) & c) != 0; }

// The HTTP parser's verdict on what the server sent: not HTTP/1.1 as written,
// or past the parser's limits. A connection cut before the end is not one.
bool is_malformed_http(const boost::system::error_code& ec) {
    namespace bh = boost::beast::http;
    return ec.category() == make_error_code(bh::error::bad_status).category() && ec != bh::error::end_of_stream &&
           ec != bh::error::partial_message && ec != bh::error::short_read;
}

// Failures of the connection itself, before or during an answer.
bool is_broken_connection(const boost::system::error_code& ec) {
    namespace ae = boost::asio::error;
    return ec == ae::connection_refused || ec == ae::connection_reset || ec == ae::connection_aborted ||
           ec == ae::broken_pipe || ec == ae::eof || ec == ae::network_unreachable || ec == ae::host_unreachable ||
           ec == ae::timed_out || ec == ae::network_down || ec == ae::network_reset ||
           ec == boost::asio::ssl::error::stream_truncated || ec == boost::beast::http::error::end_of_stream ||
           ec == boost::beast::http::error::partial_message;
}

class condition_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "chatwire.condition"; }

    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::retryable: return "a failure that may pass on a later attempt";
        case condition::rate_limited: return "refused by a rate or usage limit";
        case condition::provider: return "the provider answered with an error";
        case condition::transport: return "the request or its answer did not get through";
        case condition::timeout: return "timed out";
        case condition::malformed: return "the service answered with what chatwire does not take";
        case condition::invalid_input: return "refused before anything was sent";
        }
        return "unknown chatwire condition " + std::to_string(ev);
    }

    bool equivalent(const boost::system::error_code& ec, int cond) const noexcept override {
        const bool own = ec.category() == chatwire::error_category();
        const auto e = static_cast<errc>(ec.value());
        switch (static_cast<condition>(cond)) {
        case condition::retryable:
            // A reset stream is retryable as a connection cut mid-answer is
            // (is_broken_connection): the retry layer still never replays one
            // whose first event reached the user. A protocol error is not: the
            // same server is likely to break the protocol the same way again.
            if (own) return e == errc::rate_limited || e == errc::server_error || e == errc::connect_timeout ||
                            e == errc::first_byte_timeout || e == errc::idle_timeout || e == errc::stream_reset;
            return is_broken_connection(ec);
        case condition::rate_limited: return own && (e == errc::rate_limited || e == errc::quota_exceeded);
        case condition::provider: return own && in(e, provider);
        case condition::transport:
            if (own) return in(e, transport);
            // Anything from below chatwire (sockets, name lookup, TLS, the HTTP parser).
            return ec.failed() && ec != boost::asio::error::operation_aborted;
        case condition::timeout:
            return own ? in(e, timeout) : ec == boost::asio::error::timed_out;
        case condition::malformed:
            return own ? in(e, malformed) : is_malformed_http(ec);
        case condition::invalid_input:
            return own && in(e, invalid_input);
        }
        return false;
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

const boost::system::error_category& condition_category() noexcept {
    static const condition_category_impl instance;
    return instance;
}

std::string diagnostics::to_string() const {
    std::string out;
    auto add = [&out](std::string_view key, std::string_view value) {
        if (value.empty()) return;
        if (!out.empty()) out += ", ";
        out.append(key).append("=").append(value);
    };
    if (http_status != 0) add("status", std::to_string(http_status));
    add("code", provider_code);
    add("message", provider_message);
    add("request_id", request_id);
    if (retry_after) add("retry_after_ms", std::to_string(retry_after->count()));
    if (attempts != 0) add("attempts", std::to_string(attempts));
    if (paced.count() != 0) add("paced_ms", std::to_string(paced.count()));
    if (connection_wait.count() != 0) add("connection_wait_us", std::to_string(connection_wait.count()));
    for (const auto& a : failed_attempts) {
        std::string one = a.http_status ? std::to_string(a.http_status) : a.ec.message();
        if (!a.provider_code.empty()) one.append(" ").append(a.provider_code);
        one.append(" -> ").append(a.reason);
        if (a.delay.count() != 0) one.append(" after ").append(std::to_string(a.delay.count())).append(" ms");
        if (!a.url.empty()) one.append(" (").append(a.method).append(" ").append(a.url).append(")");
        add("attempt", one);
    }
    add("detail", detail);
    add("conversation", conversation_id);
    if (http2_error) add("http2_error", std::to_string(*http2_error));
    if (http_version == 20) add("protocol", "h2");
    return out;
}

// system_error's what() is "<what_arg>: <message>", so the diagnostics go first.
error_with_diagnostics::error_with_diagnostics(error_code ec, diagnostics diag)
    : boost::system::system_error(ec, diag.to_string()), diag_(std::move(diag)) {}

void throw_on_error(error_code ec, const diagnostics& diag) {
    if (ec) throw error_with_diagnostics(ec, diag);
}

std::string_view errc_name(errc e) noexcept {
    switch (e) {
#define CHATWIRE_ERRC_NAME(n) \
    case errc::n: return #n;
    CHATWIRE_ERRC_NAME(connect_timeout) CHATWIRE_ERRC_NAME(first_byte_timeout) CHATWIRE_ERRC_NAME(idle_timeout)
    CHATWIRE_ERRC_NAME(total_timeout) CHATWIRE_ERRC_NAME(cancelled) CHATWIRE_ERRC_NAME(header_limit_exceeded)
    CHATWIRE_ERRC_NAME(body_limit_exceeded) CHATWIRE_ERRC_NAME(invalid_url) CHATWIRE_ERRC_NAME(tls_setup_failed)
    CHATWIRE_ERRC_NAME(http_error) CHATWIRE_ERRC_NAME(bad_response) CHATWIRE_ERRC_NAME(bad_request)
    CHATWIRE_ERRC_NAME(unauthorized) CHATWIRE_ERRC_NAME(forbidden) CHATWIRE_ERRC_NAME(payment_required)
    CHATWIRE_ERRC_NAME(not_found) CHATWIRE_ERRC_NAME(conflict) CHATWIRE_ERRC_NAME(rate_limited)
    CHATWIRE_ERRC_NAME(quota_exceeded) CHATWIRE_ERRC_NAME(server_error) CHATWIRE_ERRC_NAME(run_failed)
    CHATWIRE_ERRC_NAME(end_of_stream) CHATWIRE_ERRC_NAME(truncated_stream) CHATWIRE_ERRC_NAME(event_too_large)
    CHATWIRE_ERRC_NAME(malformed_event) CHATWIRE_ERRC_NAME(stream_error) CHATWIRE_ERRC_NAME(invalid_argument)
    CHATWIRE_ERRC_NAME(retry_budget_exhausted) CHATWIRE_ERRC_NAME(reply_too_large)
    CHATWIRE_ERRC_NAME(unsupported_encoding) CHATWIRE_ERRC_NAME(pagination_loop)
    CHATWIRE_ERRC_NAME(page_limit_reached) CHATWIRE_ERRC_NAME(protocol_error) CHATWIRE_ERRC_NAME(stream_reset)
#undef CHATWIRE_ERRC_NAME
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, errc e) {
    return os << make_error_code(e).message();
}

errc errc_from_http_status(int status) noexcept {
    switch (status) {
    case 400: case 422: return errc::bad_request;
    case 401: return errc::unauthorized;
    case 402: return errc::payment_required;
    case 403: return errc::forbidden;
    case 404: return errc::not_found;
    case 409: return errc::conflict;
    case 429: return errc::rate_limited;
    default: break;
    }
    if (status >= 500 && status <= 599) return errc::server_error;
    return errc::http_error;
}

} // namespace chatwire
