#pragma once
// An HTTP/2 connection of the pool: the sans-io client session driven on one
// socket. A read is pending while a stream is open (none while the link is
// idle, so that an event loop with nothing else to do returns, as with an
// idle HTTP/1.1 connection); a write runs whenever the session has bytes to
// send. Everything runs on the client's executor (its strand with
// thread_safe). The link holds one of its origin's connection slots until it
// closes.
#include "connection.hpp"
#include "h2/client_session.hpp"

#include <chatwire/http/options.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chatwire::http::detail {

struct client_state;

class h2_link : public std::enable_shared_from_this<h2_link> {
public:
    h2_link(const std::shared_ptr<client_state>& owner, std::unique_ptr<connection> conn,
            const h2::session_limits& limits);
    ~h2_link();
    h2_link(const h2_link&) = delete;
    h2_link& operator=(const h2_link&) = delete;

    h2::client_session& session() noexcept { return session_; }
    connection& transport() noexcept { return *conn_; }

    /// Opens a stream (see client_session::submit) and starts the I/O it needs.
    std::int32_t submit(const h2::request& req, h2::stream_sink& sink, error_code& ec);
    /// Gives back a stream's bytes, resets a stream: both may send frames.
    void consume(std::int32_t stream, std::size_t n);
    void cancel(std::int32_t stream);

    /// Whether a new stream may open here now: the session takes one and the
    /// connection is still up, and not held by a write the server has not
    /// taken within timeouts::ping. An idle link is checked first (its
    /// age, and whether the server closed it while nobody read); one idle for
    /// longer than opts.ping_after_idle starts a liveness check (a PING).
    bool usable_for_new_stream(const client_options& opts);
    /// A liveness check is under way: a new stream is not sent before it
    /// ends, answered (the link goes on) or not (the link closed, the stream
    /// never sent: it may go elsewhere, whatever its method).
    bool checking() const noexcept { return checking_; }
    /// Calls `wake` once when the check under way ends.
    void when_checked(std::function<void()> wake) { check_waiters_.push_back(std::move(wake)); }
    /// Why the link closed (empty while open).
    error_code close_reason() const noexcept { return close_reason_; }
    bool idle() const noexcept { return session_.open_streams() == 0; }
    bool closed() const noexcept { return closed_; }
    /// It carried a stream before (a failure on it may be the server's idle close).
    bool reused() const noexcept { return served_ > 0; }

    /// Ends the connection: every open stream fails with `ec`; the link
    /// leaves its pool.
    void close(error_code ec);

private:
    void read();
    void flush();
    void on_read(error_code ec, std::size_t n);
    void on_wrote(error_code ec, std::size_t n);
    /// Closes the link when the session neither reads nor writes any more.
    void settle();
    void stop_reading_if_idle();
    /// Streams ended since `streams_before` was counted: waiting calls are woken.
    void room_freed(std::size_t streams_before);
    void start_check();
    void end_check();
    void watch_write();

    std::weak_ptr<client_state> owner_;
    std::unique_ptr<connection> conn_;
    h2::client_session session_;
    std::unique_ptr<char[]> input_;
    std::chrono::steady_clock::time_point idle_since_;
    std::chrono::steady_clock::time_point write_started_;  // the write in flight's last progress
    boost::asio::steady_timer ping_timer_;  // a liveness check's limit, or an idle link's stalled write's
    std::chrono::milliseconds ping_timeout_;  // the client's timeouts::ping
    std::vector<std::function<void()>> check_waiters_;
    error_code close_reason_;
    std::size_t served_ = 0;
    bool reading_ = false;
    bool writing_ = false;
    bool receiving_ = false;
    bool stopping_read_ = false;  // the pending read was cancelled because the link went idle
    bool closed_ = false;
    bool checking_ = false;  // a liveness PING is out; new streams wait for its answer
    bool watching_write_ = false;  // ping_timer_ watches an idle link's stalled write
};

} // namespace chatwire::http::detail
