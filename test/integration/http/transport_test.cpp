#define BOOST_TEST_MODULE integration_http
#include <boost/test/unit_test.hpp>

#include "http_fetch.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <fstream>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::http::client;
using chatwire::http::client_options;
using chatwire::http::request;
using chatwire::http::response;
using chatwire::testing::fetch;
using chatwire::testing::get;
using chatwire::testing::run_coro;
using chatwire::testing::sleep_for;
using chatwire::testing::test_server;
using chatwire::testing::trusting;
using chatwire::testing::tuple_awaitable;

namespace {

/// Polls until `pred` holds (the peer's side of a close is asynchronous), or
/// 20 s pass: a bound for a slow machine, as a passing run ends at once.
template <class Pred>
asio::awaitable<bool> eventually(Pred pred) {
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!pred() && std::chrono::steady_clock::now() < until) co_await sleep_for(10ms);
    co_return pred();
}

// ---- request and response, keep-alive, pool ------------------------------------

asio::awaitable<void> round_trip(test_server& server, client& c) {
    chatwire::diagnostics diag;
    request post;
    post.method = chatwire::http::verb::post;
    post.url = server.url("/echo?x=1");
    post.headers.set(chatwire::http::field::content_type, "application/json");
    post.body = R"({"hello":"world"})";
    auto [ec, res] = co_await fetch(c, std::move(post), diag);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(res.status == 200u);
    BOOST_TEST(diag.http_status == 200);
    BOOST_TEST(res.body == "POST /echo?x=1 host=127.0.0.1:" + std::to_string(server.port()) +
                               R"( body={"hello":"world"})");
    BOOST_TEST(std::string(res.headers[chatwire::http::field::content_type]) == "text/plain");
}

asio::awaitable<void> sequential_requests(test_server& server, client& c, int n) {
    for (int i = 0; i < n; ++i) {
        chatwire::diagnostics diag;
        auto [ec, res] = co_await fetch(c, get(server.url("/echo")), diag);
        BOOST_TEST_REQUIRE(!ec, ec.message());
        BOOST_TEST(res.status == 200u);
    }
}

// Interim 1xx answers are skipped, and the connection stays good for the next request.
asio::awaitable<void> interim_answers(test_server& server, client& c) {
    for (int i = 0; i < 2; ++i) {
        chatwire::diagnostics diag;
        auto [ec, res] = co_await fetch(c, get(server.url("/interim")), diag);
        BOOST_TEST_REQUIRE(!ec, ec.message());
        BOOST_TEST(res.status == 200u);
        BOOST_TEST(diag.http_status == 200);
        BOOST_TEST(res.body == "after interim");
        BOOST_TEST(res.headers.count("Link") == 0u);  // the hints' headers are not the answer's
    }
}

asio::awaitable<void> concurrent_stalls(test_server& server, client& c, int n) {
    int finished = 0, failed = 0;
    std::vector<chatwire::diagnostics> diags(static_cast<std::size_t>(n));
    for (auto& d : diags) {
        c.async_request(get(server.url("/stall?ms=100")), d, [&finished, &failed](error_code ec, response) {
            ++finished;
            if (ec) ++failed;
            if (ec) BOOST_TEST_MESSAGE("request failed: " << ec.message());
        });
    }
    for (int i = 0; i < 100 && finished < n; ++i) co_await sleep_for(50ms);
    BOOST_TEST(finished == n);
    BOOST_TEST(failed == 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(request_and_response_over_verified_tls) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor(), trusting(server));
    run_coro(io, round_trip(server, c));
}

BOOST_AUTO_TEST_CASE(request_and_response_over_plain_http) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, round_trip(server, c));
}

BOOST_AUTO_TEST_CASE(sequential_requests_reuse_one_connection) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor(), trusting(server));
    run_coro(io, sequential_requests(server, c, 10));
    BOOST_TEST(server.counters().accepted == 1);
    BOOST_TEST(server.counters().requests == 10);
    BOOST_TEST(c.stats().connections_opened == 1u);
    BOOST_TEST(c.stats().connections_reused == 9u);
    BOOST_TEST(c.stats().idle == 1u);
}

BOOST_AUTO_TEST_CASE(interim_1xx_answers_are_skipped) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, interim_answers(server, c));
    BOOST_TEST(server.counters().accepted == 1);
    BOOST_TEST(c.stats().connections_reused == 1u);
}

