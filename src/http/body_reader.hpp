#pragma once
// Reading a streamed body in place, in two steps that callers loop over:
// take_piece() hands out what the bytes at hand hold, with no I/O and no
// event-loop trip; async_fill() reads more bytes from the socket. No coroutine
// and no type erasure on the way: a fill is one socket read with a concrete
// handler. body_stream's own: readers use its try_read_some and async_read_some.
#include "stream_state.hpp"

#include "../detail/serial_executor.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <string_view>
#include <utility>
#include <variant>

namespace chatwire::http::detail {

/// The next piece from the bytes at hand: true with a piece or a final code
/// (errc::end_of_stream at the end); false when only a read can tell.
bool take_piece(stream_state& s, error_code& ec, std::string_view& piece) noexcept;

/// Prepares the buffer and arms the idle timeout for one read; an error ends the body.
error_code begin_fill(stream_state& s, boost::asio::mutable_buffer& buffer) noexcept;

/// What a socket read brought: more bytes in the buffer (no error), or the end
/// of a body delimited by the close, or a failure; either ends the body.
error_code after_fill(stream_state& s, error_code ec, std::size_t bytes);

using fill_handler = boost::asio::any_completion_handler<void(error_code)>;

/// async_fill over HTTP/2: waits for the stream's next bytes or its end.
void h2_fill(std::shared_ptr<stream_state> s, boost::asio::cancellation_slot slot, fill_handler done);

/// Reads more of the body, then calls `done(error_code)`: no error means
/// take_piece() may have more now. Terminal cancellation through `slot`
/// cancels the read and closes the connection (others are ignored, as the
/// body could not be read on after them). `done` runs on the connection's
/// executor, never inside this call.
template <class Done>
void async_fill(std::shared_ptr<stream_state> s, boost::asio::cancellation_slot slot, Done done) {
    // With thread_safe the read starts on the client's strand, where the
    // connection's timeout watchdog runs.
    if (chatwire::detail::outside_strand(s->client->executor)) {
        auto ex = s->client->executor;
        boost::asio::post(ex, [s = std::move(s), slot, done = std::move(done)]() mutable {
            async_fill(std::move(s), slot, std::move(done));
        });
        return;
    }
    if (s->h2) return h2_fill(std::move(s), slot, fill_handler(std::move(done)));
    boost::asio::mutable_buffer buffer;
    if (const error_code ec = begin_fill(*s, buffer)) {
        boost::asio::post(s->client->executor, [done = std::move(done), ec]() mutable { std::move(done)(ec); });
        return;
    }
    // A child of the caller's slot that lets only terminal cancellation through.
    boost::asio::cancellation_slot read_slot;
    if (slot.is_connected())
        read_slot = boost::asio::cancellation_state(slot, boost::asio::enable_terminal_cancellation()).slot();
    auto on_read = [s, slot, done = std::move(done)](error_code ec, std::size_t n) mutable {
        if (slot.is_connected()) slot.clear();
        const error_code result = after_fill(*s, ec, n);
        s.reset();  // `done` holds what it needs
        std::move(done)(result);
    };
    auto& c = *s->conn;
    std::visit([&](auto& stream) {
        stream.async_read_some(buffer, boost::asio::bind_cancellation_slot(read_slot, std::move(on_read)));
    }, c.stream);
}

} // namespace chatwire::http::detail
