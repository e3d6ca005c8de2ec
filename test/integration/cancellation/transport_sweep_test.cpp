// The cancellation sweep over the transport: http::client::async_request,
// async_open and body_stream::async_read_some, over plain HTTP and TLS, on a
// new connection and on a pooled one.
#define BOOST_TEST_MODULE integration_cancellation
#include <boost/test/unit_test.hpp>

#include "http_fetch.hpp"
#include "sweep.hpp"
#include "test_server.hpp"

#include <chatwire/http/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <memory>
#include <optional>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::http::body_stream;
using chatwire::http::client;
using chatwire::http::response;
using chatwire::testing::get;
using chatwire::testing::open_fds;
using chatwire::testing::run_until;
using chatwire::testing::sweep;
using chatwire::testing::test_server;
using chatwire::testing::trusting;

using chatwire::testing::summary_printer;
BOOST_TEST_GLOBAL_FIXTURE(summary_printer);

namespace {

struct transport {
    explicit transport(bool tls, bool stall_handshake = false)
        : server(io, {.tls = tls, .stall_handshake = stall_handshake, .certificate = {}}) {
        baseline = open_fds();
        auto o = trusting(server);
        o.timeouts.connect = 6s;
        c.emplace(io.get_executor(), o);
    }
    ~transport() {
        c.reset();
        if (server_may_keep_one) return;
        // Destroyed with its pool: every descriptor of either side goes.
        BOOST_TEST(run_until(io, [&] { return open_fds() == baseline; }, 5s),
                   "descriptors " << open_fds() << " after the client is gone, baseline " << baseline);
    }
    std::string url(const std::string& path) const { return server.url(path); }

    /// No connection left in use, and no descriptor beyond the pooled
    /// connections (two each: both ends live in this process).
    bool no_leak() {
        const auto s = c->stats();
        bool ok = true;
        BOOST_TEST(s.open == s.idle, "connections in use: " << s.open - s.idle);
        ok = ok && s.open == s.idle;
        const bool fds = run_until(io, [&] { return open_fds() == baseline + 2 * c->stats().open; },
                                   5s * chatwire::testing::test_time_scale);
        BOOST_TEST(fds, "descriptors " << open_fds() << ", expected " << baseline + 2 * c->stats().open << ": "
                                       << chatwire::testing::describe_fds());
        return ok && fds;
    }

    asio::io_context io;
    test_server server;
    std::size_t baseline = 0;
    std::optional<client> c;
    chatwire::diagnostics diag;
    bool server_may_keep_one = false;
};

// ---- the fresh calls after each cancel --------------------------------------

bool request_succeeds(transport& t, const std::string& path) {
    bool done = false;
    error_code got;
    unsigned status = 0;
    chatwire::diagnostics diag;
    t.c->async_request(get(t.url(path)), diag, [&](error_code ec, response res) {
        done = true;
        got = ec;
        status = res.status;
    });
    const bool finished = run_until(t.io, [&] { return done; }, 10s);
    BOOST_TEST(finished, "the fresh request did not finish");
    BOOST_TEST(!got, "the fresh request failed: " << got.message() << " " << diag.to_string());
    BOOST_TEST(status == 200u);
    return finished && !got && status == 200u;
}

/// Reads a body to its end with callbacks; each read is bound to `slot`.
/// After `stop` is set it finishes on the next piece (a user loop that
/// leaves once it asked to cancel).
struct body_drain : std::enable_shared_from_this<body_drain> {
    body_stream body;
    asio::cancellation_slot slot;
    const bool* stop = nullptr;
    std::function<void(error_code)> done;
    std::size_t bytes = 0;
    int pending = 0;

