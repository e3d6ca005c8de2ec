#pragma once
// A response whose body is read piece by piece as it arrives (SSE, JSON lines).
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <memory>
#include <string_view>

namespace chatwire::http {

namespace detail {
struct stream_state;
using read_handler = boost::asio::any_completion_handler<void(error_code, std::string_view)>;
void start_read_some(const std::shared_ptr<stream_state>& state, read_handler handler);
} // namespace detail

class body_stream;
namespace detail {
/// For the library's own readers of the body (chat_stream), which loop over
/// its bytes without going through async_read_some.
const std::shared_ptr<stream_state>& state_of(const body_stream& body) noexcept;
} // namespace detail

/// The status and headers of a response, and its body as a sequence of pieces.
/// Dropping it before the body ended closes the connection (it never returns
/// to the pool half-read). Not thread-safe: one read at a time.
class body_stream {
public:
    body_stream() = default;
    explicit body_stream(std::shared_ptr<detail::stream_state> state) : state_(std::move(state)) {}
    body_stream(body_stream&&) noexcept = default;
    body_stream& operator=(body_stream&&) noexcept;
    ~body_stream();

    unsigned status() const noexcept;
    const fields& headers() const noexcept;
    bool is_open() const noexcept { return state_ != nullptr; }
    /// True once the whole body was read (the connection then went back to the pool).
    bool done() const noexcept;

    /// Reads the next piece of the body: void(error_code, std::string_view).
    /// The view points into the connection's buffer and stays valid until the
    /// next call. The end of the body is errc::end_of_stream; a body cut off by
    /// the peer is errc::truncated_stream. Supports terminal cancellation,
    /// which closes the connection. Precondition: is_open().
    template <class CompletionToken>
    auto async_read_some(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string_view)>(
            [](auto handler, std::shared_ptr<detail::stream_state> state) {
                detail::start_read_some(state, detail::read_handler(std::move(handler)));
            },
            token, state_);
    }

    /// Closes the connection now; a pending read completes with errc::cancelled.
    void close() noexcept;

private:
    friend const std::shared_ptr<detail::stream_state>& detail::state_of(const body_stream&) noexcept;
    std::shared_ptr<detail::stream_state> state_;
};

} // namespace chatwire::http
