// The exchange's decisions, without sockets: each case drives the machine
// through the outcomes a connection would report and checks the steps, the
// resend verdicts, the limits and the errors.
#include <boost/test/unit_test.hpp>

#include "../../src/http/exchange_machine.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <chrono>

using chatwire::errc;
using chatwire::error_code;
using chatwire::http::verb;
using chatwire::http::detail::deadline;
using chatwire::http::detail::exchange_machine;
using step = exchange_machine::step;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

chatwire::http::timeouts limits() {
    chatwire::http::timeouts t;
    t.idle = 30s;
    t.first_byte = 60s;
    return t;
}

exchange_machine make(verb method, bool whole = true) {
    return exchange_machine(method, whole, limits(), deadline(deadline::clock::time_point::max()));
}

// Takes a connection and sends the request.
void up_to_the_head(exchange_machine& m, bool reused) {
    BOOST_TEST_REQUIRE((m.next() == step::take_connection));
    m.connected(reused);
    BOOST_TEST_REQUIRE((m.next() == step::send_request));
    m.sent();
    BOOST_TEST_REQUIRE((m.next() == step::read_head));
}

const error_code clean_close = boost::beast::http::error::end_of_stream;
const error_code reset = asio::error::connection_reset;

} // namespace

BOOST_AUTO_TEST_SUITE(exchange_steps)

BOOST_AUTO_TEST_CASE(a_whole_answer_goes_through_every_step) {
    auto m = make(verb::get);
    BOOST_TEST(!m.fresh_only());
    up_to_the_head(m, false);
    BOOST_TEST(!m.head(200));
    BOOST_TEST((m.next() == step::read_body));
    m.body_done();
    BOOST_TEST((m.next() == step::deliver));
    BOOST_TEST(!m.error());
    BOOST_TEST(m.keep_connection(true, true));
    BOOST_TEST(!m.keep_connection(false, true));  // Connection: close
    BOOST_TEST(!m.keep_connection(true, false));  // bytes past the answer
    BOOST_TEST(m.info().request_written);
    BOOST_TEST(m.info().response_started);
    BOOST_TEST(!m.info().connection_reused);
}

BOOST_AUTO_TEST_CASE(a_streamed_answer_ends_at_its_head_and_its_connection_is_not_the_machines_to_keep) {
    auto m = make(verb::post, false);
    up_to_the_head(m, true);
    BOOST_TEST(!m.head(200));
    BOOST_TEST((m.next() == step::deliver));
    BOOST_TEST(!m.keep_connection(true, true));
    BOOST_TEST(m.info().connection_reused);
    BOOST_TEST(m.info().response_started);
}

BOOST_AUTO_TEST_CASE(interim_answers_are_skipped_up_to_a_bound) {
    auto m = make(verb::get);
    up_to_the_head(m, false);
    BOOST_TEST(m.head(100));
    BOOST_TEST(m.head(103));
    BOOST_TEST((m.next() == step::read_head));
    BOOST_TEST(m.info().response_started);
    BOOST_TEST(!m.head(101));  // Switching Protocols is final
    BOOST_TEST((m.next() == step::read_body));

    auto flood = make(verb::get);
    up_to_the_head(flood, false);
    for (int i = 0; i < exchange_machine::max_interim_answers; ++i) BOOST_TEST(flood.head(103));
    BOOST_TEST(!flood.head(103));
    BOOST_TEST((flood.next() == step::fail));
    BOOST_TEST(flood.error() == error_code(errc::bad_response));
}

BOOST_AUTO_TEST_CASE(bodiless_answers_have_no_framing_to_check) {
    auto get = make(verb::get);
    BOOST_TEST(get.framed_body(200));
    BOOST_TEST(get.framed_body(404));
    BOOST_TEST(!get.framed_body(204));
    BOOST_TEST(!get.framed_body(304));
    BOOST_TEST(!make(verb::head).framed_body(200));
}

