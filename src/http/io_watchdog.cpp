#include "io_watchdog.hpp"

#include <boost/asio/defer.hpp>

namespace chatwire::http::detail {

io_watchdog::~io_watchdog() {
    if (!watch_) return;
    watch_->socket = nullptr;
    watch_->timer.cancel();
}

void io_watchdog::arm(boost::asio::ip::tcp::socket& socket, clock::time_point until) {
    if (!watch_) watch_ = std::make_shared<watch>(socket);
    watch_->limit = until;
    wait(watch_, until);
}

void io_watchdog::wait(const std::shared_ptr<watch>& w, clock::time_point at) {
    w->armed = at;
    w->timer.expires_at(at);  // a wait for a later time ends now, as superseded
    w->timer.async_wait([w, generation = ++w->generation](boost::system::error_code ec) { fired(w, generation, ec); });
}

// Deferred, not posted: it runs after the handlers at hand, with no wake-up of
// the event loop (a post from a handler may cost an epoll_ctl). Without memory
// for the deferred check the timer is cancelled at once.
void io_watchdog::settle_later(const std::shared_ptr<watch>& w) noexcept {
    auto settle = [](const std::shared_ptr<watch>& w) {
        ++w->generation;  // the cancelled wait's handler is not the one that counts
        w->armed = clock::time_point::max();
        try {
            w->timer.cancel();
        } catch (const boost::system::system_error&) {  // Asio's reactors do not fail a cancel
        }
    };
    try {
        w->settling = true;
        boost::asio::defer(w->timer.get_executor(), [w, settle] {
            w->settling = false;
            if (!w->socket || w->limit != clock::time_point::max() || w->armed == clock::time_point::max()) return;
            settle(w);
        });
    } catch (...) {
        w->settling = false;
        settle(w);
    }
}

void io_watchdog::fired(const std::shared_ptr<watch>& w, std::uint32_t generation, boost::system::error_code ec) {
    if (generation != w->generation) return;
    w->armed = clock::time_point::max();
    if (ec || !w->socket || w->limit == clock::time_point::max()) return;
    if (clock::now() < w->limit) return wait(w, w->limit);
    w->expired = true;
    w->limit = clock::time_point::max();
    boost::system::error_code ignored;
    w->socket->close(ignored);
}

} // namespace chatwire::http::detail
