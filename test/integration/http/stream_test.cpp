#include <boost/test/unit_test.hpp>

#include "http_fetch.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>
#include <tuple>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::http::body_stream;
using chatwire::http::client;
using chatwire::http::request;
using chatwire::testing::get;
using chatwire::testing::run_coro;
using chatwire::testing::sleep_for;
using chatwire::testing::test_server;
using chatwire::testing::trusting;
using chatwire::testing::tuple_awaitable;

namespace {

struct drained {
    std::string body;
    error_code end;
    int pieces = 0;
};

asio::awaitable<body_stream> open(client& c, std::string url) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_open(get(std::move(url)), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(diag.http_status == 200);
    co_return std::move(s);
}

asio::awaitable<drained> drain(body_stream& s) {
    drained d;
    for (;;) {
        auto [ec, piece] = co_await s.async_read_some(tuple_awaitable);
        if (ec) {
            d.end = ec;
            co_return d;
        }
        d.body.append(piece);
        ++d.pieces;
    }
}

std::string numbered(const char* prefix, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += prefix + std::to_string(i) + "\n";
    return s;
}

asio::awaitable<void> chunked_stream(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/chunks?n=500"));
    BOOST_TEST(s.status() == 200u);
    auto d = co_await drain(s);
    BOOST_TEST(d.end == error_code(errc::end_of_stream), d.end.message());
    BOOST_TEST(d.body == numbered("chunk-", 500));
    BOOST_TEST(s.done());
    BOOST_TEST(c.stats().idle == 1u);  // back in the pool
    // Reading past the end keeps saying so.
    auto [ec, piece] = co_await s.async_read_some(tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::end_of_stream));
    // The pooled connection serves the next stream.
    auto again = co_await open(c, server.url("/chunks?n=3"));
    auto d2 = co_await drain(again);
    BOOST_TEST(d2.body == numbered("chunk-", 3));
    BOOST_TEST(server.counters().accepted == 1);
}

asio::awaitable<void> length_and_close_delimited(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/big?bytes=200000"));
    auto d = co_await drain(s);
    BOOST_TEST(d.end == error_code(errc::end_of_stream));
    BOOST_TEST(d.body == std::string(200000, 'b'));
    BOOST_TEST(d.pieces > 1);

    // Longer than Beast's default 8 MiB body limit and the client's own
    // non-streaming limit: a stream is bounded by its decoder, not the body.
    auto long_body = co_await open(c, server.url("/big?bytes=" + std::to_string(12 << 20)));
    auto dl = co_await drain(long_body);
    BOOST_TEST(dl.end == error_code(errc::end_of_stream), dl.end.message());
    BOOST_TEST(dl.body.size() == std::size_t(12 << 20));

    // Over TLS the test server closes without close_notify: a cut, not an end.
    if (server.url("/").starts_with("https")) co_return;
    auto cd = co_await open(c, server.url("/close-delimited?n=1000"));
    auto d2 = co_await drain(cd);
    BOOST_TEST(d2.end == error_code(errc::end_of_stream), d2.end.message());
    BOOST_TEST(d2.body == numbered("line-", 1000));
}

asio::awaitable<void> truncated(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/truncate"));
    auto d = co_await drain(s);
    BOOST_TEST(d.end == error_code(errc::truncated_stream), d.end.message());
    BOOST_TEST(d.body == "first\nsecond\n");  // what arrived is kept
    BOOST_TEST(c.stats().open == 0u);
}

asio::awaitable<void> endless_chunk_header(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/endless-chunk-header?bytes=100000"));
    auto d = co_await drain(s);
    BOOST_TEST(d.end == error_code(errc::bad_response), d.end.message());
    BOOST_TEST(c.stats().open == 0u);
}

asio::awaitable<void> interim_then_stream(test_server& server, client& c) {
    for (int i = 0; i < 2; ++i) {
        auto s = co_await open(c, server.url("/interim"));  // open() checks for status 200
        BOOST_TEST(s.status() == 200u);
        auto d = co_await drain(s);
        BOOST_TEST(d.end == error_code(errc::end_of_stream), d.end.message());
        BOOST_TEST(d.body == "after interim");
    }
    BOOST_TEST(c.stats().connections_opened == 1u);
}

// A read whose piece was at hand completes later: closing the stream first
// turns it into a cancellation, with no view of the freed bytes.
asio::awaitable<void> close_before_completion(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/chunks?n=50"));
    co_await sleep_for(100ms);  // the whole body is in the socket
    auto [first, piece] = co_await s.async_read_some(tuple_awaitable);
    BOOST_TEST_REQUIRE(!first);
    error_code late = errc::http_error;
    std::string_view late_piece = "unset";
    bool done = false;
    s.async_read_some([&](error_code ec, std::string_view p) {
        late = ec;
        late_piece = p;
        done = true;
    });
    s.close();
    for (int i = 0; i < 100 && !done; ++i) co_await sleep_for(10ms);
    BOOST_TEST(done);
    BOOST_TEST(late == error_code(errc::cancelled), late.message());
    BOOST_TEST(late_piece.empty());
    BOOST_TEST(c.stats().open == 0u);
}

