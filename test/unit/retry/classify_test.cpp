#include <boost/test/unit_test.hpp>

#include <chatwire/retry/classify.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <string>

using chatwire::errc;
using chatwire::retry_reason;
using chatwire::http::verb;
namespace ae = boost::asio::error;

namespace {

// One row of the table in docs/retries.md.
struct row {
    const char* name;
    chatwire::error_code ec;
    int status = 0;
    std::string code;
    verb method = verb::post;
    bool written = true, started = false, reused = false, delivered = false, idempotent = false, opt_in = false;
    bool retry;
    retry_reason reason;
};

// Designated initialisers need every field in order; a builder reads better.
struct r {
    row x;
    r(const char* name, chatwire::error_code ec) { x.name = name; x.ec = ec; }
    r& status(int s) { x.status = s; return *this; }
    r& code(std::string c) { x.code = std::move(c); return *this; }
    r& method(verb m) { x.method = m; return *this; }
    r& not_written() { x.written = false; return *this; }
    r& started() { x.started = true; return *this; }
    r& reused() { x.reused = true; return *this; }
    r& delivered() { x.delivered = true; return *this; }
    r& idempotent() { x.idempotent = true; return *this; }
    r& opt_in() { x.opt_in = true; return *this; }
    row yes(retry_reason why) { x.retry = true; x.reason = why; return x; }
    row no(retry_reason why) { x.retry = false; x.reason = why; return x; }
};

using R = retry_reason;

const row table[] = {
    // The server certainly did not act: resent.
    r("429", errc::rate_limited).status(429).code("RATE_LIMIT_EXCEEDED").started().yes(R::rate_limited),
    r("429 ChatBotKit burst", errc::rate_limited).status(429).code("TOO_MANY_REQUESTS").started().yes(R::rate_limited),
    r("429 without a code", errc::rate_limited).status(429).started().yes(R::rate_limited),
    r("503", errc::server_error).status(503).started().yes(R::unavailable),
    r("connection refused", ae::connection_refused).not_written().yes(R::not_sent),
    r("connect timeout", errc::connect_timeout).not_written().yes(R::not_sent),
    r("reset while writing", ae::connection_reset).not_written().yes(R::not_sent),
    r("broken pipe while writing", ae::broken_pipe).not_written().yes(R::not_sent),
    r("DNS try again", ae::host_not_found_try_again).not_written().yes(R::not_sent),
    r("EOF on a reused connection", ae::eof).reused().yes(R::stale_connection),
    // A reset after the request went out may follow a server that read it and acted.
    r("reset on a reused connection, POST", ae::connection_reset).reused().no(R::ambiguous),
    r("reset on a reused connection, GET", ae::connection_reset).reused().method(verb::get)
        .yes(R::ambiguous_allowed),
    r("beast end_of_stream on a reused connection", boost::beast::http::error::end_of_stream).reused()
        .yes(R::stale_connection),
    r("TLS truncated on a reused connection", boost::asio::ssl::error::stream_truncated).reused()
        .yes(R::stale_connection),
    // The server may have acted: resent only when idempotent or opted in.
    r("500 POST", errc::server_error).status(500).started().no(R::ambiguous),
    r("500 GET", errc::server_error).status(500).started().method(verb::get).yes(R::ambiguous_allowed),
    r("500 POST idempotent", errc::server_error).status(500).started().idempotent().yes(R::ambiguous_allowed),
    r("500 POST opt-in", errc::server_error).status(500).started().opt_in().yes(R::ambiguous_allowed),
    r("502 POST", errc::server_error).status(502).started().no(R::ambiguous),
    r("502 DELETE", errc::server_error).status(502).started().method(verb::delete_).yes(R::ambiguous_allowed),
    r("504 POST", errc::server_error).status(504).started().no(R::ambiguous),
    r("504 PUT", errc::server_error).status(504).started().method(verb::put).yes(R::ambiguous_allowed),
    r("408 POST", errc::http_error).status(408).started().no(R::ambiguous),
    r("408 GET", errc::http_error).status(408).started().method(verb::get).yes(R::ambiguous_allowed),
    r("first-byte timeout POST", errc::first_byte_timeout).no(R::ambiguous),
    r("first-byte timeout GET", errc::first_byte_timeout).method(verb::get).yes(R::ambiguous_allowed),
    r("first-byte timeout opt-in", errc::first_byte_timeout).opt_in().yes(R::ambiguous_allowed),
    r("reset on a fresh connection after writing", ae::connection_reset).no(R::ambiguous),
    r("EOF on a reused connection after a response byte", ae::eof).reused().started().no(R::ambiguous),
    r("idle timeout in the body, GET", errc::idle_timeout).started().method(verb::get).yes(R::ambiguous_allowed),
    r("truncated stream, POST", errc::truncated_stream).status(200).started().no(R::ambiguous),
    r("truncated stream, opt-in", errc::truncated_stream).status(200).started().opt_in().yes(R::ambiguous_allowed),
    // Never resent.
    r("401", errc::unauthorized).status(401).started().method(verb::get).no(R::not_retryable),
    r("403", errc::forbidden).status(403).started().method(verb::get).no(R::not_retryable),
    r("400 validation", errc::bad_request).status(400).code("VALIDATION_ERROR").opt_in().no(R::not_retryable),
    r("404", errc::not_found).status(404).started().method(verb::get).no(R::not_retryable),
    r("409", errc::conflict).status(409).started().opt_in().no(R::not_retryable),
    r("501", errc::server_error).status(501).started().method(verb::get).no(R::not_retryable),
    r("ChatBotKit LIMITS_REACHED 429", errc::quota_exceeded).status(429).code("LIMITS_REACHED").no(R::quota),
    r("LIMITS_REACHED mapped as a plain 429", errc::rate_limited).status(429).code("LIMITS_REACHED").no(R::quota),
    r("ChatBotKit NO_SUBSCRIPTION 402", errc::payment_required).status(402).code("NO_SUBSCRIPTION").no(R::quota),
    r("PollyBot INSUFFICIENT_CREDITS 402", errc::payment_required).status(402).code("INSUFFICIENT_CREDITS")
        .opt_in().no(R::quota),
    r("cancelled", errc::cancelled).method(verb::get).opt_in().no(R::cancelled),
    r("operation_aborted", ae::operation_aborted).not_written().no(R::cancelled),
    r("total deadline passed", errc::total_timeout).not_written().no(R::deadline),
    r("429 after the stream reached the user", errc::rate_limited).status(429).delivered().no(R::delivered),
    r("reset after the stream reached the user", ae::connection_reset).started().delivered().method(verb::get)
        .opt_in().no(R::delivered),
    r("TLS failure", boost::asio::ssl::error::unspecified_system_error).not_written().no(R::not_retryable),
    r("host not found", ae::host_not_found).not_written().no(R::not_retryable),
    r("invalid URL", errc::invalid_url).not_written().no(R::not_retryable),
    r("invalid argument", errc::invalid_argument).not_written().no(R::not_retryable),
    r("TLS setup", errc::tls_setup_failed).not_written().no(R::not_retryable),
    r("bad response", errc::bad_response).status(200).started().opt_in().no(R::not_retryable),
    r("body limit", errc::body_limit_exceeded).status(200).started().method(verb::get).no(R::not_retryable),
    r("run failed", errc::run_failed).status(200).started().opt_in().no(R::not_retryable),
    r("success", chatwire::error_code{}).status(200).started().no(R::not_retryable),
};

} // namespace