BOOST_AUTO_TEST_CASE(a_refused_answer_fails_with_its_reason_and_is_not_resent) {
    auto m = make(verb::get);
    up_to_the_head(m, true);
    BOOST_TEST(!m.head(200));
    m.refuse(errc::unsupported_encoding, false);
    BOOST_TEST((m.next() == step::fail));
    BOOST_TEST(m.error() == error_code(errc::unsupported_encoding));
    BOOST_TEST(m.info().response_started);

    // A cancel seen with the head wins over the refusal.
    auto cancelled = make(verb::get);
    up_to_the_head(cancelled, false);
    BOOST_TEST(!cancelled.head(200));
    cancelled.refuse(errc::bad_response, true);
    BOOST_TEST(cancelled.error() == error_code(errc::cancelled));
}

BOOST_AUTO_TEST_CASE(no_connection_is_final_as_given) {
    auto m = make(verb::get);
    m.no_connection(errc::connect_timeout);
    BOOST_TEST((m.next() == step::fail));
    BOOST_TEST(m.error() == error_code(errc::connect_timeout));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exchange_resend)

// A pooled connection that turns out closed before any answer: sent again,
// once, on a new connection.
BOOST_AUTO_TEST_CASE(a_stale_pooled_connection_is_replaced_once) {
    for (verb method : {verb::get, verb::post}) {
        auto m = make(method);
        up_to_the_head(m, true);
        m.failed(clean_close, false, false);
        BOOST_TEST_REQUIRE((m.next() == step::take_connection));
        BOOST_TEST(m.fresh_only());
        BOOST_TEST(m.info().stale_resend == clean_close);
        BOOST_TEST(!m.info().request_written);  // the new attempt's own account
        // The second attempt fails the same way: no second resend.
        up_to_the_head(m, false);
        m.failed(clean_close, false, false);
        BOOST_TEST((m.next() == step::fail));
        BOOST_TEST(m.error() == clean_close);
    }
}

BOOST_AUTO_TEST_CASE(a_reset_after_the_request_left_is_resent_only_when_idempotent) {
    auto get = make(verb::get);
    up_to_the_head(get, true);
    get.failed(reset, false, false);
    BOOST_TEST((get.next() == step::take_connection));

    auto post = make(verb::post);
    up_to_the_head(post, true);
    post.failed(reset, false, false);
    BOOST_TEST((post.next() == step::fail));
    BOOST_TEST(post.error() == reset);

    // Before the request left, the server cannot have acted on it.
    auto unsent = make(verb::post);
    unsent.connected(true);
    unsent.failed(asio::error::broken_pipe, false, false);
    BOOST_TEST((unsent.next() == step::take_connection));
}

// An HTTP/2 stream reset before its answer is one request's connection reset:
// the same verdicts.
BOOST_AUTO_TEST_CASE(an_http2_stream_reset_before_the_answer_is_judged_as_a_connection_reset) {
    const error_code stream_reset = errc::stream_reset;
    auto get = make(verb::get);
    up_to_the_head(get, true);
    get.failed(stream_reset, false, false);
    BOOST_TEST((get.next() == step::take_connection));
    BOOST_TEST(get.fresh_only());

    auto post = make(verb::post);
    up_to_the_head(post, true);
    post.failed(stream_reset, false, false);
    BOOST_TEST((post.next() == step::fail));
    BOOST_TEST(post.error() == stream_reset);

    // After the head, the answer began: never.
    auto began = make(verb::get);
    up_to_the_head(began, true);
    began.failed(stream_reset, true, false);
    BOOST_TEST((began.next() == step::fail));
}