// Partial cancellation is not honoured (the body could not be read on after
// it); terminal cancellation ends the read and closes the connection.
asio::awaitable<void> only_terminal_cancellation(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/drip?bytes=3&ms=300"));
    asio::cancellation_signal signal;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(50ms);
    timer.async_wait([&signal](error_code) { signal.emit(asio::cancellation_type::partial); });
    auto [ec, piece] = co_await s.async_read_some(asio::bind_cancellation_slot(signal.slot(), tuple_awaitable));
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(c.stats().open == 1u);
    timer.expires_after(50ms);
    timer.async_wait([&signal](error_code) { signal.emit(asio::cancellation_type::terminal); });
    auto [ec2, piece2] = co_await s.async_read_some(asio::bind_cancellation_slot(signal.slot(), tuple_awaitable));
    BOOST_TEST(ec2 == error_code(errc::cancelled), ec2.message());
    BOOST_TEST(c.stats().open == 0u);
}

asio::awaitable<void> abandoned(test_server& server, client& c) {
    {
        auto s = co_await open(c, server.url("/drip?bytes=100&ms=20"));
        auto [ec, piece] = co_await s.async_read_some(tuple_awaitable);
        BOOST_TEST(!ec);
        BOOST_TEST(c.stats().open == 1u);
    }  // dropped half-read
    BOOST_TEST(c.stats().open == 0u);
    BOOST_TEST(c.stats().idle == 0u);
}

// Pieces already received come from try_read_some without a trip through
// the event loop; async_read_some only when a socket read is needed.
asio::awaitable<void> try_read_then_read(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/chunks?n=50"));
    co_await sleep_for(100ms);  // the whole body is in the socket
    std::string body;
    int tried = 0, read = 0;
    for (;;) {
        error_code ec;
        std::string_view piece;
        if (s.try_read_some(ec, piece)) {
            ++tried;
        } else {
            ++read;
            std::tie(ec, piece) = co_await s.async_read_some(tuple_awaitable);
        }
        if (ec) {
            BOOST_TEST(ec == error_code(errc::end_of_stream), ec.message());
            break;
        }
        body.append(piece);
    }
    BOOST_TEST(body == numbered("chunk-", 50));
    BOOST_TEST(read >= 1);
    BOOST_TEST(tried > read);
    BOOST_TEST(c.stats().idle == 1u);
}

// A second read while one is pending is refused; the first goes on.
asio::awaitable<void> one_read_at_a_time(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/drip?bytes=3&ms=50"));
    error_code first = errc::http_error;
    std::string first_piece;
    bool done = false;
    s.async_read_some([&](error_code ec, std::string_view p) {
        first = ec;
        first_piece.assign(p);
        done = true;
    });
    error_code tried;
    std::string_view tried_piece;
    BOOST_TEST(s.try_read_some(tried, tried_piece));
    BOOST_TEST(tried == error_code(errc::invalid_argument));
    auto [second, piece] = co_await s.async_read_some(tuple_awaitable);
    BOOST_TEST(second == error_code(errc::invalid_argument), second.message());
    for (int i = 0; i < 100 && !done; ++i) co_await sleep_for(10ms);
    BOOST_TEST(done);
    BOOST_TEST(!first, first.message());
    BOOST_TEST(first_piece == "x");
    // Once it completed, reads go on.
    auto [third, p3] = co_await s.async_read_some(tuple_awaitable);
    BOOST_TEST(!third, third.message());
}

// A compressed body is refused, not handed out as bytes a decoder would
// take for a broken stream.
asio::awaitable<void> compressed_body(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/encoded"));
    error_code tried;
    std::string_view piece;
    BOOST_TEST(s.try_read_some(tried, piece));
    BOOST_TEST(tried == error_code(errc::unsupported_encoding), tried.message());
    auto [ec, p] = co_await s.async_read_some(tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::unsupported_encoding), ec.message());
    BOOST_TEST(p.empty());
    BOOST_TEST(c.stats().open == 0u);
}

} // namespace

BOOST_AUTO_TEST_CASE(try_read_some_takes_received_pieces_without_a_read) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, try_read_then_read(server, c));
}

BOOST_AUTO_TEST_CASE(a_second_pending_read_is_refused) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, one_read_at_a_time(server, c));
}

BOOST_AUTO_TEST_CASE(a_compressed_body_is_refused) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, compressed_body(server, c));
}

