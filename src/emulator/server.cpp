// The emulator's only I/O: accept, read requests with Beast, hand them to the
// sans-io engine, and write the planned bytes with their pauses. Everything
// runs on one strand of the caller's executor; no threads are started.
#include "server_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <cctype>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

namespace chatwire::emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using wire::impl_ptr;
using wire::timed_write;
using wire::tuple_awaitable;
using wire::local_address_of;
using wire::serve_h2;

std::string wire::local_address_of(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto local = socket.local_endpoint(ec);
    if (ec) return {};
    auto ip = local.address();
    if (ip.is_v6() && ip.to_v6().is_v4_mapped())  // "::" serving IPv4 too
        ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
    return ip.to_string();
}

namespace {

constexpr auto idle_timeout = std::chrono::seconds(120);

// The head alone: enough to route a request and check its key.
request to_request_head(const http::request<http::string_body>& msg) {
    request r;
    r.method = std::string(msg.method_string());
    r.target = std::string(msg.target());
    for (const auto& f : msg) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        r.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    r.keep_alive = msg.keep_alive();
    r.version = static_cast<int>(msg.version());
    return r;
}

std::string_view reason(int status) {
    auto s = http::obsolete_reason(static_cast<http::status>(status));
    return s == "<unknown-status>" ? std::string_view("Status") : std::string_view(s.data(), s.size());
}

void reset_connection(beast::tcp_stream& tcp) {
    boost::system::error_code ec;
    tcp.socket().set_option(tcp::socket::linger(true, 0), ec);  // RST instead of FIN
    tcp.socket().close(ec);
}

} // namespace

namespace {

// Segments that follow each other without a pause go out in one gathered
// write, so an unpaced stream costs one system call rather than one per event.
template <class Stream>
asio::awaitable<bool> write_plan(Stream& stream, asio::steady_timer& timer, const wire_plan& wire, impl_ptr self) {
    std::vector<asio::const_buffer> batch;
    write_steps steps(wire);
    for (auto step = steps.next(); step;) {
        if (step->delay.count() > 0) {
            timer.expires_after(step->delay);
            co_await timer.async_wait(tuple_awaitable);
            if (self->stopped) co_return false;
        }
        batch.clear();
        do {
            if (!step->bytes.empty()) batch.push_back(asio::buffer(step->bytes.data(), step->bytes.size()));
            step = steps.next();
        } while (step && step->delay.count() == 0 && batch.size() < 64);
        if (batch.empty()) continue;
        auto [ec, n] = co_await timed_write(stream, batch, self->opts.write_timeout);
        if (ec) co_return false;
    }
    co_return true;
}

// Reads and drops what the client is still sending (briefly), so that closing
// does not reset the connection before it has read our answer.
template <class Stream>
asio::awaitable<void> drain(Stream& stream) {
    auto& tcp = beast::get_lowest_layer(stream);
    boost::system::error_code ignored;
    tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp.expires_after(std::chrono::seconds(1));
    std::array<char, 4096> sink;
    for (std::size_t total = 0; total < (1u << 20);) {
        auto [ec, n] = co_await tcp.async_read_some(asio::buffer(sink), tuple_awaitable);
        if (ec) break;
        total += n;
    }
    tcp.expires_never();
}

template <class Stream>
asio::awaitable<void> too_large(Stream& stream, const impl_ptr& self) {
    static const std::string answer =
        "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: 36\r\n"
        "Connection: close\r\n\r\n{\"error\":\"Request body is too large\"}";
    auto [ec, n] = co_await timed_write(stream, asio::buffer(answer), self->opts.write_timeout);
    if (!ec) co_await drain(stream);
}

// Writes one planned response; false when the connection is to end here.
template <class Stream>
asio::awaitable<bool> respond(Stream& stream, asio::steady_timer& timer, response_plan plan, const request& req,
                              impl_ptr self) {
    auto& tcp = beast::get_lowest_layer(stream);
    const auto status = plan.status;
    auto wire = to_wire(std::move(plan), reason(status), req);
    if (wire.end == ending::reset && wire.segments.empty()) {
        reset_connection(tcp);
        co_return false;
    }
    if (!co_await write_plan(stream, timer, wire, self)) co_return false;
    if (wire.end == ending::reset) {
        reset_connection(tcp);
        co_return false;
    }
    co_return wire.end == ending::keep_alive;
}

template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream, asio::steady_timer& timer, impl_ptr self,
                                     beast::flat_buffer buffer = {}) {
    auto& tcp = beast::get_lowest_layer(stream);
    const std::string local_address = local_address_of(tcp.socket());
    self->eng.connection_speaks(11);
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(self->opts.max_body_bytes);
        parser.header_limit(64 * 1024);
        tcp.expires_after(idle_timeout);
        auto [ec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
        if (ec == http::error::body_limit) {  // a Content-Length over the limit, seen in the head
            co_await too_large(stream, self);
            co_return;
        }
        if (ec || self->stopped) co_return;
        tcp.expires_never();

        // The key is checked on the head: a refused request's body is never
        // read into memory, and it gets no 100 Continue to send one.
        auto req = to_request_head(parser.get());
        req.local_address = local_address;
        req.local_port = self->port;
        if (auto refused = self->eng.screen(req)) {
            // Then briefly read and drop what the client still sends, so that it
            // sees the 401 rather than a reset.
            co_await respond(stream, timer, std::move(*refused), req, self);
            if (tcp.socket().is_open() && !self->stopped) co_await drain(stream);
            co_return;
        }
        // curl and others wait for this before sending a large body.
        if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
            static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
            auto [wec, wn] = co_await timed_write(stream, asio::buffer(go_on), self->opts.write_timeout);
            if (wec) co_return;
        }
        tcp.expires_after(idle_timeout);
        std::tie(ec, hn) = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        tcp.expires_never();
        if (ec == http::error::body_limit) {
            co_await too_large(stream, self);
            co_return;
        }
        if (ec || self->stopped) co_return;

        req.body = std::move(parser.get().body());
        auto plan = self->eng.handle(req);
        if (!co_await respond(stream, timer, std::move(plan), req, self)) co_return;
    }
}