namespace {

// The second request finds the pooled connection closed by the server
// since: the check before reuse sees the close, and the request goes out on
// a new connection, never on the closed one.
asio::awaitable<void> reuse_after_server_close(test_server& server, client& c) {
    chatwire::diagnostics diag;
    auto [ec1, res1] = co_await fetch(c, get(server.url("/then-close")), diag);
    BOOST_TEST_REQUIRE(!ec1, ec1.message());
    BOOST_TEST(c.stats().idle == 1u);
    co_await eventually([&] { return server.counters().closed == 1; });
    auto [ec2, res2] = co_await fetch(c, get(server.url("/echo")), diag);
    BOOST_TEST_REQUIRE(!ec2, ec2.message());
    BOOST_TEST(res2.status == 200u);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_pooled_connection_the_server_closed_is_replaced_without_failing) {
    for (bool tls : {false, true}) {
        asio::io_context io;
        test_server server(io, {.tls = tls, .stall_handshake = false, .certificate = {}});
        client c(io.get_executor(), trusting(server));  // the check before reuse sees the close
        run_coro(io, reuse_after_server_close(server, c));
        BOOST_TEST(server.counters().accepted == 2);
        BOOST_TEST(server.counters().requests == 2);  // the request on the closed connection never arrived
        BOOST_TEST(c.stats().connections_opened == 2u);
    }
}

namespace {

// A clean close after an interim answer is not a stale pooled connection:
// the server read the request, so a POST is not sent again.
asio::awaitable<void> close_after_interim(test_server& server, client& c) {
    chatwire::diagnostics diag;
    auto [ec1, res1] = co_await fetch(c, get(server.url("/echo")), diag);
    BOOST_TEST_REQUIRE(!ec1, ec1.message());
    request post = get(server.url("/interim-then-close"));
    post.method = chatwire::http::verb::post;
    post.body = "once";
    auto [ec2, res2] = co_await fetch(c, std::move(post), diag);
    BOOST_TEST(ec2.failed());
    BOOST_TEST(c.stats().connections_reused == 1u);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_close_after_an_interim_answer_is_not_resent) {
    for (bool tls : {false, true}) {
        BOOST_TEST_CONTEXT((tls ? "https" : "http")) {
            asio::io_context io;
            test_server server(io, {.tls = tls, .stall_handshake = false, .certificate = {}});
            client c(io.get_executor(), trusting(server));
            run_coro(io, close_after_interim(server, c));
            BOOST_TEST(server.counters().requests == 2);  // the POST arrived once
            BOOST_TEST(server.counters().accepted == 1);
        }
    }
}

namespace {

// A POST on a pooled connection the server closed cleanly (its FIN came
// before the request) is sent again on a new connection: the server never saw
// it. Checked before reuse, it does not even fail once. (A reset
// after the request went out is not resent: see the fault matrix.)
asio::awaitable<void> post_after_server_close(test_server& server, client& c) {
    chatwire::diagnostics diag;
    auto [ec1, res1] = co_await fetch(c, get(server.url("/then-close")), diag);
    BOOST_TEST_REQUIRE(!ec1, ec1.message());
    co_await eventually([&] { return server.counters().closed == 1; });
    request post = get(server.url("/echo"));
    post.method = chatwire::http::verb::post;
    post.body = "once";
    auto [ec2, res2] = co_await fetch(c, std::move(post), diag);
    BOOST_TEST(!ec2, ec2.message());
    BOOST_TEST(res2.body.find("body=once") != std::string::npos);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_post_on_a_connection_the_server_closed_is_sent_once) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, post_after_server_close(server, c));
    BOOST_TEST(server.counters().requests == 2);
    BOOST_TEST(c.stats().connections_opened == 2u);
}

namespace {

// A HEAD answer's Content-Length announces a body that never comes.
asio::awaitable<void> head_then_get(test_server& server, client& c) {
    chatwire::diagnostics diag;
    request head = get(server.url("/echo"));
    head.method = chatwire::http::verb::head;
    auto [ec, res] = co_await fetch(c, std::move(head), diag);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(res.status == 200u);
    BOOST_TEST(res.body.empty());
    auto [ec2, res2] = co_await fetch(c, get(server.url("/echo")), diag);
    BOOST_TEST(!ec2, ec2.message());
}

} // namespace

BOOST_AUTO_TEST_CASE(a_head_answer_has_no_body_and_keeps_the_connection) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client_options o;
    o.timeouts.idle = 2s;  // without the fix, the read for the announced body would wait this long
    client c(io.get_executor(), o);
    run_coro(io, head_then_get(server, c));
    BOOST_TEST(c.stats().connections_opened == 1u);
}