// The idle limit counts while a read waits, not while the reader does: a
// stream its reader leaves alone for longer than the limit reads on after.
namespace {

asio::awaitable<void> reader_pauses_past_the_idle_limit(test_server& server, client& c) {
    auto s = co_await open(c, server.url("/chunks?n=50"));
    co_await sleep_for(400ms);
    auto d = co_await drain(s);
    BOOST_TEST(d.end == error_code(errc::end_of_stream), d.end.message());
    BOOST_TEST(d.body == numbered("chunk-", 50));
    co_await sleep_for(400ms);  // and back in the pool, nothing closes it
    auto again = co_await open(c, server.url("/chunks?n=3"));
    BOOST_TEST((co_await drain(again)).body == numbered("chunk-", 3));
    BOOST_TEST(c.stats().connections_opened == 1u);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_reader_may_pause_longer_than_the_idle_limit) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    o.timeouts.idle = 150ms;
    o.timeouts.first_byte = 150ms;
    client c(io.get_executor(), o);
    run_coro(io, reader_pauses_past_the_idle_limit(server, c));
}

// Timeouts keep no work pending once calls are done: io_context::run()
// returns with a connection back in the pool, after a stream read to its end,
// and with a stream still open whose reader stopped reading (the server runs
// on a thread of its own, so only the client's work counts).
BOOST_AUTO_TEST_CASE(the_event_loop_runs_out_of_work_when_calls_are_done) {
    asio::io_context server_io;
    test_server server(server_io, test_server::plain());
    std::thread server_thread([&server_io] { server_io.run(); });
    asio::io_context io;
    bool done = false;
    {
        client c(io.get_executor());  // the default limits: idle and first byte 60 s
        body_stream held;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            chatwire::diagnostics diag;
            auto [ec, res] = co_await chatwire::testing::fetch(c, get(server.url("/echo")), diag);
            BOOST_TEST(!ec, ec.message());
            auto whole = co_await open(c, server.url("/chunks?n=20"));
            BOOST_TEST((co_await drain(whole)).end == error_code(errc::end_of_stream));
            held = co_await open(c, server.url("/drip?bytes=100&ms=20"));
            auto [rec, piece] = co_await held.async_read_some(tuple_awaitable);
            BOOST_TEST(!rec, rec.message());
            done = true;
        }, asio::detached);
        io.run_for(20s);  // returns at once when it runs out of work
        BOOST_TEST(done);
        BOOST_TEST(io.stopped());
    }
    server_io.stop();
    server_thread.join();
}

BOOST_AUTO_TEST_CASE(chunked_body_streams_in_pieces_and_returns_to_pool) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    client c(io.get_executor(), o);
    run_coro(io, chunked_stream(server, c));
}

BOOST_AUTO_TEST_CASE(content_length_and_close_delimited_bodies_stream) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, length_and_close_delimited(server, c));
}

// Large bodies over TLS: many records per read, and reads that fill the
// TLS stream's staging room, so it grows.
BOOST_AUTO_TEST_CASE(long_bodies_stream_over_tls) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    client c(io.get_executor(), o);
    run_coro(io, length_and_close_delimited(server, c));
}

BOOST_AUTO_TEST_CASE(truncated_stream_keeps_what_arrived) {
    for (bool tls : {false, true}) {
        BOOST_TEST_CONTEXT((tls ? "https" : "http")) {
            asio::io_context io;
            test_server server(io, {.tls = tls, .stall_handshake = false, .certificate = {}});
            chatwire::http::client_options o;
            if (tls) o.tls.extra_ca_pem = server.certificate_pem();
            client c(io.get_executor(), o);
            run_coro(io, truncated(server, c));
        }
    }
}

BOOST_AUTO_TEST_CASE(endless_chunk_framing_is_bounded) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, endless_chunk_header(server, c));
}

BOOST_AUTO_TEST_CASE(abandoned_stream_closes_its_connection) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    client c(io.get_executor(), o);
    run_coro(io, abandoned(server, c));
}

BOOST_AUTO_TEST_CASE(streamed_answer_after_interim_1xx_answers) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, interim_then_stream(server, c));
}

BOOST_AUTO_TEST_CASE(closing_before_a_posted_read_completes_cancels_it) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    client c(io.get_executor());
    run_coro(io, close_before_completion(server, c));
}

BOOST_AUTO_TEST_CASE(only_terminal_cancellation_ends_a_read) {
    for (bool tls : {false, true}) {
        BOOST_TEST_CONTEXT((tls ? "https" : "http")) {
            asio::io_context io;
            test_server server(io, {.tls = tls, .stall_handshake = false, .certificate = {}});
            chatwire::http::client_options o;
            if (tls) o.tls.extra_ca_pem = server.certificate_pem();
            client c(io.get_executor(), o);
            run_coro(io, only_terminal_cancellation(server, c));
        }
    }
}
