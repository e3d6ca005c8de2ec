#include <boost/test/unit_test.hpp>

#include <chatwire/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <string>

using chatwire::errc;

BOOST_AUTO_TEST_CASE(error_codes_have_category_and_messages) {
    chatwire::error_code ec = errc::truncated_stream;
    BOOST_TEST(ec.category().name() == std::string("chatwire"));
    BOOST_TEST(ec.message() == "stream ended before its terminal event");
    BOOST_TEST(ec != chatwire::error_code(errc::end_of_stream));
    for (int v = 1; v <= static_cast<int>(errc::stream_reset); ++v) {
        auto m = chatwire::make_error_code(static_cast<errc>(v)).message();
        BOOST_TEST(m.find("unknown") == std::string::npos, "errc " << v << " has no message");
        BOOST_TEST(chatwire::errc_name(static_cast<errc>(v)) != "unknown", "errc " << v << " has no name");
    }
}

BOOST_AUTO_TEST_CASE(exception_carries_code_and_diagnostics) {
    chatwire::diagnostics d;
    d.http_status = 429;
    d.provider_code = "RATE_LIMIT_EXCEEDED";
    d.provider_message = "Rate limit exceeded. Please wait before sending another message.";
    d.retry_after = std::chrono::seconds(60);
    try {
        chatwire::throw_on_error(errc::rate_limited, d);
        BOOST_FAIL("no exception");
    } catch (const chatwire::error_with_diagnostics& e) {
        BOOST_TEST(e.code() == chatwire::error_code(errc::rate_limited));
        BOOST_TEST(e.get_diagnostics().provider_code == "RATE_LIMIT_EXCEEDED");
        BOOST_TEST(e.get_diagnostics().retry_after->count() == 60000);
        const std::string what = e.what();
        BOOST_TEST(what.find("RATE_LIMIT_EXCEEDED") != std::string::npos);
        BOOST_TEST(what.find("status=429") != std::string::npos);
    }
    BOOST_CHECK_NO_THROW(chatwire::throw_on_error({}, d));
}

BOOST_AUTO_TEST_CASE(http_status_mapping) {
    BOOST_TEST(chatwire::errc_from_http_status(401) == errc::unauthorized);
    BOOST_TEST(chatwire::errc_from_http_status(402) == errc::payment_required);
    BOOST_TEST(chatwire::errc_from_http_status(404) == errc::not_found);
    BOOST_TEST(chatwire::errc_from_http_status(429) == errc::rate_limited);
    BOOST_TEST(chatwire::errc_from_http_status(503) == errc::server_error);
    BOOST_TEST(chatwire::errc_from_http_status(418) == errc::http_error);
}

BOOST_AUTO_TEST_CASE(conditions_classify_chatwire_and_system_codes) {
    using chatwire::condition;
    using chatwire::error_code;
    namespace ae = boost::asio::error;
    BOOST_TEST((error_code(errc::rate_limited) == condition::retryable));
    BOOST_TEST((error_code(errc::rate_limited) == condition::rate_limited));
    BOOST_TEST((error_code(errc::quota_exceeded) == condition::rate_limited));
    BOOST_TEST((error_code(errc::quota_exceeded) != condition::retryable));  // waiting does not fix a quota
    BOOST_TEST((error_code(errc::payment_required) != condition::retryable));
    BOOST_TEST((error_code(errc::unauthorized) != condition::retryable));
    BOOST_TEST((error_code(errc::unauthorized) == condition::provider));
    BOOST_TEST((error_code(errc::server_error) == condition::retryable));
    BOOST_TEST((error_code(errc::server_error) == condition::provider));
    BOOST_TEST((error_code(errc::first_byte_timeout) == condition::timeout));
    BOOST_TEST((error_code(errc::first_byte_timeout) == condition::transport));
    BOOST_TEST((error_code(errc::total_timeout) != condition::retryable));  // no time is left
    BOOST_TEST((error_code(errc::cancelled) != condition::transport));
    BOOST_TEST((error_code(errc::invalid_argument) != condition::retryable));
    BOOST_TEST((error_code(errc::invalid_argument) != condition::provider));
    BOOST_TEST((error_code(ae::connection_refused) == condition::retryable));
    BOOST_TEST((error_code(ae::connection_reset) == condition::transport));
    BOOST_TEST((error_code(boost::asio::ssl::error::stream_truncated) == condition::retryable));
    BOOST_TEST((error_code(ae::host_not_found) == condition::transport));
    BOOST_TEST((error_code(ae::host_not_found) != condition::retryable));
    BOOST_TEST((error_code(ae::operation_aborted) != condition::transport));
    BOOST_TEST((error_code() != condition::transport));
    BOOST_TEST(chatwire::make_error_condition(condition::timeout).message() == "timed out");
}

