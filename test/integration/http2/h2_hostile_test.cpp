// Hostile HTTP/2 servers over a real socket: each a bounded, typed failure,
// never a hang or a growing buffer. The byte-level cases (floods, CONTINUATION
// trains, oversized header lists, WINDOW_UPDATE overflow) are also checked
// sans-io in unit_http2; here the link's I/O carries them. Prior knowledge in
// clear, from a server that scripts every byte (raw_server), or the emulator
// with a setting no ordinary server uses.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "h2_frame.hpp"
#include "raw_server.hpp"
#include "run_coro.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace asio = boost::asio;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::h2_frame;
using chatwire::testing::run_coro;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

constexpr std::uint8_t settings_type = 0x4, ping_type = 0x6;

struct outcome {
    error_code ec;
    chatwire::diagnostics diag;
    std::chrono::milliseconds took{};
};

// One GET over prior-knowledge h2c, with short limits.
outcome get_from(chatwire::testing::raw_server& srv, asio::io_context& io,
                 std::chrono::milliseconds limit = 500ms) {
    chatwire::http::client_options o;
    o.protocol = chatwire::http::protocol::http2;
    o.timeouts.first_byte = limit;
    o.timeouts.idle = limit;
    chatwire::http::client c(io.get_executor(), o);
    outcome out;
    run_coro(io, [&]() -> asio::awaitable<void> {
        chatwire::http::request req;
        req.url = srv.url("/v1/hello");
        const auto start = std::chrono::steady_clock::now();
        auto [ec, res] = co_await c.async_request(std::move(req), out.diag, tuple_awaitable);
        out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        out.ec = ec;
    }());
    return out;
}

chatwire::testing::scripted_reply then_silence(std::string bytes) {
    chatwire::testing::scripted_reply r;
    if (!bytes.empty()) r.writes.push_back(std::move(bytes));
    r.hold_open = true;
    return r;
}

} // namespace

// The server takes the preface and says nothing, not even SETTINGS: the
// request's first-byte limit ends it.
BOOST_AUTO_TEST_CASE(a_server_that_never_sends_settings_times_out_typed) {
    asio::io_context io;
    chatwire::testing::raw_server srv(io, false, [](const auto&) { return then_silence(""); });
    const auto r = get_from(srv, io);
    BOOST_TEST(r.ec == error_code(errc::first_byte_timeout), r.ec.message() << " " << r.diag.to_string());
}

