#pragma once
// A response whose body is read piece by piece as it arrives (SSE, JSON lines).
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace chatwire::http {

namespace detail {
struct stream_state;
/// body_stream::async_read_some, described once (see chatwire::detail::initiate):
/// every token goes through its handler, a piece at hand through a post.
struct read_some {
    using result = std::string_view;
    static constexpr bool driven_by_callbacks = true;
    static constexpr bool handler_only = true;
    std::shared_ptr<stream_state> state;
};
} // namespace detail

/// The status and headers of a response, and its body as a sequence of pieces.
/// Dropping it before the body ended closes the connection (it never returns
/// to the pool half-read). Not thread-safe: one read at a time.
/// With client_options::thread_safe, closing or dropping it from any thread
/// closes its connection on the client's strand.
class body_stream {
public:
    body_stream() = default;
    /// A body with a Content-Encoding other than identity, or a
    /// Transfer-Encoding other than chunked (identity aside), is refused: every
    /// read reports errc::unsupported_encoding (the connection is closed).
    explicit body_stream(std::shared_ptr<detail::stream_state> state);
    /// Moves the stream; the moved-from one is closed.
    body_stream(body_stream&&) noexcept = default;
    /// Closes this stream and takes `other`.
    body_stream& operator=(body_stream&&) noexcept;
    ~body_stream();

    /// The response status.
    unsigned status() const noexcept;
    /// The response headers (empty after discard_headers()).
    const fields& headers() const noexcept;
    /// Frees the response headers, for a caller that has taken what it needs
    /// of them and holds the stream for long (a held chat reply: about 0.7
    /// KiB). What the body's reads need of them was taken at construction.
    void discard_headers() noexcept;
    /// Whether the stream holds a response (a default-constructed or moved-from one does not).
    bool is_open() const noexcept { return state_ != nullptr; }
    /// True once the whole body was read (the connection then went back to the pool).
    bool done() const noexcept;
    /// The HTTP version the response came over: 11 or 20 (0 when not open).
    int http_version() const noexcept;
    /// The HTTP/2 error code (RFC 9113 §7) that reset the stream or ended its
    /// connection while the body was read; unset otherwise, and over HTTP/1.1.
    std::optional<std::uint32_t> http2_error() const noexcept;

    /// Reads the next piece of the body: void(error_code, std::string_view).
    /// The view points into the connection's buffer and stays valid until the
    /// next call. The end of the body is errc::end_of_stream; a body cut off by
    /// the peer is errc::truncated_stream; a compressed one
    /// errc::unsupported_encoding. Supports terminal cancellation, which
    /// closes the connection. One read at a time: a second while one is
    /// pending completes with errc::invalid_argument. A piece already at hand
    /// completes through a post (Boost 1.81 has no immediate executor), so a
    /// reader that loops should take those with try_read_some() first.
    /// Precondition: is_open().
    template <class CompletionToken>
    auto async_read_some(CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token), detail::read_some{state_});
    }

    /// The next piece from the bytes already received, without suspending or
    /// touching the event loop: true with a piece or a final code (as
    /// async_read_some would complete), false when only a socket read can
    /// tell; then call async_read_some. The piece stays valid until the next
    /// call. While an async_read_some is pending it returns true with
    /// errc::invalid_argument; on a stream that is not open, errc::cancelled.
    bool try_read_some(error_code& ec, std::string_view& piece) noexcept;

    /// Closes the connection now; a pending read completes with errc::cancelled.
    void close() noexcept;

    /// Gives up the rest of the body, keeping the connection when it can: the
    /// stream is closed for the caller at once, and what the body still holds
    /// is read and dropped in the background. When its end arrives within
    /// `linger` (and within 64 KiB), with nothing after it, the connection
    /// goes back to the pool; otherwise it is closed. For a reply whose last
    /// event came before its body's end (servers often flush the end
    /// separately). No read may be pending; without one, closes as close() does.
    void release(std::chrono::milliseconds linger) noexcept;

private:
    std::shared_ptr<detail::stream_state> state_;
};

} // namespace chatwire::http

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::http::detail::read_some>;
