#pragma once
// A streamed chat reply as a sequence of awaitable events, over any of the
// three APIs' stream formats. Bytes go from the socket buffer through the
// decoder and mapper in place; events are views valid until the next call.
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/body_stream.hpp>
#include <chatwire/stream/event.hpp>
#include <chatwire/stream/format.hpp>
#include <chatwire/stream/reply_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <tuple>

namespace chatwire {

using stream::event;
using stream::event_kind;

/// How a stream's body is framed and which API's events it carries.
using stream_format = stream::format;

namespace detail {
struct chat_stream_state;
/// chat_stream::async_next, described once (see detail::initiate).
struct next_event {
    using result = event;
    static constexpr bool driven_by_callbacks = true;
    std::shared_ptr<chat_stream_state> state;
};
} // namespace detail

/// The events of one streamed reply. One call at a time on a stream (a
/// pending async_next excludes try_next and close: cancel it through its
/// cancellation slot). With `http.thread_safe` successive calls may come from
/// different threads, its reads run on the client's strand, and closing or
/// dropping it gives its connection back on that strand.
class chat_stream {
public:
    chat_stream() = default;
    /// A stream over `body`, decoded as `format` (for the library and for tests).
    chat_stream(boost::asio::any_io_executor ex, http::body_stream body, stream_format format,
                std::string conversation_id = {});
    /// With limits of its own (the longest reply text, the largest event).
    chat_stream(boost::asio::any_io_executor ex, http::body_stream body, stream_format format,
                std::string conversation_id, stream::reply_options options);
    /// Moves the stream; the moved-from one is closed.
    chat_stream(chat_stream&&) noexcept = default;
    /// Closes this stream and takes `other`.
    chat_stream& operator=(chat_stream&&) noexcept = default;
    ~chat_stream();

    /// The next event, as an awaitable that completes at once when the event
    /// was already received: `auto [ec, ev] = co_await stream.next();`. It
    /// takes what try_next() finds and suspends only when a read is needed.
    /// The same as async_next(as_tuple(use_awaitable)).
    boost::asio::awaitable<std::tuple<error_code, event>> next();

    /// The next event: void(error_code, event). The normal end is
    /// errc::end_of_stream, right after the API's terminal event (a `result`,
    /// PollyBot's `done`, VectorShift's final status event or `[DONE]`) or,
    /// for a stream without one, at the body's end. Nothing after the terminal
    /// event is delivered or waited for: a body already received to its end
    /// gives its connection back to the pool, one still open is closed. A
    /// body that ends before the API's terminal event is
    /// errc::truncated_stream; an error event inside the stream is
    /// errc::stream_error (or errc::run_failed) with the provider's code and
    /// message in diagnostics(); a reply text longer than the options allow is
    /// errc::reply_too_large; a compressed body errc::unsupported_encoding.
    /// text_so_far() keeps what arrived in every case.
    /// Terminal cancellation closes the connection. One call at a time: a
    /// second while one is pending completes with errc::invalid_argument. On
    /// an error the event is empty. Precondition: is_open().
    /// Awaited (`use_awaitable`, `as_tuple(use_awaitable)`) it is next(): an
    /// event at hand completes without a trip through the io_context; every
    /// other token completes through the handler's executor, posted when the
    /// event was at hand.
    template <class CompletionToken>
    auto async_next(CompletionToken&& token) {
        return detail::initiate(std::forward<CompletionToken>(token), detail::next_event{state_});
    }

    /// The next event if the bytes already received (by the decoder or in
    /// the connection's buffer) hold one, without suspending or touching the
    /// event loop: true with an event or a final code (as async_next would
    /// complete), false when only a read can tell; then call async_next.
    /// Draining events this way before each async_next spares a trip through
    /// the io_context per event (each costs a post, and an epoll_wait with
    /// it, when nothing else is queued). The event stays valid until the next
    /// call. While an async_next is pending, until its handler has run, it
    /// returns true with errc::invalid_argument. Precondition: is_open().
    bool try_next(error_code& ec, event& ev);

    /// Whether the stream holds a reply (a default-constructed or moved-from one does not).
    bool is_open() const noexcept { return state_ != nullptr; }
    /// The reply text received so far (all token deltas joined).
    std::string_view text_so_far() const noexcept;
    /// The conversation to pass back to continue it (known once the API sent it).
    std::string_view conversation_id() const noexcept;
    /// Filled when the stream failed.
    const diagnostics& get_diagnostics() const noexcept;
    /// Closes the connection; a pending async_next completes with errc::cancelled.
    /// Right after the terminal event the connection goes back to the pool
    /// instead when the body's end was already received.
    void close() noexcept;

private:
    std::shared_ptr<detail::chat_stream_state> state_;
};

} // namespace chatwire

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::detail::next_event>;