    void read() {
        ++pending;
        body.async_read_some(asio::bind_cancellation_slot(
            slot, [self = shared_from_this()](error_code ec, std::string_view piece) { self->on_read(ec, piece); }));
    }
    void on_read(error_code ec, std::string_view piece) {
        if (--pending != 0) BOOST_ERROR("a read completed twice");
        if (ec == errc::end_of_stream) return finish({});
        if (ec) return finish(ec);
        bytes += piece.size();
        if (stop && *stop) return finish({});
        read();
    }
    void finish(error_code ec) {
        auto d = std::move(done);
        d(ec);
    }
};

/// Opens `path` without cancellation; the stream, or an empty one on failure.
body_stream open_body(transport& t, const std::string& path) {
    bool done = false;
    error_code got;
    body_stream out;
    t.c->async_open(get(t.url(path)), t.diag, [&](error_code ec, body_stream s) {
        done = true;
        got = ec;
        out = std::move(s);
    });
    BOOST_TEST(run_until(t.io, [&] { return done; }, 10s), "open did not finish");
    BOOST_TEST(!got, "open failed: " << got.message() << " " << t.diag.to_string());
    return out;
}

bool stream_succeeds(transport& t, const std::string& path, std::size_t expected_bytes) {
    auto reader = std::make_shared<body_drain>();
    reader->body = open_body(t, path);
    if (!reader->body.is_open()) return false;
    bool done = false;
    error_code got;
    reader->done = [&](error_code ec) {
        done = true;
        got = ec;
    };
    reader->read();
    const bool finished = run_until(t.io, [&] { return done; }, 10s);
    BOOST_TEST(finished, "the fresh stream did not finish");
    BOOST_TEST(!got, "the fresh stream failed: " << got.message());
    BOOST_TEST(reader->bytes == expected_bytes);
    return finished && !got && reader->bytes == expected_bytes;
}

// ---- the sweeps ------------------------------------------------------------------

const char* scheme(bool tls) { return tls ? "https" : "http"; }

void sweep_request(bool tls, bool pooled, asio::cancellation_type type) {
    transport t(tls);
    // One write of the whole answer (the test server does not turn Nagle
    // off: answers in many small writes would wait on delayed ACKs), read in
    // several pieces.
    const std::string path = "/big?bytes=4096";
    if (pooled) BOOST_TEST_REQUIRE(request_succeeds(t, path));
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        if (!pooled) t.c->close_idle();
        BOOST_TEST(t.c->stats().idle == (pooled ? 1u : 0u));
        t.c->async_request(get(t.url(path)), t.diag,
                           asio::bind_cancellation_slot(slot, [done](error_code ec, response res) {
                               if (!ec && res.status != 200) ec = errc::bad_response;
                               done(ec);
                           }));
    };
    auto check = [&](int) { return request_succeeds(t, path) && t.no_leak(); };
    auto name = std::string("http::client::async_request ") + scheme(tls) + (pooled ? " pooled" : " new connection");
    BOOST_TEST(sweep(t.io, name, start, check, {.type = type}).ok);
}

void sweep_open(bool tls, bool pooled) {
    transport t(tls);
    const std::string path = "/drip?bytes=4&ms=1";
    if (pooled) BOOST_TEST_REQUIRE(request_succeeds(t, "/echo"));
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        if (!pooled) t.c->close_idle();
        // The body is dropped unread at once: that too must free the connection.
        t.c->async_open(get(t.url(path)), t.diag,
                        asio::bind_cancellation_slot(slot, [done](error_code ec, body_stream s) {
                            if (!ec && s.status() != 200) ec = errc::bad_response;
                            done(ec);
                        }));
    };
    auto check = [&](int) { return stream_succeeds(t, path, 4) && t.no_leak(); };
    auto name = std::string("http::client::async_open ") + scheme(tls) + (pooled ? " pooled" : " new connection");
    BOOST_TEST(sweep(t.io, name, start, check).ok);
}

void sweep_read_some(bool tls, asio::cancellation_type type) {
    transport t(tls);
    const std::string path = "/drip?bytes=8&ms=1";
    bool stop = false;
    std::shared_ptr<body_drain> reader;
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        reader = std::make_shared<body_drain>();
        reader->body = open_body(t, path);
        reader->slot = slot;
        reader->stop = &stop;
        reader->done = std::move(done);
        if (!reader->body.is_open()) return reader->finish(errc::bad_response);
        reader->read();
    };
    auto check = [&](int) {
        reader.reset();  // a body not read to its end closes its connection
        return stream_succeeds(t, path, 8) && t.no_leak();
    };
    auto name = std::string("body_stream::async_read_some ") + scheme(tls);
    BOOST_TEST(sweep(t.io, name, start, check, {.type = type, .emitted_flag = &stop}).ok);
}

} // namespace

