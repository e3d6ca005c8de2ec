// chat_stream over real bodies: framing variants, cancellation, close.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/chat_stream.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <tuple>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;
using chatwire::testing::sleep_for;
using chatwire::testing::test_server;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

/// `body` streamed back by the test server, `piece` bytes per chunk.
asio::awaitable<chatwire::http::body_stream> open_mirrored(chatwire::http::client& http, test_server& server,
                                                           std::string body, std::size_t piece) {
    chatwire::diagnostics diag;
    chatwire::http::request r;
    r.method = chatwire::http::verb::post;
    r.url = server.url("/mirror?piece=" + std::to_string(piece));
    r.body = std::move(body);
    auto [ec, bs] = co_await http.async_open(std::move(r), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    co_return std::move(bs);
}

/// Streams `body` back from the test server and decodes it as `format`, with
/// async_next alone or draining buffered events with try_next first.
asio::awaitable<void> decode_mirrored(chatwire::http::client& http, test_server& server, std::string body,
                                      chatwire::stream_format format, std::string expected_text, int piece,
                                      bool drain_with_try_next) {
    auto bs = co_await open_mirrored(http, server, std::move(body), static_cast<std::size_t>(piece));
    chatwire::chat_stream s(http.get_executor(), std::move(bs), format);
    std::string text;
    error_code end;
    int kept_without_read = 0;
    for (;;) {
        error_code nec;
        chatwire::event ev;
        if (drain_with_try_next && s.try_next(nec, ev)) ++kept_without_read;
        else std::tie(nec, ev) = co_await s.async_next(tuple_awaitable);
        if (nec) {
            end = nec;
            break;
        }
        if (ev.kind == chatwire::event_kind::token) text.append(ev.text);
    }
    BOOST_TEST(end == error_code(errc::end_of_stream), end.message());
    BOOST_TEST(text == expected_text);
    BOOST_TEST(s.conversation_id() == "conv-1");
    // Whole bodies in one piece leave events buffered after the first read.
    if (drain_with_try_next && piece == 4096) BOOST_TEST(kept_without_read >= 2);
    // After the end, try_next keeps answering with it.
    error_code again;
    chatwire::event none;
    BOOST_TEST(s.try_next(again, none));
    BOOST_TEST(again == error_code(errc::end_of_stream));
}

/// A PollyBot body of `n` tokens, one event per chunk, all received before
/// the first read.
asio::awaitable<chatwire::chat_stream> open_received(chatwire::http::client& http, test_server& server, int n) {
    const std::string token_event = R"(data: {"type":"token","content":"ab"})" "\n\n";
    std::string body;
    for (int i = 0; i < n; ++i) body += token_event;
    body += "data: {\"type\":\"done\",\"conversationId\":\"conv-1\"}\n\n";
    auto bs = co_await open_mirrored(http, server, std::move(body), token_event.size());
    co_await sleep_for(100ms);
    co_return chatwire::chat_stream(http.get_executor(), std::move(bs), chatwire::stream_format::pollybot_sse);
}

// try_next goes on into the pieces already in the connection's buffer.
asio::awaitable<void> try_next_takes_received_pieces(chatwire::http::client& http, test_server& server) {
    auto s = co_await open_received(http, server, 20);
    int through_try_next = 0, through_async_next = 0;
    std::string text;
    for (;;) {
        error_code ec;
        chatwire::event ev;
        if (s.try_next(ec, ev)) {
            ++through_try_next;
        } else {
            ++through_async_next;
            std::tie(ec, ev) = co_await s.async_next(tuple_awaitable);
        }
        if (ec) {
            BOOST_TEST(ec == error_code(errc::end_of_stream), ec.message());
            break;
        }
        if (ev.kind == chatwire::event_kind::token) text.append(ev.text);
    }
    std::string expected;
    for (int i = 0; i < 20; ++i) expected += "ab";
    BOOST_TEST(text == expected);
    BOOST_TEST(through_async_next == 1);  // the first read brought the whole body
    BOOST_TEST(through_try_next == 21);   // 19 tokens, done, the end
}

// An event already decoded completes later: closing the stream first turns
// it into a cancellation.
asio::awaitable<void> close_before_completion(chatwire::http::client& http, test_server& server) {
    auto s = co_await open_received(http, server, 20);
    auto [first, ev] = co_await s.async_next(tuple_awaitable);
    BOOST_TEST_REQUIRE(!first);
    error_code late = errc::http_error;
    std::string late_text = "unset";
    bool done = false;
    s.async_next([&](error_code ec, chatwire::event e) {
        late = ec;
        late_text.assign(e.text);
        done = true;
    });
    s.close();
    for (int i = 0; i < 100 && !done; ++i) co_await sleep_for(10ms);
    BOOST_TEST(done);
    BOOST_TEST(late == error_code(errc::cancelled), late.message());
    BOOST_TEST(late_text.empty());
}

// next(): the documented loop, the same events as async_next.
asio::awaitable<void> next_awaitable(chatwire::http::client& http, test_server& server) {
    auto s = co_await open_received(http, server, 20);
    std::string text;
    int events = 0;
    for (;;) {
        auto [ec, ev] = co_await s.next();
        if (ec) {
            BOOST_TEST(ec == error_code(errc::end_of_stream), ec.message());
            break;
        }
        ++events;
        if (ev.kind == chatwire::event_kind::token) text.append(ev.text);
    }
    BOOST_TEST(events == 21);
    std::string expected;
    for (int i = 0; i < 20; ++i) expected += "ab";
    BOOST_TEST(text == expected);
    auto [again, none] = co_await s.next();
    BOOST_TEST(again == error_code(errc::end_of_stream));
}

// A compressed body is its own error, not a truncated stream.
asio::awaitable<void> compressed(chatwire::http::client& http, test_server& server) {
    chatwire::diagnostics diag;
    chatwire::http::request r;
    r.url = server.url("/encoded");
    auto [oec, bs] = co_await http.async_open(std::move(r), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!oec, oec.message());
    chatwire::chat_stream s(http.get_executor(), std::move(bs), chatwire::stream_format::pollybot_sse);
    auto [ec, ev] = co_await s.next();
    BOOST_TEST(ec == error_code(errc::unsupported_encoding), ec.message());
    BOOST_TEST(s.get_diagnostics().detail == "Content-Encoding: gzip");
}

} // namespace

