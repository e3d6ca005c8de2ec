#pragma once
// One pooled connection: a TCP or TLS stream and its read buffer.

#include "io_watchdog.hpp"
#include "tls_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <string>
#include <variant>

namespace chatwire::http::detail {

struct connection {
    connection(boost::beast::tcp_stream tcp) : stream(std::in_place_index<0>, std::move(tcp)) {}
    connection(boost::beast::tcp_stream tcp, SSL_CTX* ctx) : stream(std::in_place_index<1>, std::move(tcp), ctx) {}

    std::variant<boost::beast::tcp_stream, tls_stream> stream;
    boost::beast::flat_buffer buffer;
    std::string head;      ///< the request being written; its capacity is kept for the next one
    std::string pool_key;
    std::chrono::steady_clock::time_point idle_since{};
    bool reused = false;   ///< it served a request before (so the server may have closed it since)
    bool request_written = false;  ///< the current request left whole
    const SSL_SESSION* session_kept = nullptr;  ///< the TLS session last copied to the pool
    io_watchdog io_limit;  ///< the timeouts of the I/O in flight (Beast's per-operation timer stays off)

    boost::beast::tcp_stream& tcp() {
        if (auto* t = tls()) return t->next_layer();
        return std::get<0>(stream);
    }
    tls_stream* tls() { return std::get_if<tls_stream>(&stream); }

    /// The I/O started from now on must end by `until`.
    void bound_io(std::chrono::steady_clock::time_point until) { io_limit.bound(tcp().socket(), until); }
    /// An I/O result as the caller should see it: an end forced by the bound is a timeout.
    boost::system::error_code io_result(boost::system::error_code ec) const {
        return ec && io_limit.expired() ? make_error_code(boost::beast::error::timeout) : ec;
    }

    /// Whether bytes the last read took from the socket wait unread below the
    /// connection's buffer (TLS records already received, or plaintext of a
    /// record only partly handed on): nothing may when it is reused.
    bool holds_unread_input() const noexcept {
        const auto* t = std::get_if<tls_stream>(&stream);
        return t && t->holds_unread_input();
    }

    void close() noexcept {
        boost::system::error_code ignored;
        tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        tcp().socket().close(ignored);
    }
};

} // namespace chatwire::http::detail