// Holds one of max_connections from accept to close, whether or not the
// session has started running; counted in the stats.
class connection_slot {
public:
    explicit connection_slot(impl_ptr s) : self_(std::move(s)) {
        ++self_->live;
        self_->eng.connection_opened();
    }
    connection_slot(connection_slot&& o) noexcept : self_(std::move(o.self_)) {}
    connection_slot& operator=(connection_slot&&) = delete;
    ~connection_slot() {
        if (!self_) return;
        --self_->live;
        self_->eng.connection_closed();
    }
    const impl_ptr& self() const noexcept { return self_; }

private:
    impl_ptr self_;
};

// Registers the connection so that stop() can reach it.
struct connection_scope {
    connection_scope(impl_ptr s, wire::connection_control& c) : self(std::move(s)), ctl(c) { self->connections.insert(&ctl); }
    ~connection_scope() { self->connections.erase(&ctl); }
    impl_ptr self;
    wire::connection_control& ctl;
};

constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool starts_h2(const beast::flat_buffer& b) {
    const auto d = b.data();
    return std::string_view(static_cast<const char*>(d.data()), d.size()).starts_with(h2_preface);
}

// Reads until the bytes are HTTP/2's preface or cannot be: an HTTP/1.1
// request differs within its first bytes.
asio::awaitable<bool> read_preface(beast::tcp_stream& stream, beast::flat_buffer& first) {
    for (;;) {
        const auto d = first.data();
        const std::string_view got(static_cast<const char*>(d.data()), d.size());
        const auto n = std::min(got.size(), h2_preface.size());
        if (got.substr(0, n) != h2_preface.substr(0, n) || n == h2_preface.size()) co_return true;
        stream.expires_after(idle_timeout);
        auto [ec, read] = co_await stream.async_read_some(first.prepare(1024), tuple_awaitable);
        stream.expires_never();
        if (ec) co_return false;
        first.commit(read);
    }
}

asio::awaitable<void> plain_session(connection_slot slot, tcp::socket socket) {
    auto self = slot.self();
    beast::tcp_stream stream(std::move(socket));
    asio::steady_timer timer(self->strand);
    wire::connection_control ctl{&stream, &timer};
    connection_scope scope(self, ctl);
    if (self->opts.http2) {
        // Prior knowledge (h2c): the connection starts with HTTP/2's preface.
        beast::flat_buffer first;
        if (!co_await read_preface(stream, first)) co_return;
        if (starts_h2(first)) {
            const auto bytes = first.data();
            co_await serve_h2(stream, self, local_address_of(stream.socket()),
                              std::string(static_cast<const char*>(bytes.data()), bytes.size()));
        } else {
            co_await serve_requests(stream, timer, self, std::move(first));
        }
    } else {
        co_await serve_requests(stream, timer, self);
    }
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
}

