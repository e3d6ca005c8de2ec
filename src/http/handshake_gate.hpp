#pragma once
// The client's bound on TLS handshakes run at once
// (client_options::max_concurrent_handshakes): those past it wait their turn,
// first come first served, on the client's executor.
#include "deadline.hpp"

#include <chatwire/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <deque>
#include <memory>

namespace chatwire::http::detail {

struct client_state;

struct handshake_waiter {
    explicit handshake_waiter(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    bool granted = false;  // a slot was handed over to it
    bool gone = false;     // it waits no more (its slot taken, timed out or cancelled)
};

/// The handshake slots of one client (all origins together).
struct handshake_gate {
    std::size_t running = 0;  // slots held, including those handed to a waiter
    std::deque<std::shared_ptr<handshake_waiter>> waiters;

    /// Gives a slot back: to the longest waiter still waiting, else to the pool of free ones.
    void release() noexcept;
};

/// One slot held; given back when reset or destroyed, on every path.
class handshake_slot {
public:
    handshake_slot() = default;
    explicit handshake_slot(std::shared_ptr<client_state> owner) noexcept : owner_(std::move(owner)) {}
    handshake_slot(handshake_slot&&) noexcept = default;
    handshake_slot& operator=(handshake_slot&& other) noexcept {
        if (this != &other) {
            reset();
            owner_ = std::move(other.owner_);
        }
        return *this;
    }
    ~handshake_slot() { reset(); }

    void reset() noexcept;
    explicit operator bool() const noexcept { return owner_ != nullptr; }

private:
    std::shared_ptr<client_state> owner_;
};

/// Takes a handshake slot, waiting while the client is at its limit until
/// `stage_end` or the total deadline (then the armed timeout error) or
/// terminal cancellation (errc::cancelled). The wait is added to
/// diag.connection_wait.
boost::asio::awaitable<error_code> take_handshake_slot(std::shared_ptr<client_state> st, deadline& dl,
                                                       deadline::clock::time_point stage_end, diagnostics& diag,
                                                       handshake_slot& out);

} // namespace chatwire::http::detail
