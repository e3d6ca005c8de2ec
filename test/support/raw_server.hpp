#pragma once
// A server on 127.0.0.1 that sends exactly the bytes a test scripts, plain or
// over TLS, so that a test controls every byte of framing: for each request
// it reads, the script's writes; then, after an optional pause, bytes nobody
// asked for; then the connection reads the next request or is closed.
#include <chatwire/emulator/certificate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chatwire::testing {

/// What the server does with one request.
struct scripted_reply {
    std::vector<std::string> writes;           ///< each one write (over TLS, its own records)
    std::chrono::milliseconds write_gap{0};    ///< a pause between two of `writes`
    std::string repeated;                      ///< then this, written again and again...
    std::size_t repeat_count = 0;              ///< ...this many times, or until a write fails
    std::string after_repeat;                  ///< then this
    std::chrono::milliseconds pause{0};        ///< before `unsolicited`
    std::string unsolicited;                   ///< bytes no request asked for
    bool close_after = false;                  ///< close (cleanly) instead of reading on
    bool hold_open = false;                    ///< neither read on nor close until the client leaves
    /// Neither read another byte nor close, for a minute (or until the test
    /// ends): what the client writes piles up in the socket, then stalls.
    bool stop_reading = false;
};

/// A request as the server saw it.
struct request_seen {
    int connection = 0;  ///< 0 for the first connection accepted
    int index = 0;       ///< 0 for a connection's first request
    std::string head;    ///< request line and header fields
    std::string body;
};

class raw_server {
public:
    using script = std::function<scripted_reply(const request_seen&)>;

    raw_server(boost::asio::io_context& io, bool tls, script s)
        : st_(std::make_shared<state>(io, tls, std::move(s))) {
        namespace asio = boost::asio;
        st_->cert = emulator::make_self_signed({"127.0.0.1", "localhost"});
        st_->tls_ctx.use_certificate_chain(asio::buffer(st_->cert.cert_pem));
        st_->tls_ctx.use_private_key(asio::buffer(st_->cert.key_pem), asio::ssl::context::pem);
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        st_->acceptor.open(ep.protocol());
        st_->acceptor.set_option(tcp::acceptor::reuse_address(true));
        st_->acceptor.bind(ep);
        st_->acceptor.listen();
        asio::co_spawn(io, accept_loop(st_), asio::detached);
    }
    ~raw_server() {
        boost::system::error_code ignored;
        st_->acceptor.close(ignored);
    }
    raw_server(const raw_server&) = delete;
    raw_server& operator=(const raw_server&) = delete;

    /// Shrinks the receive buffer of the connections accepted from now on: a
    /// server that reads nothing then takes little, and a client's writes
    /// stall soon (the kernel would otherwise take tens of MiB on loopback).
    void limit_receive_buffer(int bytes) {
        st_->acceptor.set_option(boost::asio::socket_base::receive_buffer_size(bytes));
    }

    std::string url(const std::string& path) const {
        return std::string(st_->tls ? "https" : "http") + "://127.0.0.1:" +
               std::to_string(st_->acceptor.local_endpoint().port()) + path;
    }
    const std::string& certificate_pem() const { return st_->cert.cert_pem; }
    int accepted() const { return st_->accepted; }
    int requests() const { return st_->requests; }
    /// Bytes of `repeated` the client took (writes that completed).
    std::uint64_t repeated_bytes_written() const { return st_->repeated_written; }
    /// Unsolicited writes that completed: over loopback, their bytes are then
    /// in the client's socket.
    int unsolicited_written() const { return st_->unsolicited_written; }

private:
    using tcp = boost::asio::ip::tcp;

    struct state {
        state(boost::asio::io_context& io, bool t, script s)
            : tls(t), run(std::move(s)), acceptor(io), tls_ctx(boost::asio::ssl::context::tls_server) {}
        bool tls;
        script run;
        tcp::acceptor acceptor;
        boost::asio::ssl::context tls_ctx;
        emulator::self_signed_certificate cert;
        int accepted = 0;
        int requests = 0;
        std::uint64_t repeated_written = 0;
        int unsolicited_written = 0;
    };