BOOST_AUTO_TEST_CASE(tls_session_is_resumed_on_a_new_connection) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor(), trusting(server));
    run_coro(io, sequential_requests(server, c, 1));
    c.close_idle();
    run_coro(io, sequential_requests(server, c, 1));
    BOOST_TEST(server.counters().accepted == 2);
    BOOST_TEST(c.stats().tls_sessions_resumed == 1u);
}

namespace {

asio::awaitable<void> answers_and_closes(test_server& server, client& c, int n) {
    for (int i = 0; i < n; ++i) {
        chatwire::diagnostics diag;
        auto [ec, res] = co_await fetch(c, get(server.url("/answer-and-close")), diag);
        BOOST_TEST_REQUIRE(!ec, ec.message());
        BOOST_TEST(res.body == "bye");
    }
}

} // namespace

// A server that closes every connection after its answer: the session of a
// dropped connection is kept too, so each reconnect is resumed.
BOOST_AUTO_TEST_CASE(tls_session_is_resumed_after_a_server_close) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor(), trusting(server));
    run_coro(io, answers_and_closes(server, c, 3));
    BOOST_TEST(server.counters().accepted == 3);
    BOOST_TEST(c.stats().tls_sessions_resumed == 2u);
}

BOOST_AUTO_TEST_CASE(pool_caps_connections_per_origin) {
    asio::io_context io;
    test_server server(io);
    auto opts = trusting(server);
    opts.max_connections_per_origin = 2;
    client c(io.get_executor(), opts);
    run_coro(io, concurrent_stalls(server, c, 6));
    BOOST_TEST(server.counters().accepted == 2);
    BOOST_TEST(server.counters().requests == 6);
}

// ---- TLS verification ----------------------------------------------------------

namespace {

asio::awaitable<void> expect_tls_rejection(client& c, std::string url) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get(std::move(url)), diag);
    BOOST_TEST((ec.category() == asio::error::get_ssl_category()), ec.message());
    BOOST_TEST(diag.detail.find("certificate verification failed") != std::string::npos, diag.detail);
    BOOST_TEST(diag.http_status == 0);
}

asio::awaitable<void> expect_ok(client& c, std::string url) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get(std::move(url)), diag);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(res.status == 200u);
}

} // namespace

BOOST_AUTO_TEST_CASE(untrusted_certificate_is_rejected) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor());  // system CAs only
    run_coro(io, expect_tls_rejection(c, server.url("/echo")));
    BOOST_TEST(c.stats().open == 0u);
}

BOOST_AUTO_TEST_CASE(wrong_host_name_is_rejected) {
    asio::io_context io;
    test_server server(io, {.tls = true,
                            .stall_handshake = false,
                            .certificate = chatwire::emulator::make_self_signed({"other.example"})});
    client c(io.get_executor(), trusting(server));  // trusted, but names another host
    run_coro(io, expect_tls_rejection(c, server.url("/echo")));
    run_coro(io, expect_tls_rejection(c, "https://localhost:" + std::to_string(server.port()) + "/echo"));
}

BOOST_AUTO_TEST_CASE(host_name_and_ip_both_verified) {
    asio::io_context io;
    test_server server(io);  // certificate names 127.0.0.1 and localhost
    client c(io.get_executor(), trusting(server));
    run_coro(io, expect_ok(c, "https://localhost:" + std::to_string(server.port()) + "/echo"));
    run_coro(io, expect_ok(c, server.url("/echo")));
}

BOOST_AUTO_TEST_CASE(custom_ca_from_a_file_is_trusted) {
    asio::io_context io;
    test_server server(io);
    const std::string path = "transport_test_ca.pem";
    std::ofstream(path) << server.certificate_pem();
    client_options o;
    o.tls.extra_ca_file = path;
    client c(io.get_executor(), o);
    run_coro(io, expect_ok(c, server.url("/echo")));
    std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(unreadable_ca_file_is_a_setup_error) {
    asio::io_context io;
    client_options o;
    o.tls.extra_ca_file = "/nonexistent/ca.pem";
    client c(io.get_executor(), o);
    chatwire::diagnostics diag;
    error_code got;
    c.async_request(get("https://127.0.0.1:1/"), diag, [&](error_code ec, response) { got = ec; });
    io.run_for(5s);
    BOOST_TEST(got == error_code(errc::tls_setup_failed));
    BOOST_TEST(diag.detail.find("/nonexistent/ca.pem") != std::string::npos);
}

// ---- timeouts ------------------------------------------------------------------

namespace {

asio::awaitable<void> expect_error(client& c, std::string url, errc expected) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get(std::move(url)), diag);
    BOOST_TEST(ec == error_code(expected), "got " << ec.message());
}

} // namespace

