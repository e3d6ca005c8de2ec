// client_options::max_concurrent_handshakes: TLS connections past the limit
// wait their turn for a handshake slot, bounded by the connect limit and by
// cancellation, and every slot comes back whatever way its connection ended.
// The clients keep to HTTP/1.1: offered h2, a burst to an origin whose
// protocol is not yet known waits for its first connection instead of
// opening one per call (that case is in integration_http2).
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "http_fetch.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/emulator/certificate.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::http::client;
using chatwire::http::request;
using chatwire::http::response;
using chatwire::testing::fetch;
using chatwire::testing::get;
using chatwire::testing::run_coro;
using chatwire::testing::sleep_for;
using chatwire::testing::test_server;
using chatwire::testing::trusting;

namespace {

request pollybot_stream(const chatwire::testing::emulated& emu, int i) {
    request r;
    r.method = chatwire::http::verb::post;
    r.url = emu.server.base_url() + "/api/v1/chatbots/support-bot/chat";
    r.headers.set(chatwire::http::field::authorization, "Bearer test-key");
    r.headers.set(chatwire::http::field::content_type, "application/json");
    r.body = R"({"message":"question )" + std::to_string(i) + R"(","stream":true})";
    return r;
}

/// Starts `n` PollyBot streams at once (whole requests) and runs until all ended.
/// Returns how many were answered with events; adds up their connection waits.
int streams_at_once(chatwire::testing::emulated& emu, client& c, int n, std::chrono::microseconds& waited) {
    int answered = 0, finished = 0;
    for (int i = 0; i < n; ++i) {
        auto diag = std::make_shared<chatwire::diagnostics>();
        c.async_request(pollybot_stream(emu, i), *diag, [&, diag](error_code ec, response res) {
            ++finished;
            waited += diag->connection_wait;
            BOOST_TEST(!ec, ec.message() << " " << diag->to_string());
            if (!ec && res.status == 200u && res.body.find("data:") != std::string::npos) ++answered;
        });
    }
    auto all = [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3000 && finished < n; ++i) co_await sleep_for(10ms);
    };
    run_coro(emu.io, all());
    BOOST_TEST(finished == n);
    return answered;
}

chatwire::emulator::options paced() {
    chatwire::emulator::options eo;
    eo.token_delay = 5ms;  // the streams stay open a while
    return eo;
}

/// Polls until `done` or a few seconds pass.
asio::awaitable<bool> until(const bool& done) {
    for (int i = 0; i < 500 && !done; ++i) co_await sleep_for(10ms);
    co_return done;
}

} // namespace

// 40 PollyBot streams at once over TLS, 4 handshakes at a time: all answered.
BOOST_AUTO_TEST_CASE(concurrent_tls_streams_take_turns_for_handshakes) {
    chatwire::testing::emulated emu(paced());
    auto o = emu.http();
    o.max_concurrent_handshakes = 4;
    o.protocol = chatwire::http::protocol::http1;  // one connection per call (see above)
    client c(emu.io.get_executor(), o);
    constexpr int n = 40;
    std::chrono::microseconds waited{0};
    BOOST_TEST(streams_at_once(emu, c, n, waited) == n);
    const auto s = c.stats();
    BOOST_TEST(s.connections_opened == std::size_t(n));  // all began before any handshake ended
    BOOST_TEST(s.peak_concurrent_handshakes > 0u);
    BOOST_TEST(s.peak_concurrent_handshakes <= 4u);
    BOOST_TEST(s.handshakes_waited > 0u);
    BOOST_TEST(waited.count() > 0);
}

// 0 is no limit (64 by default): nobody waits for a handshake.
BOOST_AUTO_TEST_CASE(a_zero_handshake_limit_lets_all_run_at_once) {
    BOOST_TEST(chatwire::http::client_options{}.max_concurrent_handshakes == 64u);
    chatwire::testing::emulated emu(paced());
    auto o = emu.http();
    o.max_concurrent_handshakes = 0;
    o.protocol = chatwire::http::protocol::http1;  // one connection per call (see above)
    client c(emu.io.get_executor(), o);
    constexpr int n = 10;
    std::chrono::microseconds waited{0};
    BOOST_TEST(streams_at_once(emu, c, n, waited) == n);
    const auto s = c.stats();
    BOOST_TEST(s.handshakes_waited == 0u);
    BOOST_TEST(s.peak_concurrent_handshakes > 1u);
    BOOST_TEST(waited.count() == 0);
}

