#include "test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace chatwire::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct test_server::state {
    state(asio::io_context& io, options o) : opts(std::move(o)), acceptor(io), tls_ctx(asio::ssl::context::tls_server) {}
    options opts;
    tcp::acceptor acceptor;
    asio::ssl::context tls_ctx;
    emulator::self_signed_certificate cert;
    server_counters counters;
    bool stopped = false;
    std::uint16_t port = 0;
};

namespace {

using request_t = bhttp::request<bhttp::string_body>;

std::size_t query_number(const request_t& req, std::string_view key, std::size_t fallback) {
    auto u = boost::urls::parse_origin_form(req.target());
    if (!u) return fallback;
    for (auto p : u->params()) {
        if (p.key == key) {
            std::size_t v = fallback;
            std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
            return v;
        }
    }
    return fallback;
}

std::string path_of(const request_t& req) {
    auto t = req.target();
    return std::string(t.substr(0, t.find('?')));
}

// What the server does with one request, decided without I/O: bytes to write,
// pauses between them, then whether the connection goes on. One small
// coroutine (perform) carries it out over TCP or TLS, so the routes below are
// plain code rather than one coroutine per stream type with a suspension point
// per route (which made this file take a minute and a half to compile).
struct reply {
    enum class kind { write, pause, stall };
    struct step {
        kind what;
        std::string bytes;             // write
        std::chrono::milliseconds ms;  // pause; stall (a wait the client may end by leaving)
    };
    std::vector<step> steps;
    bool keep = true;  // the connection serves another request afterwards

