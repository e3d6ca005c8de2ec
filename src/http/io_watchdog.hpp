#pragma once
// One timer per connection bounding the I/O in flight. Each step stores its
// limit (a clock read, no system call); the timer is re-armed only when a
// limit comes earlier than its expiry, and when it fires before the current
// limit it waits on for that one. A stream reading a token a millisecond thus
// programs the kernel's timer once an idle period instead of once a read, and
// back-to-back keep-alive requests arm it once.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace chatwire::http::detail {

class io_watchdog {
public:
    using clock = std::chrono::steady_clock;

    io_watchdog() = default;
    io_watchdog(const io_watchdog&) = delete;
    io_watchdog& operator=(const io_watchdog&) = delete;
    ~io_watchdog();

    /// The I/O on `socket` from now on must end by `until` (max: unbounded);
    /// past it the socket is closed, which ends that I/O with an error.
    void bound(boost::asio::ip::tcp::socket& socket, clock::time_point until) {
        if (until == clock::time_point::max()) return release();
        if (watch_ && watch_->armed <= until) {
            watch_->limit = until;  // the timer fires first and waits on then
            return;
        }
        arm(socket, until);
    }

    /// Nothing in flight is bounded (between requests, or a stream whose
    /// reader has not asked for more). A waiting timer is kept for a next
    /// bound that follows at once, in the same run of handlers; if none does,
    /// it is cancelled, so that an event loop with nothing else to do returns.
    void release() noexcept {
        if (!watch_) return;
        watch_->limit = clock::time_point::max();
        if (watch_->armed != clock::time_point::max() && !watch_->settling) settle_later(watch_);
    }

    /// The last bound passed and closed the socket.
    bool expired() const noexcept { return watch_ && watch_->expired; }

private:
    // Shared with the timer's handler, which may run after the connection is gone.
    struct watch {
        explicit watch(boost::asio::ip::tcp::socket& s) : timer(s.get_executor()), socket(&s) {}
        boost::asio::steady_timer timer;
        boost::asio::ip::tcp::socket* socket;  // null once the connection is gone
        clock::time_point limit = clock::time_point::max();
        clock::time_point armed = clock::time_point::max();  // the timer's expiry while it waits
        std::uint32_t generation = 0;  // of the wait that counts; an older one was superseded
        bool expired = false;
        bool settling = false;  // a check whether to cancel the timer is queued
    };
    static void settle_later(const std::shared_ptr<watch>& w) noexcept;
    static void wait(const std::shared_ptr<watch>& w, clock::time_point at);
    static void fired(const std::shared_ptr<watch>& w, std::uint32_t generation, boost::system::error_code ec);
    void arm(boost::asio::ip::tcp::socket& socket, clock::time_point until);

    std::shared_ptr<watch> watch_;
};

} // namespace chatwire::http::detail