// An HTTP/1.1 answer to HTTP/2's preface is not HTTP/2: the connection fails.
BOOST_AUTO_TEST_CASE(bytes_that_are_not_http2_fail_typed) {
    asio::io_context io;
    chatwire::testing::raw_server srv(io, false, [](const auto&) {
        return then_silence("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    const auto r = get_from(srv, io);
    BOOST_TEST(r.ec == error_code(errc::protocol_error), r.ec.message() << " " << r.diag.to_string());
}

// PINGs by the thousand, and the server never reads the ACKs: the ACKs the
// client holds are bounded (nghttp2's outbound limit) and the connection
// ends with ENHANCE_YOUR_CALM, not at the first-byte limit.
BOOST_AUTO_TEST_CASE(a_ping_flood_from_a_server_that_does_not_read_ends_typed) {
    asio::io_context io;
    chatwire::testing::raw_server srv(io, false, [](const auto&) {
        chatwire::testing::scripted_reply r;
        r.writes.push_back(h2_frame(settings_type, 0, 0, ""));
        std::string batch;
        for (int i = 0; i < 512; ++i) batch += h2_frame(ping_type, 0, 0, "12345678");
        r.repeated = batch;
        r.repeat_count = 2048;  // a million PINGs, more than the socket buffers hold
        r.hold_open = true;
        return r;
    });
    // A first-byte limit a slow (sanitized) run of the flood stays far within.
    const auto r = get_from(srv, io, 20s * chatwire::testing::test_time_scale);
    BOOST_TEST(r.ec == error_code(errc::protocol_error), r.ec.message() << " " << r.diag.to_string());
    BOOST_TEST(r.diag.http2_error.value_or(0) == 0xbu);  // ENHANCE_YOUR_CALM
}

// SETTINGS_MAX_CONCURRENT_STREAMS 0: every stream is refused. The transport
// sends one again once elsewhere and then fails with the code: no loop of
// connections, whatever the server keeps saying.
BOOST_AUTO_TEST_CASE(a_server_that_takes_no_stream_fails_typed_after_one_resend) {
    chatwire::emulator::options eo;
    eo.http2 = true;
    eo.h2.max_concurrent_streams = 0;
    chatwire::testing::emulated emu(eo);
    auto o = emu.chat_options_for(chatwire::api_kind::pollybot);
    o.retry = chatwire::retry_policy::none();
    chatwire::chat_client c(emu.io.get_executor(), o);
    for (int call = 0; call < 3; ++call) {
        run_coro(emu.io, [&]() -> asio::awaitable<void> {
            chatwire::diagnostics diag;
            auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
            BOOST_TEST(ec == error_code(errc::stream_reset), ec.message() << " " << diag.to_string());
            BOOST_TEST(diag.http2_error.value_or(0) == 7u);  // REFUSED_STREAM
            BOOST_TEST(diag.attempts == 2);
        }());
    }
    // Two connections a call at most, and the useless ones do not pile up.
    const auto stats = c.pool_stats();
    BOOST_TEST(stats.connections_opened <= 6u);
    BOOST_TEST(stats.http2_connections <= 2u, stats.http2_connections << " open");
}

// The first connection's server opens its windows wide and then reads
// nothing: a large request body fills the socket and its write stalls. A
// call made meanwhile does not queue behind that write on the same
// connection: past timeouts::ping it goes to a new one, and gets its answer.
BOOST_AUTO_TEST_CASE(a_connection_whose_writes_stall_takes_no_new_request) {
    constexpr std::uint8_t headers_type = 0x1, window_update_type = 0x8;
    asio::io_context io;
    chatwire::testing::raw_server srv(io, false, [](const chatwire::testing::request_seen& r) {
        if (r.connection == 0) {
            // INITIAL_WINDOW_SIZE 2^31-1, and the connection's window as wide.
            std::string wide = h2_frame(settings_type, 0, 0, std::string("\x00\x04\x7f\xff\xff\xff", 6));
            wide += h2_frame(window_update_type, 0, 0, std::string("\x7f\xff\x00\x00", 4));
            auto r = then_silence(wide);
            r.hold_open = false;
            r.stop_reading = true;
            return r;
        }
        // Stream 1 answered 200 at once (HPACK: indexed ":status: 200"), no body.
        std::string answer = h2_frame(settings_type, 0, 0, "");
        answer += h2_frame(headers_type, 0x4 | 0x1, 1, "\x88");
        return then_silence(answer);
    });
    srv.limit_receive_buffer(4096);
    chatwire::http::client_options o;
    o.protocol = chatwire::http::protocol::http2;
    o.timeouts.first_byte = 5s * chatwire::testing::test_time_scale;  // the big call outlives the pause below
    o.timeouts.ping = 100ms;
    chatwire::http::client c(io.get_executor(), o);
    error_code big_end, small_end;
    unsigned small_status = 0;
    run_coro(io, [&]() -> asio::awaitable<void> {
        auto big = [&]() -> asio::awaitable<void> {
            chatwire::http::request req;
            req.method = chatwire::http::verb::post;
            req.url = srv.url("/v1/upload");
            req.body.assign(16u << 20, 'x');  // more than the socket buffers take
            chatwire::diagnostics diag;
            auto [ec, res] = co_await c.async_request(std::move(req), diag, tuple_awaitable);
            big_end = ec;
        };
        asio::co_spawn(io, big(), asio::detached);
        co_await chatwire::testing::sleep_for(1s * chatwire::testing::test_time_scale);  // the write has stalled by now
        chatwire::http::request req;
        req.url = srv.url("/v1/hello");
        chatwire::diagnostics diag;
        auto [ec, res] = co_await c.async_request(std::move(req), diag, tuple_awaitable);
        small_end = ec;
        small_status = res.status;
        while (!big_end) co_await chatwire::testing::sleep_for(20ms);
    }());
    BOOST_TEST(!small_end, small_end.message());
    BOOST_TEST(small_status == 200u);
    BOOST_TEST(srv.accepted() == 2);  // the second call on a connection of its own
    BOOST_TEST(big_end == error_code(errc::first_byte_timeout), big_end.message());
}