    reply& write(std::string bytes) {
        steps.push_back({kind::write, std::move(bytes), {}});
        return *this;
    }
    reply& pause(std::chrono::milliseconds ms) {
        if (ms.count() > 0) steps.push_back({kind::pause, {}, ms});
        return *this;
    }
    reply& stall(std::chrono::milliseconds ms) {
        steps.push_back({kind::stall, {}, ms});
        return *this;
    }
    reply& then_close() {
        keep = false;
        return *this;
    }
};

template <class Message>
std::string render(const Message& m) {
    std::ostringstream out;
    out << m;
    return std::move(out).str();
}

// A whole text/plain answer (HEAD: its head alone, with the length a GET would get).
reply simple(const request_t& req, std::string body, bhttp::status status = bhttp::status::ok) {
    bhttp::response<bhttp::string_body> res{status, 11};
    res.set(bhttp::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    reply r;
    if (req.method() == bhttp::verb::head) {
        bhttp::response<bhttp::empty_body> head{status, 11};
        static_cast<bhttp::fields&>(head.base()) = res.base();
        r.write(render(head));
    } else {
        r.write(render(res));
    }
    if (!req.keep_alive()) r.then_close();
    return r;
}

// A chunked answer, one write per chunk, `gap` before each; without `finish`
// the last chunk never comes and the connection closes.
reply chunked(const std::vector<std::string>& chunks, std::chrono::milliseconds gap, bool finish) {
    reply r;
    r.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (const auto& c : chunks) {
        char size[20];
        auto [end, ec] = std::to_chars(size, size + sizeof size, c.size(), 16);
        r.pause(gap).write(std::string(size, end) + "\r\n" + c + "\r\n");
    }
    if (finish) r.write("0\r\n\r\n");
    else r.then_close();
    return r;
}

/// Waits `ms`, or less if the client goes away first; true when still connected.
template <class Stream>
asio::awaitable<bool> stall(Stream& s, std::chrono::milliseconds ms) {
    // Polls the socket so that a client that leaves is noticed at once,
    // without a read that would disturb the TLS stream.
    auto& sock = beast::get_lowest_layer(s).socket();
    asio::steady_timer timer(s.get_executor());
    auto until = std::chrono::steady_clock::now() + ms;
    while (std::chrono::steady_clock::now() < until) {
        char byte;
        if (::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) co_return false;
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(tuple_awaitable);
    }
    co_return true;
}

/// Carries out a reply; true when the connection goes on.
template <class Stream>
asio::awaitable<bool> perform(Stream& s, const reply& r) {
    asio::steady_timer timer(s.get_executor());
    for (const auto& step : r.steps) {
        switch (step.what) {
        case reply::kind::write: {
            auto [ec, n] = co_await asio::async_write(s, asio::buffer(step.bytes), tuple_awaitable);
            if (ec) co_return false;
            break;
        }
        case reply::kind::pause:
            timer.expires_after(step.ms);
            co_await timer.async_wait(tuple_awaitable);
            break;
        case reply::kind::stall:
            if (!co_await stall(s, step.ms)) co_return false;
            break;
        }
    }
    co_return r.keep;
}

/// What a connection does with its next request, once /arm-* set it.
enum class armed { nothing, close, reset };

reply respond(const request_t& req, armed& next) {
    using std::chrono::milliseconds;
    const auto path = path_of(req);
    if (path == "/arm-close" || path == "/arm-reset") {
        next = path == "/arm-close" ? armed::close : armed::reset;
        return simple(req, "armed");
    }
    if (path.ends_with("/api/v1/chatbots/bot/chat")) {
        // PollyBot's answer, for a provider client on this server; under
        // /arm-close/ it arms the connection too.
        if (path.starts_with("/arm-close/")) next = armed::close;
        return simple(req, R"({"success":true,"data":{"response":"hello","conversationId":"c1","messageId":"m1"}})");
    }
    if (path == "/echo") {
        return simple(req, std::string(req.method_string()) + " " + std::string(req.target()) +
                               " host=" + std::string(req[bhttp::field::host]) + " body=" + req.body());
    }
    if (path == "/offset-list") {
        // A list shape none of the APIs has: offset pages of numbered results.
        const auto total = query_number(req, "total", 25), offset = query_number(req, "offset", 0);
        const auto limit = std::max<std::size_t>(1, query_number(req, "limit", 10));
        std::string body = "{\"results\":[";
        for (std::size_t i = offset; i < std::min(total, offset + limit); ++i)
            body += (i > offset ? ",{" : "{") + std::string("\"key\":\"k") + std::to_string(i) +
                    "\",\"position\":" + std::to_string(i) + "}";
        body += "]";
        if (offset + limit < total) body += ",\"next_offset\":" + std::to_string(offset + limit);
        return simple(req, body + "}");
    }
    if (path == "/stall") {
        reply r = simple(req, "late");
        r.steps.insert(r.steps.begin(), {reply::kind::stall, {}, milliseconds(query_number(req, "ms", 1000))});
        return r;
    }
    if (path == "/drip")
        return chunked(std::vector<std::string>(query_number(req, "bytes", 10), std::string("x")),
                       milliseconds(query_number(req, "ms", 100)), true);
    if (path == "/mirror") {
        // The request body back as a chunked body, `piece` bytes per chunk.
        std::vector<std::string> chunks;
        const std::size_t n = std::max<std::size_t>(1, query_number(req, "piece", 16));
        for (std::size_t i = 0; i < req.body().size(); i += n) chunks.push_back(req.body().substr(i, n));
        return chunked(chunks, milliseconds(0), true);
    }
    if (path == "/encoded") {
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
        res.set(bhttp::field::content_encoding, "gzip");
        res.body() = "\x1f\x8b not really gzip";
        res.prepare_payload();
        return reply{}.write(render(res));
    }
    if (path == "/big") return simple(req, std::string(query_number(req, "bytes", 1024), 'b'));
    if (path == "/bigheader") {
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
        res.set("X-Big", std::string(query_number(req, "bytes", 1024), 'h'));
        res.body() = "ok";
        res.prepare_payload();
        return reply{}.write(render(res));
    }
    if (path == "/chunks") {
        std::vector<std::string> chunks;
        for (std::size_t i = 0, n = query_number(req, "n", 10); i < n; ++i)
            chunks.push_back("chunk-" + std::to_string(i) + "\n");
        return chunked(chunks, milliseconds(0), true);
    }
    if (path == "/truncate") return chunked({"first\n", "second\n"}, milliseconds(0), false);
    if (path == "/endless-chunk-header") {
        // A chunk-size line whose extension never ends.
        std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=";
        wire.append(query_number(req, "bytes", 100000), 'x');
        return reply{}.write(std::move(wire)).stall(milliseconds(5000)).then_close();
    }
    if (path == "/then-close") {
        // A keep-alive answer, then the connection closes as if it idled out.
        return simple(req, "bye").then_close();
    }
    if (path == "/interim-flood") {
        // `n` interim answers, each `ms` apart, then the real one.
        const auto pause = milliseconds(query_number(req, "ms", 0));
        reply r;
        for (std::size_t i = 0, n = query_number(req, "n", 20); i < n; ++i)
            r.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n").pause(pause);
        reply last = simple(req, "after a flood");
        r.steps.insert(r.steps.end(), last.steps.begin(), last.steps.end());
        r.keep = last.keep;
        return r;
    }
    if (path == "/interim") {
        // 100 Continue and 103 Early Hints ahead of the real answer.
        reply r = simple(req, "after interim");
        r.steps.insert(r.steps.begin(), {reply::kind::write,
                                         "HTTP/1.1 100 Continue\r\n\r\n"
                                         "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
                                         {}});
        return r;
    }
    if (path == "/answer-and-close") {
        // A whole answer that says the connection ends with it.
        return reply{}.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye").then_close();
    }
    if (path == "/interim-then-close") {
        // An interim answer, then a clean close: the server saw the request.
        return reply{}.write("HTTP/1.1 100 Continue\r\n\r\n").then_close();
    }
    if (path == "/close-delimited") {
        std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
        for (std::size_t i = 0, n = query_number(req, "n", 10); i < n; ++i) wire += "line-" + std::to_string(i) + "\n";
        return reply{}.write(std::move(wire)).then_close();
    }
    return simple(req, "no such path", bhttp::status::not_found);
}

template <class Stream>
asio::awaitable<void> serve(Stream& s, std::shared_ptr<test_server::state> st) {
    beast::flat_buffer buffer;
    armed next = armed::nothing;
    for (;;) {
        request_t req;
        auto [ec, n] = co_await bhttp::async_read(s, buffer, req, tuple_awaitable);
        if (ec) break;
        ++st->counters.requests;
        if (next != armed::nothing) {
            // The request was read whole: nothing unread makes the close a reset by accident.
            auto& sock = beast::get_lowest_layer(s).socket();
            beast::error_code ignored;
            if (next == armed::reset) sock.set_option(tcp::socket::linger(true, 0), ignored);
            else sock.shutdown(tcp::socket::shutdown_send, ignored);
            sock.close(ignored);
            break;
        }
        if (!co_await perform(s, respond(req, next))) break;
    }
}

asio::awaitable<void> session(tcp::socket sock, std::shared_ptr<test_server::state> st) {
    ++st->counters.accepted;
    beast::tcp_stream tcp(std::move(sock));
    if (!st->opts.tls) {
        co_await serve(tcp, st);
        beast::error_code ignored;
        tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else if (st->opts.stall_handshake) {
        char byte;
        co_await tcp.async_read_some(asio::buffer(&byte, 1), tuple_awaitable);  // until the client leaves
        std::array<char, 4096> sink;
        for (;;) {
            auto [ec, n] = co_await tcp.async_read_some(asio::buffer(sink), tuple_awaitable);
            if (ec) break;
        }
    } else {
        beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), st->tls_ctx);
        auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        if (!ec) co_await serve(tls, st);
        beast::get_lowest_layer(tls).close();
    }
    ++st->counters.closed;
}

asio::awaitable<void> accept_loop(std::shared_ptr<test_server::state> st) {
    for (;;) {
        auto [ec, sock] = co_await st->acceptor.async_accept(tuple_awaitable);
        if (ec || st->stopped) co_return;
        asio::co_spawn(st->acceptor.get_executor(), session(std::move(sock), st), asio::detached);
    }
}

} // namespace