BOOST_AUTO_TEST_CASE(async_request_at_every_suspension_point) {
    for (bool tls : {false, true})
        for (bool pooled : {false, true}) sweep_request(tls, pooled, asio::cancellation_type::terminal);
}

// A cancel must not wait for the server: here the answer (a stalled one, or a
// slow body) takes far longer to come, and every cancel must end the call well
// before that. A cancel that arrived while a step's completion was queued used
// to be lost, and the call ran on to its end.
static void sweep_request_promptly(bool tls, bool pooled, const std::string& path, int max_points) {
    transport t(tls);
    if (pooled) BOOST_TEST_REQUIRE(request_succeeds(t, "/echo"));
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        if (!pooled) t.c->close_idle();
        t.c->async_request(get(t.url(path)), t.diag,
                           asio::bind_cancellation_slot(slot, [done](error_code ec, response res) {
                               if (!ec && res.status != 200) ec = errc::bad_response;
                               done(ec);
                           }));
    };
    auto check = [&](int) { return request_succeeds(t, "/echo") && t.no_leak(); };
    auto name = std::string("http::client::async_request ") + path + " " + scheme(tls) +
                (pooled ? " pooled" : " new connection");
    // The bound leaves room for slow (instrumented) builds, and is still far below
    // the answer's own delay that a lost cancel would wait out.
    BOOST_TEST(sweep(t.io, name, start, check, {.prompt = 1500ms, .max_points = max_points}).ok);
}

BOOST_AUTO_TEST_CASE(async_request_cancel_is_prompt) {
    // The stall notices a client that left within 10 ms, and ticks every 10 ms
    // until then: the points past the first 40 are all the client waiting for
    // the header. A drip notices only at its next byte.
    sweep_request_promptly(false, false, "/stall?ms=5000", 40);
    sweep_request_promptly(true, true, "/stall?ms=5000", 40);
    sweep_request_promptly(false, true, "/drip?bytes=1&ms=3000", 0);
}

// A server that never answers the TLS handshake: a cancel while connecting
// must end the call at once, not when the connect limit (6 s here) runs out.
BOOST_AUTO_TEST_CASE(async_request_cancel_while_connecting_is_prompt) {
    transport t(true, true);
    t.server_may_keep_one = true;
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        t.c->async_request(get(t.url("/echo")), t.diag,
                           asio::bind_cancellation_slot(slot, [done](error_code ec, response) { done(ec); }));
    };
    // The test server's stalling side may keep a connection the client left
    // before its first byte (it is in CLOSE-WAIT and never read again): only
    // the client's descriptors are counted here.
    const auto port = t.server.port();
    const auto client_baseline = chatwire::testing::open_fds_except_port(port);
    auto check = [&](int) {
        const auto s = t.c->stats();
        BOOST_TEST(s.open == 0u, "connections open: " << s.open);
        const bool fds = run_until(t.io, [&] { return chatwire::testing::open_fds_except_port(port) == client_baseline; }, 5s);
        BOOST_TEST(fds, "descriptors " << chatwire::testing::describe_fds());
        return s.open == 0u && fds;
    };
    BOOST_TEST(sweep(t.io, "http::client::async_request https, handshake never answered", start, check,
                     {.prompt = 1500ms, .idle_step = 300ms})
                   .ok);
}

BOOST_AUTO_TEST_CASE(async_request_ignores_or_honours_partial_and_total) {
    sweep_request(true, false, asio::cancellation_type::partial);
    sweep_request(true, false, asio::cancellation_type::total);
}

BOOST_AUTO_TEST_CASE(async_open_at_every_suspension_point) {
    for (bool tls : {false, true})
        for (bool pooled : {false, true}) sweep_open(tls, pooled);
}

BOOST_AUTO_TEST_CASE(async_read_some_at_every_suspension_point) {
    for (bool tls : {false, true}) sweep_read_some(tls, asio::cancellation_type::terminal);
    sweep_read_some(true, asio::cancellation_type::partial);
    sweep_read_some(true, asio::cancellation_type::total);
}