BOOST_AUTO_TEST_CASE(next_awaitable_gives_the_events_and_refuses_compressed_bodies) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    chatwire::http::client http(io.get_executor());
    run_coro(io, next_awaitable(http, server));
    run_coro(io, compressed(http, server));
}

BOOST_AUTO_TEST_CASE(try_next_drains_what_has_arrived_and_close_cancels_a_posted_event) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    chatwire::http::client http(io.get_executor());
    run_coro(io, try_next_takes_received_pieces(http, server));
    run_coro(io, close_before_completion(http, server));
}

BOOST_AUTO_TEST_CASE(vectorshift_streams_in_every_framing_give_the_same_text) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    chatwire::http::client http(io.get_executor());
    const std::string expected = "Hello, \"world\" — ünïcode\nnext";
    const std::string cumulative_sse =
        "data: {\"output\":\"Hello,\",\"conversation_id\":\"conv-1\"}\n\n"
        "data: {\"output\":\"Hello, \\\"world\\\"\",\"conversation_id\":\"conv-1\"}\n\n"
        "data: {\"output\":\"Hello, \\\"world\\\" — ünïcode\\nnext\",\"conversation_id\":\"conv-1\"}\n\n";
    const std::string chunked_sse_crlf =
        "data: {\"output\":\"Hello,\",\"conversation_id\":\"conv-1\"}\r\n\r\n"
        "data: {\"output\":\" \\\"world\\\"\",\"conversation_id\":\"conv-1\"}\r\n\r\n"
        "data: {\"output\":\" — ünïcode\\nnext\",\"conversation_id\":\"conv-1\"}\r\n\r\n";
    const std::string bare_lines =
        "{\"output\":\"Hello,\",\"conversation_id\":\"conv-1\"}\n"
        "{\"output\":\"Hello, \\\"world\\\"\",\"conversation_id\":\"conv-1\"}\n"
        "{\"output\":\"Hello, \\\"world\\\" — ünïcode\\nnext\",\"conversation_id\":\"conv-1\"}\n";
    for (bool try_next : {false, true}) {
        for (int piece : {1, 7, 4096}) {
            const auto format = chatwire::stream_format::vectorshift_sse;
            run_coro(io, decode_mirrored(http, server, cumulative_sse, format, expected, piece, try_next));
            run_coro(io, decode_mirrored(http, server, chunked_sse_crlf, format, expected, piece, try_next));
            run_coro(io, decode_mirrored(http, server, bare_lines, format, expected, piece, try_next));
        }
    }
}