BOOST_AUTO_TEST_SUITE(classify)

BOOST_AUTO_TEST_CASE(the_table_row_by_row) {
    for (const row& t : table) {
        BOOST_TEST_CONTEXT(t.name) {
            chatwire::failure_info info;
            info.method = t.method;
            info.idempotent = t.idempotent;
            info.request_written = t.written;
            info.response_started = t.started;
            info.connection_reused = t.reused;
            info.delivered_to_user = t.delivered;
            chatwire::diagnostics diag;
            diag.http_status = t.status;
            diag.provider_code = t.code;
            chatwire::retry_policy policy;
            policy.retry_ambiguous = t.opt_in;
            const auto v = chatwire::classify(t.ec, info, diag, policy);
            BOOST_TEST(v.retry == t.retry);
            BOOST_TEST(std::string(chatwire::to_string(v.reason)) == chatwire::to_string(t.reason));
        }
    }
}

BOOST_AUTO_TEST_CASE(idempotent_methods) {
    for (verb m : {verb::get, verb::head, verb::options, verb::trace, verb::put, verb::delete_})
        BOOST_TEST(chatwire::is_idempotent(m));
    for (verb m : {verb::post, verb::patch, verb::connect}) BOOST_TEST(!chatwire::is_idempotent(m));
}

BOOST_AUTO_TEST_SUITE_END()