BOOST_AUTO_TEST_CASE(connect_timeout_fires_on_a_stalled_handshake) {
    asio::io_context io;
    test_server server(io, {.tls = true, .stall_handshake = true, .certificate = {}});
    auto o = trusting(server);
    o.timeouts.connect = 200ms;
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/echo"), errc::connect_timeout));
    BOOST_TEST(c.stats().open == 0u);
}

BOOST_AUTO_TEST_CASE(first_byte_timeout_fires_on_a_slow_answer) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.first_byte = 200ms;
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/stall?ms=5000"), errc::first_byte_timeout));
}

BOOST_AUTO_TEST_CASE(idle_timeout_fires_between_body_bytes) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.idle = 200ms;
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/drip?bytes=5&ms=1000"), errc::idle_timeout));
}

BOOST_AUTO_TEST_CASE(total_timeout_bounds_a_steady_drip) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.idle = 2s;
    o.timeouts.total = 500ms;
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/drip?bytes=50&ms=50"), errc::total_timeout));
}

// The idle limit is one timer per connection that is re-armed only when it
// fires: a body whose gaps are each shorter than the limit, but which lasts
// several limits, must not be cut when the first expiry passes.
BOOST_AUTO_TEST_CASE(a_slow_body_within_the_idle_limit_outlasts_several_limits) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.idle = 1s;
    client c(io.get_executor(), o);
    run_coro(io, expect_ok(c, server.url("/drip?bytes=30&ms=100")));  // 3 s, gaps of 100 ms
}

// A connection back in the pool is bounded by nothing: the limit of its last
// request, still armed, must not close it while it waits for the next one.
namespace {

asio::awaitable<void> reuse_after_the_last_limit_passed(test_server& server, client& c) {
    co_await expect_ok(c, server.url("/echo"));
    co_await sleep_for(1500ms);  // past the idle and first-byte limits of the first request
    co_await expect_ok(c, server.url("/echo"));
    BOOST_TEST(c.stats().connections_opened == 1u);
    BOOST_TEST(c.stats().connections_reused == 1u);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_pooled_connection_outlives_the_limits_of_its_last_request) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.idle = 1s;
    o.timeouts.first_byte = 1s;
    client c(io.get_executor(), o);
    run_coro(io, reuse_after_the_last_limit_passed(server, c));
}

BOOST_AUTO_TEST_CASE(interim_answers_neither_restart_the_first_byte_limit_nor_go_on_for_ever) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    auto o = client_options{};
    o.timeouts.first_byte = 1500ms;
    client c(io.get_executor(), o);
    // Each answer alone comes in time, all together do not.
    run_coro(io, expect_error(c, server.url("/interim-flood?n=5&ms=500"), errc::first_byte_timeout));
    run_coro(io, expect_error(c, server.url("/interim-flood?n=100"), errc::bad_response));
    run_coro(io, expect_ok(c, server.url("/interim-flood?n=3")));
}

BOOST_AUTO_TEST_CASE(a_whole_call_has_a_deadline_by_default) {
    BOOST_TEST(client_options{}.timeouts.total.count() == 0);
    BOOST_TEST(client_options{}.timeouts.whole_call == std::chrono::milliseconds(600'000));
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.idle = 2s;
    o.timeouts.whole_call = 400ms;  // the default is 600 s: shortened to keep the test quick
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/drip?bytes=50&ms=50"), errc::total_timeout));
}

namespace {

asio::awaitable<void> wait_for_a_slot(test_server& server, client& c) {
    chatwire::diagnostics d1;
    bool first_done = false;
    c.async_request(get(server.url("/stall?ms=3000")), d1, [&first_done](error_code, response) { first_done = true; });
    co_await sleep_for(50ms);
    const auto start = std::chrono::steady_clock::now();
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get(server.url("/echo")), diag);
    const auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST(ec == error_code(errc::connect_timeout), ec.message());
    BOOST_TEST(diag.detail.find("no connection became free") != std::string::npos, diag.detail);
    BOOST_TEST(diag.connection_wait >= std::chrono::milliseconds(250));
    // It gave up while the only connection was still busy, not when it came free.
    BOOST_TEST(!first_done, "waited " << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms");
}

} // namespace

BOOST_AUTO_TEST_CASE(the_wait_for_a_free_connection_is_bounded_without_a_total_deadline) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    auto o = client_options{};
    o.max_connections_per_origin = 1;
    o.timeouts.connect = 300ms;
    client c(io.get_executor(), o);
    run_coro(io, wait_for_a_slot(server, c));
}

// ---- cancellation --------------------------------------------------------------

namespace {

asio::awaitable<void> cancel_midway(test_server& server, client& c) {
    asio::cancellation_signal signal;
    chatwire::diagnostics diag;
    error_code got;
    bool done = false;
    c.async_request(get(server.url("/stall?ms=5000")), diag,
                    asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, response) {
                        got = ec;
                        done = true;
                    }));
    co_await sleep_for(150ms);
    BOOST_TEST(c.stats().open == 1u);
    signal.emit(asio::cancellation_type::terminal);
    BOOST_TEST(co_await eventually([&] { return done; }));
    BOOST_TEST(got == error_code(errc::cancelled), got.message());
    BOOST_TEST(c.stats().open == 0u);
    BOOST_TEST(c.stats().idle == 0u);
    // The server sees the connection go away long before its 5 s stall ends.
    BOOST_TEST(co_await eventually([&] { return server.counters().closed == 1; }));
}

} // namespace

