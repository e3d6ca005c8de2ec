#pragma once
// The emulator server's shared state, for its two wires: HTTP/1.1 in
// server.cpp and HTTP/2 in h2_wire.cpp. Everything runs on the server's strand.
#include <chatwire/emulator/engine.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>

namespace chatwire::emulator {

namespace wire {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// What stop() needs to end a connection wherever it is waiting.
struct connection_control {
    beast::tcp_stream* tcp = nullptr;
    asio::steady_timer* timer = nullptr;
    void abort() {
        tcp->cancel();
        boost::system::error_code ec;
        tcp->socket().close(ec);
        timer->cancel();
    }
};

} // namespace wire

struct server::impl {
    impl(boost::asio::any_io_executor ex, options o)
        : opts(std::move(o)), strand(boost::asio::make_strand(ex)), acceptor(strand), eng(opts) {}

    options opts;
    boost::asio::strand<boost::asio::any_io_executor> strand;
    boost::asio::ip::tcp::acceptor acceptor;
    std::optional<boost::asio::ssl::context> ssl;
    std::string cert_pem;
    engine eng;
    std::unordered_set<wire::connection_control*> connections;
    std::size_t live = 0;  ///< accepted and not yet closed (also while handshaking)
    std::uint16_t port = 0;
    bool started = false;
    bool stopped = false;

    void do_stop() {
        if (stopped) return;
        stopped = true;
        boost::system::error_code ec;
        acceptor.close(ec);
        // abort() may lead to erasure from the set once the session resumes, never now.
        for (auto* c : connections) c->abort();
    }
};


namespace wire {

using impl_ptr = std::shared_ptr<server::impl>;

// Every write has a deadline: a peer that stops reading would otherwise hold
// the connection, and the bytes planned for it, for as long as it likes.
template <class Stream, class Buffers>
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> timed_write(Stream& stream, const Buffers& buffers,
                                                                                 std::chrono::milliseconds timeout) {
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(timeout);
    auto result = co_await asio::async_write(stream, buffers, tuple_awaitable);
    tcp.expires_never();
    co_return result;
}

/// Serves an HTTP/2 connection (h2_wire.cpp): `preread` is what was read of
/// it already (the preface of a prior-knowledge connection).
template <class Stream>
asio::awaitable<void> serve_h2(Stream& stream, impl_ptr self, std::string local_address, std::string preread);

/// The address a connection reached (concrete even behind a wildcard
/// listen): a Host header naming it is not a rebound name.
std::string local_address_of(const tcp::socket& socket);

} // namespace wire
} // namespace chatwire::emulator