namespace {

asio::awaitable<void> cancel_after_first_token(chatwire::chat_client& c, chatwire::emulator::server& emu) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send("tell me everything", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    std::string before;
    for (;;) {
        auto [nec, ev] = co_await s.async_next(tuple_awaitable);
        BOOST_TEST_REQUIRE(!nec, nec.message());
        if (ev.kind == chatwire::event_kind::token) {
            before.assign(ev.text);
            break;
        }
    }
    // The next event is 300 ms away: cancel the wait for it.
    asio::cancellation_signal signal;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(50ms);
    timer.async_wait([&signal](error_code) { signal.emit(asio::cancellation_type::terminal); });
    auto [cec, ev] = co_await s.async_next(asio::bind_cancellation_slot(signal.slot(), tuple_awaitable));
    BOOST_TEST(cec == error_code(errc::cancelled), cec.message());
    BOOST_TEST(std::string(s.text_so_far()) == before);  // what arrived is kept
    auto [again, ev2] = co_await s.async_next(tuple_awaitable);
    BOOST_TEST(again == error_code(errc::cancelled));
    (void)emu;
}

asio::awaitable<void> one_read_at_a_time(chatwire::chat_client& c) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send("hello", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    error_code first = errc::http_error;
    bool first_done = false;
    s.async_next([&](error_code e, chatwire::event) {
        first = e;
        first_done = true;
    });
    error_code tried;
    chatwire::event tried_ev;
    BOOST_TEST(s.try_next(tried, tried_ev));
    BOOST_TEST(tried == error_code(errc::invalid_argument));
    auto [second, ev] = co_await s.async_next(tuple_awaitable);
    BOOST_TEST(second == error_code(errc::invalid_argument));
    while (!first_done) {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(10ms);
        co_await t.async_wait(tuple_awaitable);
    }
    BOOST_TEST(!first, first.message());
}

asio::awaitable<void> close_midway(chatwire::chat_client& c) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send("hello", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    auto [nec, ev] = co_await s.async_next(tuple_awaitable);
    BOOST_TEST_REQUIRE(!nec);
    s.close();
    auto [cec, ev2] = co_await s.async_next(tuple_awaitable);
    BOOST_TEST(cec == error_code(errc::cancelled), cec.message());
}

} // namespace

BOOST_AUTO_TEST_CASE(cancelling_a_chat_stream_closes_it_and_keeps_the_text) {
    asio::io_context io;
    chatwire::emulator::options eo;
    eo.token_delay = 300ms;
    chatwire::emulator::server emu(io.get_executor(), chatwire::testing::with_test_protocol(eo));
    emu.start();
    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = emu.base_url();
    o.api_key = "k";
    o.chatbot_id = "bot";
    o.http.tls.extra_ca_pem = emu.certificate_pem();
    chatwire::chat_client c(io.get_executor(), o);
    run_coro(io, cancel_after_first_token(c, emu));
    run_coro(io, close_midway(c));
    run_coro(io, one_read_at_a_time(c));
}