BOOST_AUTO_TEST_CASE(cancellation_closes_and_frees_the_connection) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor(), trusting(server));
    run_coro(io, cancel_midway(server, c));
}

// ---- limits --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(header_limit_gives_its_error) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.limits.max_header_bytes = 4096;
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/bigheader?bytes=20000"), errc::header_limit_exceeded));
}

BOOST_AUTO_TEST_CASE(body_limit_gives_its_error) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.limits.max_body_bytes = 64 * 1024;
    client c(io.get_executor(), o);
    run_coro(io, expect_error(c, server.url("/big?bytes=100000"), errc::body_limit_exceeded));
    run_coro(io, expect_ok(c, server.url("/big?bytes=60000")));
}

// ---- input checks --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_urls_and_header_injection_are_refused_before_sending) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, expect_error(c, "ftp://127.0.0.1/x", errc::invalid_url));
    run_coro(io, expect_error(c, "http://user:secret@127.0.0.1/x", errc::invalid_url));
    run_coro(io, expect_error(c, "not a url", errc::invalid_url));
    request r = get(server.url("/echo"));
    r.headers.set("X-Evil", "a\r\nX-Injected: 1");
    chatwire::diagnostics diag;
    error_code got;
    c.async_request(std::move(r), diag, [&](error_code ec, response) { got = ec; });
    io.run_for(2s);
    BOOST_TEST(got == error_code(errc::invalid_argument));
    BOOST_TEST(server.counters().accepted == 0);
}

namespace {

// The whole host is a name here, whatever it starts with: it must be looked
// up (and, being under .invalid, not found), never taken as 127.0.0.1.
asio::awaitable<void> expect_unresolved(client& c, std::string url, std::string host) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get(std::move(url)), diag);
    BOOST_TEST(ec == error_code(asio::error::host_not_found), "got " << ec.message());
    BOOST_TEST(diag.detail == "cannot resolve " + host, diag.detail);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_host_that_starts_like_an_ip_literal_is_resolved_as_a_name) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    const auto port = std::to_string(server.port());
    run_coro(io, expect_unresolved(c, "http://127.0.0.1.attacker.invalid:" + port + "/x",
                                   "127.0.0.1.attacker.invalid"));
    run_coro(io, expect_unresolved(c, "http://127.0.0.1.attacker.invalid:" + port, "127.0.0.1.attacker.invalid"));
    run_coro(io, expect_unresolved(c, "https://127.0.0.1.x.invalid", "127.0.0.1.x.invalid"));
    BOOST_TEST(server.counters().accepted == 0);
    BOOST_TEST(c.stats().connections_opened == 0u);
}

// ---- throwing overload ---------------------------------------------------------

namespace {

asio::awaitable<void> throwing_overload(test_server& server, client& c) {
    auto res = co_await c.async_request(get(server.url("/echo")), asio::use_awaitable);
    BOOST_TEST(res.status == 200u);
    auto o = c.options();
    try {
        co_await c.async_request(get("https://127.0.0.1:1/"), asio::use_awaitable);
        BOOST_FAIL("expected an exception");
    } catch (const chatwire::error_with_diagnostics& e) {
        BOOST_TEST(e.code() == error_code(asio::error::connection_refused));
        BOOST_TEST(e.get_diagnostics().detail.find("cannot connect") != std::string::npos);
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(throwing_overload_raises_error_with_diagnostics) {
    asio::io_context io;
    test_server server(io);
    client c(io.get_executor(), trusting(server));
    run_coro(io, throwing_overload(server, c));
}