// Limit 1, a server that never answers the handshake: the second connection
// waits for the slot, and its connect limit covers the wait and what follows.
BOOST_AUTO_TEST_CASE(a_wait_for_a_handshake_slot_ends_at_the_connect_limit) {
    asio::io_context io;
    test_server server(io, {.tls = true, .stall_handshake = true, .certificate = {}});
    auto o = trusting(server);
    o.max_concurrent_handshakes = 1;
    o.protocol = chatwire::http::protocol::http1;  // one connection per call (see above)
    o.timeouts.connect = 1s;
    client c(io.get_executor(), o);
    auto body = [&]() -> asio::awaitable<void> {
        chatwire::diagnostics first_diag;
        error_code first;
        bool first_done = false;
        c.async_request(get(server.url("/echo")), first_diag, [&](error_code ec, response) {
            first = ec;
            first_done = true;
        });
        co_await sleep_for(50ms);
        BOOST_TEST(c.stats().peak_concurrent_handshakes == 1u);
        const auto start = std::chrono::steady_clock::now();
        chatwire::diagnostics diag;
        auto [ec, res] = co_await fetch(c, get(server.url("/echo")), diag);
        const auto took = std::chrono::steady_clock::now() - start;
        BOOST_TEST(ec == error_code(errc::connect_timeout), ec.message());
        BOOST_TEST(diag.connection_wait > 0us);
        // Had the limit started after the wait, the call would have lasted the
        // wait plus a whole limit: compared with the wait measured, not a clock.
        BOOST_TEST(took < diag.connection_wait + o.timeouts.connect);
        BOOST_TEST(co_await until(first_done));
        BOOST_TEST(first == error_code(errc::connect_timeout), first.message());
    };
    run_coro(io, body());
    const auto s = c.stats();
    BOOST_TEST(s.handshakes_waited == 1u);
    BOOST_TEST(s.peak_concurrent_handshakes == 1u);
    BOOST_TEST(s.open == 0u);
}

// The wait's own expiry: the waiter's deadline (a whole call's) comes before
// the holder's connect limit, so the wait itself ends, with a detail saying why.
BOOST_AUTO_TEST_CASE(a_handshake_slot_waiter_times_out_while_the_slot_is_held) {
    asio::io_context io;
    test_server server(io, {.tls = true, .stall_handshake = true, .certificate = {}});
    auto o = trusting(server);
    o.max_concurrent_handshakes = 1;
    o.protocol = chatwire::http::protocol::http1;  // one connection per call (see above)
    o.timeouts.connect = 10s;
    o.timeouts.whole_call = 300ms;  // bounds whole calls only, not the stream below
    client c(io.get_executor(), o);
    auto body = [&]() -> asio::awaitable<void> {
        asio::cancellation_signal cancel_holder;
        chatwire::diagnostics holder_diag;
        error_code holder;
        bool holder_done = false;
        c.async_open(get(server.url("/echo")), holder_diag,
                     asio::bind_cancellation_slot(cancel_holder.slot(), [&](error_code ec, chatwire::http::body_stream) {
                         holder = ec;
                         holder_done = true;
                     }));
        co_await sleep_for(50ms);
        chatwire::diagnostics diag;
        auto [ec, res] = co_await fetch(c, get(server.url("/echo")), diag);
        BOOST_TEST(ec == error_code(errc::total_timeout), ec.message());
        BOOST_TEST(diag.detail.find("max_concurrent_handshakes") != std::string::npos, diag.detail);
        BOOST_TEST(diag.connection_wait > 0us);
        BOOST_TEST(!holder_done);  // the slot was held all along
        cancel_holder.emit(asio::cancellation_type::terminal);
        BOOST_TEST(co_await until(holder_done));
        BOOST_TEST(holder == error_code(errc::cancelled), holder.message());
    };
    run_coro(io, body());
    BOOST_TEST(c.stats().open == 0u);
}

// A cancelled waiter reports cancelled at once; then, the holder cancelled too,
// the slot is free again: a request to a server that answers goes through.
BOOST_AUTO_TEST_CASE(a_cancelled_handshake_slot_waiter_reports_cancelled_and_slots_come_back) {
    asio::io_context io;
    const auto cert = chatwire::emulator::make_self_signed({"127.0.0.1", "localhost"});
    test_server stalled(io, {.tls = true, .stall_handshake = true, .certificate = cert});
    test_server answering(io, {.tls = true, .stall_handshake = false, .certificate = cert});
    auto o = trusting(stalled);
    o.max_concurrent_handshakes = 1;
    o.protocol = chatwire::http::protocol::http1;  // one connection per call (see above)
    o.timeouts.connect = 10s;
    client c(io.get_executor(), o);
    auto body = [&]() -> asio::awaitable<void> {
        struct call {
            asio::cancellation_signal cancel;
            chatwire::diagnostics diag;
            error_code ec;
            bool done = false;
        };
        call holder, waiter;
        for (call* k : {&holder, &waiter}) {
            c.async_request(get(stalled.url("/echo")), k->diag,
                            asio::bind_cancellation_slot(k->cancel.slot(), [k](error_code ec, response) {
                                k->ec = ec;
                                k->done = true;
                            }));
            co_await sleep_for(50ms);
        }
        BOOST_TEST(c.stats().handshakes_waited == 1u);
        waiter.cancel.emit(asio::cancellation_type::terminal);
        BOOST_TEST(co_await until(waiter.done));
        BOOST_TEST(waiter.ec == error_code(errc::cancelled), waiter.ec.message());
        BOOST_TEST(!holder.done);
        holder.cancel.emit(asio::cancellation_type::terminal);
        BOOST_TEST(co_await until(holder.done));
        BOOST_TEST(holder.ec == error_code(errc::cancelled), holder.ec.message());

        chatwire::diagnostics diag;
        auto [ec, res] = co_await fetch(c, get(answering.url("/echo")), diag);
        BOOST_TEST(!ec, ec.message() << " " << diag.to_string());
        BOOST_TEST(res.status == 200u);
        BOOST_TEST(diag.connection_wait == 0us);  // the slot was free: no wait
    };
    run_coro(io, body());
    const auto s = c.stats();
    BOOST_TEST(s.handshakes_waited == 1u);
    BOOST_TEST(s.peak_concurrent_handshakes == 1u);
}