BOOST_AUTO_TEST_CASE(http2_failures_are_transport_and_a_reset_stream_is_retryable) {
    using chatwire::condition;
    using chatwire::error_code;
    BOOST_TEST((error_code(errc::stream_reset) == condition::retryable));
    BOOST_TEST((error_code(errc::stream_reset) == condition::transport));
    BOOST_TEST((error_code(errc::stream_reset) != condition::provider));
    BOOST_TEST((error_code(errc::protocol_error) == condition::transport));
    BOOST_TEST((error_code(errc::protocol_error) != condition::retryable));
    BOOST_TEST(chatwire::errc_name(errc::protocol_error) == "protocol_error");
    chatwire::diagnostics d;
    BOOST_TEST(d.to_string().find("http2_error") == std::string::npos);
    d.http2_error = 7;
    BOOST_TEST(d.to_string() == "http2_error=7");
}

BOOST_AUTO_TEST_CASE(errc_names_are_the_enumerators) {
    BOOST_TEST(chatwire::errc_name(errc::rate_limited) == "rate_limited");
    BOOST_TEST(chatwire::errc_name(errc::unsupported_encoding) == "unsupported_encoding");
    BOOST_TEST(chatwire::errc_name(static_cast<errc>(999)) == "unknown");
}

BOOST_AUTO_TEST_CASE(malformed_answers_and_refused_input_are_classes_of_their_own) {
    using chatwire::condition;
    using chatwire::error_code;
    namespace bh = boost::beast::http;
    for (auto e : {errc::bad_response, errc::malformed_event, errc::event_too_large, errc::header_limit_exceeded,
                   errc::body_limit_exceeded, errc::reply_too_large, errc::unsupported_encoding,
                   errc::pagination_loop, errc::protocol_error}) {
        BOOST_TEST((error_code(e) == condition::malformed), chatwire::errc_name(e));
        BOOST_TEST((error_code(e) != condition::provider), chatwire::errc_name(e));
        BOOST_TEST((error_code(e) != condition::invalid_input), chatwire::errc_name(e));
    }
    // The parser's refusals are malformed answers; a cut is not.
    BOOST_TEST((error_code(bh::error::bad_chunk) == condition::malformed));
    BOOST_TEST((error_code(bh::error::header_limit) == condition::malformed));
    BOOST_TEST((error_code(bh::error::partial_message) != condition::malformed));
    BOOST_TEST((error_code(bh::error::end_of_stream) != condition::malformed));
    BOOST_TEST((error_code(boost::asio::error::connection_reset) != condition::malformed));
    for (auto e : {errc::invalid_argument, errc::invalid_url, errc::tls_setup_failed})
        BOOST_TEST((error_code(e) == condition::invalid_input), chatwire::errc_name(e));
    // Every code is in a failure class but a normal end, a cancel and a spent
    // budget; an answer of the service's is never refused input nor transport.
    for (int v = 1; v <= static_cast<int>(errc::stream_reset); ++v) {
        const error_code ec = static_cast<errc>(v);
        const bool any = ec == condition::provider || ec == condition::transport || ec == condition::malformed ||
                         ec == condition::invalid_input;
        const bool quiet = ec == errc::end_of_stream || ec == errc::page_limit_reached || ec == errc::cancelled ||
                           ec == errc::retry_budget_exhausted;
        BOOST_TEST(any != quiet, chatwire::errc_name(static_cast<errc>(v)));
        if (ec == condition::provider) BOOST_TEST((ec != condition::invalid_input && ec != condition::transport));
    }
    BOOST_TEST((error_code(boost::asio::error::host_not_found) != condition::invalid_input));
    BOOST_TEST(chatwire::make_error_condition(condition::malformed).message().find("unknown") == std::string::npos);
    BOOST_TEST(chatwire::make_error_condition(condition::invalid_input).message().find("unknown") == std::string::npos);
}