    static constexpr auto tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

    static std::size_t content_length(const std::string& head) {
        std::string lower(head);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        const auto at = lower.find("\r\ncontent-length:");
        if (at == std::string::npos) return 0;
        return std::stoul(lower.substr(at + 17));
    }

    template <class Stream>
    static boost::asio::awaitable<void> serve(Stream& s, tcp::socket& sock, std::shared_ptr<state> st, int conn) {
        namespace asio = boost::asio;
        std::string in;
        for (int index = 0;; ++index) {
            auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(in), "\r\n\r\n", tuple);
            if (ec) co_return;
            request_seen seen{conn, index, in.substr(0, n), {}};
            in.erase(0, n);
            const std::size_t length = content_length(seen.head);
            if (in.size() < length) {
                auto [bec, bn] = co_await asio::async_read(s, asio::dynamic_buffer(in),
                                                           asio::transfer_exactly(length - in.size()), tuple);
                if (bec) co_return;
            }
            seen.body = in.substr(0, length);
            in.erase(0, length);
            ++st->requests;
            const scripted_reply reply = st->run(seen);
            for (std::size_t i = 0; i < reply.writes.size(); ++i) {
                if (i > 0 && reply.write_gap.count() > 0) {
                    asio::steady_timer gap(s.get_executor());
                    gap.expires_after(reply.write_gap);
                    co_await gap.async_wait(tuple);
                }
                auto [wec, wn] = co_await asio::async_write(s, asio::buffer(reply.writes[i]), tuple);
                if (wec) co_return;
            }
            for (std::size_t i = 0; i < reply.repeat_count; ++i) {
                auto [wec, wn] = co_await asio::async_write(s, asio::buffer(reply.repeated), tuple);
                if (wec) co_return;
                st->repeated_written += wn;
            }
            if (!reply.after_repeat.empty()) {
                auto [wec, wn] = co_await asio::async_write(s, asio::buffer(reply.after_repeat), tuple);
                if (wec) co_return;
            }
            if (!reply.unsolicited.empty()) {
                asio::steady_timer pause(s.get_executor());
                pause.expires_after(reply.pause);
                co_await pause.async_wait(tuple);
                auto [wec, wn] = co_await asio::async_write(s, asio::buffer(reply.unsolicited), tuple);
                if (wec) co_return;
                ++st->unsolicited_written;
            }
            if (reply.close_after) co_return;
            if (reply.stop_reading) {
                asio::steady_timer hold(s.get_executor());
                hold.expires_after(std::chrono::minutes(1));
                co_await hold.async_wait(tuple);
                co_return;
            }
            if (reply.hold_open) {
                char sink[512];
                for (;;) {
                    auto [rec, rn] = co_await sock.async_read_some(asio::buffer(sink), tuple);
                    if (rec) co_return;
                }
            }
        }
    }

    static boost::asio::awaitable<void> session(tcp::socket sock, std::shared_ptr<state> st) {
        namespace asio = boost::asio;
        const int conn = st->accepted++;
        boost::system::error_code ignored;
        if (!st->tls) {
            co_await serve(sock, sock, st, conn);
        } else {
            asio::ssl::stream<tcp::socket&> tls(sock, st->tls_ctx);
            auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, tuple);
            if (!ec) co_await serve(tls, sock, st, conn);
        }
        sock.shutdown(tcp::socket::shutdown_send, ignored);
        sock.close(ignored);
    }

    static boost::asio::awaitable<void> accept_loop(std::shared_ptr<state> st) {
        for (;;) {
            auto [ec, sock] = co_await st->acceptor.async_accept(tuple);
            if (ec) co_return;
            boost::asio::co_spawn(st->acceptor.get_executor(), session(std::move(sock), st), boost::asio::detached);
        }
    }

    std::shared_ptr<state> st_;
};

} // namespace chatwire::testing
