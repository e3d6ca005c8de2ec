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

template <class Stream>
asio::awaitable<bool> write_simple(Stream& s, const request_t& req, std::string body,
                                   bhttp::status status = bhttp::status::ok) {
    bhttp::response<bhttp::string_body> res{status, 11};
    res.set(bhttp::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    if (req.method() == bhttp::verb::head) {
        // The length of the body a GET would get, and no body.
        bhttp::response<bhttp::empty_body> head{status, 11};
        static_cast<bhttp::fields&>(head.base()) = res.base();
        auto [ec, n] = co_await bhttp::async_write(s, head, tuple_awaitable);
        co_return !ec && req.keep_alive();
    }
    auto [ec, n] = co_await bhttp::async_write(s, res, tuple_awaitable);
    co_return !ec && req.keep_alive();
}

template <class Stream>
asio::awaitable<bool> write_chunked(Stream& s, std::vector<std::string> chunks, std::chrono::milliseconds gap,
                                    bool finish) {
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "text/plain");
    res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    auto [hec, hn] = co_await bhttp::async_write_header(s, sr, tuple_awaitable);
    if (hec) co_return false;
    asio::steady_timer timer(s.get_executor());
    for (auto& c : chunks) {
        if (gap.count() > 0) {
            timer.expires_after(gap);
            co_await timer.async_wait(tuple_awaitable);
        }
        auto [ec, n] = co_await asio::async_write(s, bhttp::make_chunk(asio::buffer(c)), tuple_awaitable);
        if (ec) co_return false;
    }
    if (!finish) co_return false;
    auto [ec, n] = co_await asio::async_write(s, bhttp::make_chunk_last(), tuple_awaitable);
    co_return !ec;
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

/// What a connection does with its next request, once /arm-* set it.
enum class armed { nothing, close, reset };

template <class Stream>
asio::awaitable<bool> respond(Stream& s, const request_t& req, armed& next) {
    using std::chrono::milliseconds;
    const auto path = path_of(req);
    if (path == "/arm-close" || path == "/arm-reset") {
        next = path == "/arm-close" ? armed::close : armed::reset;
        co_return co_await write_simple(s, req, "armed");
    }
    if (path.ends_with("/api/v1/chatbots/bot/chat")) {
        // PollyBot's answer, for a provider client on this server; under
        // /arm-close/ it arms the connection too.
        if (path.starts_with("/arm-close/")) next = armed::close;
        co_return co_await write_simple(
            s, req, R"({"success":true,"data":{"response":"hello","conversationId":"c1","messageId":"m1"}})");
    }
    if (path == "/echo") {
        std::string body = std::string(req.method_string()) + " " + std::string(req.target()) +
                           " host=" + std::string(req[bhttp::field::host]) + " body=" + req.body();
        co_return co_await write_simple(s, req, std::move(body));
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
        co_return co_await write_simple(s, req, body + "}");
    }
    if (path == "/stall") {
        if (!co_await stall(s, milliseconds(query_number(req, "ms", 1000)))) co_return false;
        co_return co_await write_simple(s, req, "late");
    }
    if (path == "/drip") {
        std::vector<std::string> bytes(query_number(req, "bytes", 10), std::string("x"));
        co_return co_await write_chunked(s, std::move(bytes), milliseconds(query_number(req, "ms", 100)), true);
    }
    if (path == "/mirror") {
        // The request body back as a chunked body, `piece` bytes per chunk.
        std::vector<std::string> chunks;
        const std::size_t n = std::max<std::size_t>(1, query_number(req, "piece", 16));
        for (std::size_t i = 0; i < req.body().size(); i += n) chunks.push_back(req.body().substr(i, n));
        co_return co_await write_chunked(s, std::move(chunks), milliseconds(0), true);
    }
    if (path == "/encoded") {
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
        res.set(bhttp::field::content_encoding, "gzip");
        res.body() = "\x1f\x8b not really gzip";
        res.prepare_payload();
        auto [ec, n] = co_await bhttp::async_write(s, res, tuple_awaitable);
        co_return !ec;
    }
    if (path == "/big") co_return co_await write_simple(s, req, std::string(query_number(req, "bytes", 1024), 'b'));
    if (path == "/bigheader") {
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
        res.set("X-Big", std::string(query_number(req, "bytes", 1024), 'h'));
        res.body() = "ok";
        res.prepare_payload();
        auto [ec, n] = co_await bhttp::async_write(s, res, tuple_awaitable);
        co_return !ec;
    }
    if (path == "/chunks") {
        std::vector<std::string> chunks;
        for (std::size_t i = 0, n = query_number(req, "n", 10); i < n; ++i)
            chunks.push_back("chunk-" + std::to_string(i) + "\n");
        co_return co_await write_chunked(s, std::move(chunks), milliseconds(0), true);
    }
    if (path == "/truncate") {
        std::vector<std::string> chunks;
        chunks.emplace_back("first\n");
        chunks.emplace_back("second\n");
        co_await write_chunked(s, std::move(chunks), milliseconds(0), false);
        co_return false;
    }
    if (path == "/endless-chunk-header") {
        // A chunk-size line whose extension never ends.
        std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=";
        wire.append(query_number(req, "bytes", 100000), 'x');
        co_await asio::async_write(s, asio::buffer(wire), tuple_awaitable);
        co_await stall(s, milliseconds(5000));
        co_return false;
    }
    if (path == "/then-close") {
        // A keep-alive answer, then the connection closes as if it idled out.
        co_await write_simple(s, req, "bye");
        co_return false;
    }
    if (path == "/interim-flood") {
        // `n` interim answers, each `ms` apart, then the real one.
        const auto n = query_number(req, "n", 20);
        const auto pause = milliseconds(query_number(req, "ms", 0));
        asio::steady_timer timer(s.get_executor());
        for (std::size_t i = 0; i < n; ++i) {
            const std::string interim = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
            auto [ec, w] = co_await asio::async_write(s, asio::buffer(interim), tuple_awaitable);
            if (ec) co_return false;
            if (pause.count() > 0) {
                timer.expires_after(pause);
                co_await timer.async_wait(tuple_awaitable);
            }
        }
        co_return co_await write_simple(s, req, "after a flood");
    }
    if (path == "/interim") {
        // 100 Continue and 103 Early Hints ahead of the real answer.
        const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n"
                                    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(s, asio::buffer(interim), tuple_awaitable);
        if (ec) co_return false;
        co_return co_await write_simple(s, req, "after interim");
    }
    if (path == "/answer-and-close") {
        // A whole answer that says the connection ends with it.
        const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye";
        co_await asio::async_write(s, asio::buffer(answer), tuple_awaitable);
        co_return false;
    }
    if (path == "/interim-then-close") {
        // An interim answer, then a clean close: the server saw the request.
        const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(interim), tuple_awaitable);
        co_return false;
    }
    if (path == "/close-delimited") {
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
        std::string body;
        for (std::size_t i = 0, n = query_number(req, "n", 10); i < n; ++i) body += "line-" + std::to_string(i) + "\n";
        head += body;
        co_await asio::async_write(s, asio::buffer(head), tuple_awaitable);
        co_return false;
    }
    co_return co_await write_simple(s, req, "no such path", bhttp::status::not_found);
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
        if (!co_await respond(s, req, next)) break;
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