asio::awaitable<void> tls_session(connection_slot slot, tcp::socket socket) {
    auto self = slot.self();
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *self->ssl);
    asio::steady_timer timer(self->strand);
    wire::connection_control ctl{&beast::get_lowest_layer(stream), &timer};
    connection_scope scope(self, ctl);
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(std::chrono::seconds(30));
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
    tcp.expires_never();
    if (ec) co_return;
    const unsigned char* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(stream.native_handle(), &alpn, &alpn_size);
    if (alpn_size == 2 && alpn[0] == 'h' && alpn[1] == '2') {
        co_await serve_h2(stream, self, local_address_of(tcp.socket()), std::string());
    } else {
        co_await serve_requests(stream, timer, self);
    }
    if (tcp.socket().is_open() && !self->stopped) {
        tcp.expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(tuple_awaitable);
    }
    boost::system::error_code ignored;
    tcp.socket().close(ignored);
}

asio::awaitable<void> accept_loop(impl_ptr self) {
    asio::steady_timer backoff(self->strand);
    while (!self->stopped) {
        auto [ec, socket] = co_await self->acceptor.async_accept(tuple_awaitable);
        if (self->stopped) co_return;
        if (ec) {
            // Out of descriptors or a transient error: pause instead of spinning.
            backoff.expires_after(std::chrono::milliseconds(20));
            co_await backoff.async_wait(tuple_awaitable);
            continue;
        }
        boost::system::error_code ignored;
        if (self->live >= self->opts.max_connections) {
            // Full: never queue. A reset frees the slot on both sides at once
            // (no TIME_WAIT here) and the client learns it straight away.
            self->eng.connection_refused();
            socket.set_option(tcp::socket::linger(true, 0), ignored);
            socket.close(ignored);
            continue;
        }
        socket.set_option(tcp::no_delay(true), ignored);
        if (self->ssl)
            asio::co_spawn(self->strand, tls_session(connection_slot(self), std::move(socket)), asio::detached);
        else
            asio::co_spawn(self->strand, plain_session(connection_slot(self), std::move(socket)), asio::detached);
    }
}

} // namespace

namespace {

// ALPN: h2 when the client offers it, else HTTP/1.1 (also with no offer at all).
int choose_protocol(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                    unsigned int offered_size, void*) {
    static constexpr unsigned char ours[] = "\x02h2\x08http/1.1";
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_size, ours, sizeof ours - 1, offered, offered_size) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

} // namespace

server::server(asio::any_io_executor ex, options opts) : impl_(std::make_shared<impl>(ex, std::move(opts))) {
    auto& s = *impl_;
    // HTTP/2 allows 1 to 2^31-1 (RFC 9113 §6.5.2); nghttp2 would fail every connection.
    if (s.opts.h2.initial_window == 0 || s.opts.h2.initial_window > 0x7fffffffu)
        throw std::invalid_argument("emulator: h2.initial_window must be 1 to 2147483647");
    if (s.opts.tls) {
        auto cert = s.opts.certificate ? *s.opts.certificate : make_self_signed({"127.0.0.1", "localhost", "::1"});
        s.ssl.emplace(asio::ssl::context::tls_server);
        s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
        s.ssl->use_certificate_chain(asio::buffer(cert.cert_pem));
        s.ssl->use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
        s.cert_pem = std::move(cert.cert_pem);
        if (s.opts.http2) SSL_CTX_set_alpn_select_cb(s.ssl->native_handle(), &choose_protocol, nullptr);
    }
    tcp::endpoint ep(asio::ip::make_address(s.opts.host), s.opts.port);
    s.acceptor.open(ep.protocol());
    s.acceptor.set_option(asio::socket_base::reuse_address(true));
    s.acceptor.bind(ep);
    s.acceptor.listen(asio::socket_base::max_listen_connections);
    s.port = s.acceptor.local_endpoint().port();
}

server::~server() { stop(); }

void server::start() {
    asio::dispatch(impl_->strand, [self = impl_] {
        if (self->started || self->stopped) return;
        self->started = true;
        asio::co_spawn(self->strand, accept_loop(self), asio::detached);
    });
}

void server::stop() {
    asio::dispatch(impl_->strand, [self = impl_] { self->do_stop(); });
}

std::uint16_t server::port() const noexcept { return impl_->port; }

std::string server::base_url() const {
    auto host = impl_->opts.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return (impl_->opts.tls ? "https://" : "http://") + host + ":" + std::to_string(impl_->port);
}

const std::string& server::admin_token() const noexcept { return impl_->eng.admin_token(); }

const std::string& server::certificate_pem() const noexcept { return impl_->cert_pem; }

} // namespace chatwire::emulator
