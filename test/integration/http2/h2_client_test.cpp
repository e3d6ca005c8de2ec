#define BOOST_TEST_MODULE integration_http2
#include <boost/test/unit_test.hpp>

// HTTP/2 end to end against the emulator: negotiated by ALPN without being
// asked, many calls multiplexed on few connections, streams and whole
// replies alike, prior knowledge in clear, and HTTP/1.1 when either side
// keeps to it.
#include "emulated.hpp"
#include "run_coro.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

namespace asio = boost::asio;
using chatwire::api_kind;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

chatwire::emulator::options with_http2(bool tls = true) {
    chatwire::emulator::options o;
    o.http2 = true;
    o.tls = tls;
    return o;
}

struct streamed {
    error_code end;
    std::string text;
    chatwire::diagnostics call;  ///< the call's: the connection it took
    chatwire::diagnostics diag;  ///< the stream's
};

asio::awaitable<streamed> stream_once(chatwire::chat_client& c, std::string msg) {
    streamed out;
    auto [ec, s] = co_await c.async_send(std::move(msg), "", out.call, tuple_awaitable);
    if (ec) {
        out.end = ec;
        out.diag = out.call;
        co_return out;
    }
    for (;;) {
        auto [nec, ev] = co_await s.async_next(tuple_awaitable);
        if (nec) {
            out.end = nec;
            break;
        }
        if (ev.kind == chatwire::event_kind::token) out.text.append(ev.text);
    }
    out.diag = s.get_diagnostics();
    co_return out;
}

// A streamed reply and a whole one for the same turn agree, over whichever
// protocol the two sides settle on; returns the version the calls used.
asio::awaitable<void> stream_and_whole(chatwire::chat_client& c, int expected_version) {
    auto s = co_await stream_once(c, "Where is my order?");
    BOOST_TEST_REQUIRE(s.end == error_code(errc::end_of_stream), s.end.message() << " " << s.diag.to_string());
    BOOST_TEST(s.call.http_version == expected_version);
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole("Where is my order?", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(diag.http_version == expected_version);
    BOOST_TEST(reply.text == s.text);
    BOOST_TEST(!s.text.empty());
}

void check_api(api_kind a) {
    chatwire::testing::emulated emu(with_http2());
    auto o = emu.chat_options_for(a);
    chatwire::chat_client c(emu.io.get_executor(), o);
    run_coro(emu.io, stream_and_whole(c, 20));
    const auto stats = c.pool_stats();
    BOOST_TEST(stats.http2_connections == 1u);  // both calls on one connection
    BOOST_TEST(stats.connections_opened == 1u);
}

} // namespace

BOOST_AUTO_TEST_CASE(vectorshift_over_h2) { check_api(api_kind::vectorshift); }
BOOST_AUTO_TEST_CASE(chatbotkit_over_h2) { check_api(api_kind::chatbotkit); }
BOOST_AUTO_TEST_CASE(pollybot_over_h2) { check_api(api_kind::pollybot); }

BOOST_AUTO_TEST_CASE(http1_when_the_client_asks_for_it_or_the_server_offers_nothing_else) {
    {
        chatwire::testing::emulated emu(with_http2());
        auto o = emu.chat_options_for(api_kind::pollybot);
        o.http.protocol = chatwire::http::protocol::http1;
        chatwire::chat_client c(emu.io.get_executor(), o);
        run_coro(emu.io, stream_and_whole(c, 11));
        BOOST_TEST(c.pool_stats().http2_connections == 0u);
    }
    {
        chatwire::testing::emulated emu;  // HTTP/1.1 only
        chatwire::chat_client c(emu.io.get_executor(), emu.chat_options_for(api_kind::pollybot));
        run_coro(emu.io, stream_and_whole(c, 11));
    }
}

BOOST_AUTO_TEST_CASE(prior_knowledge_in_clear) {
    chatwire::testing::emulated emu(with_http2(false));
    auto o = emu.chat_options_for(api_kind::chatbotkit);
    o.http.protocol = chatwire::http::protocol::http2;
    chatwire::chat_client c(emu.io.get_executor(), o);
    run_coro(emu.io, stream_and_whole(c, 20));
    // Without being told, a plain client speaks HTTP/1.1 to the same server.
    chatwire::chat_client plain(emu.io.get_executor(), emu.chat_options_for(api_kind::chatbotkit));
    run_coro(emu.io, stream_and_whole(plain, 11));
}

BOOST_AUTO_TEST_CASE(many_streams_share_few_connections) {
    chatwire::testing::emulated emu(with_http2());
    auto o = emu.chat_options_for(api_kind::pollybot);
    chatwire::chat_client c(emu.io.get_executor(), o);
    constexpr int calls = 250;
    int ended = 0, failed = 0;
    std::size_t peak_open = 0;
    auto one = [&]() -> asio::awaitable<void> {
        auto s = co_await stream_once(c, "hello");
        if (s.end == error_code(errc::end_of_stream) && !s.text.empty()) ++ended;
        else ++failed;
        peak_open = std::max(peak_open, c.pool_stats().http2_streams);
    };
    run_coro(emu.io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < calls; ++i) asio::co_spawn(emu.io, one(), asio::detached);
        while (ended + failed < calls) co_await chatwire::testing::sleep_for(std::chrono::milliseconds(5));
    }());
    BOOST_TEST(ended == calls);
    BOOST_TEST(failed == 0);
    const auto stats = c.pool_stats();
    // 250 streams at 100 a connection: 3 connections, not 250.
    BOOST_TEST(stats.connections_opened <= 3u, stats.connections_opened << " connections");
    BOOST_TEST(stats.http2_streams == 0u);
}