BOOST_AUTO_TEST_CASE(nothing_is_resent_that_a_new_connection_an_answer_or_a_cancel_rules_out) {
    auto fresh = make(verb::get);
    up_to_the_head(fresh, false);
    fresh.failed(clean_close, false, false);
    BOOST_TEST((fresh.next() == step::fail));

    auto answered = make(verb::get);
    up_to_the_head(answered, true);
    answered.failed(clean_close, true, false);
    BOOST_TEST((answered.next() == step::fail));

    auto interim = make(verb::get);
    up_to_the_head(interim, true);
    BOOST_TEST(interim.head(100));
    interim.failed(clean_close, false, false);
    BOOST_TEST((interim.next() == step::fail));

    auto cancelled = make(verb::get);
    up_to_the_head(cancelled, true);
    cancelled.failed(asio::error::operation_aborted, false, true);
    BOOST_TEST((cancelled.next() == step::fail));
    BOOST_TEST(cancelled.error() == error_code(errc::cancelled));

    // Any other failure is the caller's to judge.
    auto timed_out = make(verb::get);
    up_to_the_head(timed_out, true);
    timed_out.failed(asio::error::host_unreachable, false, false);
    BOOST_TEST((timed_out.next() == step::fail));
}

// HTTP/2: a stream the server refused or left above a GOAWAY's last id was not
// processed: sent again once whatever its method, then the call fails.
BOOST_AUTO_TEST_CASE(an_unprocessed_request_is_sent_again_once_whatever_its_method) {
    auto m = make(verb::post);
    up_to_the_head(m, false);
    m.unprocessed(errc::bad_response);
    BOOST_TEST_REQUIRE((m.next() == step::take_connection));
    BOOST_TEST(m.fresh_only());
    BOOST_TEST(m.info().stale_resend == error_code(errc::bad_response));
    up_to_the_head(m, false);
    m.unprocessed(errc::bad_response);
    BOOST_TEST((m.next() == step::fail));
    BOOST_TEST(m.error() == error_code(errc::bad_response));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exchange_limits)

// The head is bounded by the first-byte limit that started when the request
// left; interim answers do not restart it. The other steps have the idle limit.
BOOST_AUTO_TEST_CASE(each_step_is_bounded_by_its_own_limit) {
    auto m = make(verb::get);
    m.connected(false);
    const auto before_write = deadline::clock::now();
    const auto write_end = m.io_end();
    BOOST_TEST((write_end >= before_write + 30s && write_end <= deadline::clock::now() + 30s));
    m.sent();
    const auto head_end = m.io_end();
    BOOST_TEST((head_end >= before_write + 60s && head_end <= deadline::clock::now() + 60s));
    BOOST_TEST(m.head(103));
    BOOST_TEST((m.io_end() == head_end));  // not restarted
    m.failed(boost::beast::error::timeout, false, false);
    BOOST_TEST(m.error() == error_code(errc::first_byte_timeout));
}

BOOST_AUTO_TEST_CASE(the_calls_deadline_bounds_every_step_and_names_the_timeout) {
    const auto end = deadline::clock::now() + 5s;
    exchange_machine m(verb::get, true, limits(), deadline(end));
    m.connected(false);
    BOOST_TEST((m.io_end() == end));
    m.sent();
    BOOST_TEST((m.io_end() == end));
    m.failed(boost::beast::error::timeout, false, false);
    BOOST_TEST(m.error() == error_code(errc::total_timeout));

    auto idle = make(verb::get);
    up_to_the_head(idle, false);
    BOOST_TEST(!idle.head(200));
    (void)idle.io_end();
    idle.failed(boost::beast::error::timeout, true, false);
    BOOST_TEST(idle.error() == error_code(errc::idle_timeout));
}

BOOST_AUTO_TEST_CASE(a_cancel_between_steps_ends_the_call) {
    auto m = make(verb::get);
    up_to_the_head(m, true);
    m.cancelled();
    BOOST_TEST((m.next() == step::fail));
    BOOST_TEST(m.error() == error_code(errc::cancelled));
}

BOOST_AUTO_TEST_CASE(parser_limits_are_the_librarys_codes) {
    auto m = make(verb::get);
    up_to_the_head(m, false);
    m.failed(boost::beast::http::error::header_limit, true, false);
    BOOST_TEST(m.error() == error_code(errc::header_limit_exceeded));
}

BOOST_AUTO_TEST_SUITE_END()