test_server::test_server(asio::io_context& io, options opts) : state_(std::make_shared<state>(io, std::move(opts))) {
    auto& st = *state_;
    st.cert = st.opts.certificate ? *st.opts.certificate : emulator::make_self_signed({"127.0.0.1", "localhost"});
    st.tls_ctx.use_certificate_chain(asio::buffer(st.cert.cert_pem));
    st.tls_ctx.use_private_key(asio::buffer(st.cert.key_pem), asio::ssl::context::pem);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    st.acceptor.open(ep.protocol());
    st.acceptor.set_option(tcp::acceptor::reuse_address(true));
    st.acceptor.bind(ep);
    st.acceptor.listen();
    st.port = st.acceptor.local_endpoint().port();
    asio::co_spawn(io, accept_loop(state_), asio::detached);
}

test_server::~test_server() { stop(); }

void test_server::stop() {
    state_->stopped = true;
    beast::error_code ignored;
    state_->acceptor.close(ignored);
}

std::uint16_t test_server::port() const { return state_->port; }

std::string test_server::url(const std::string& path) const {
    return std::string(state_->opts.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + path;
}

const std::string& test_server::certificate_pem() const { return state_->cert.cert_pem; }
const server_counters& test_server::counters() const { return state_->counters; }

} // namespace chatwire::testing
