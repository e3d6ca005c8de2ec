// Handshake slots: taking one (at once or after a FIFO wait) and giving it back.
#include "handshake_gate.hpp"

#include "client_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

namespace chatwire::http::detail {

namespace asio = boost::asio;

void handshake_gate::release() noexcept {
    while (!waiters.empty()) {
        auto w = std::move(waiters.front());
        waiters.pop_front();
        if (w->gone) continue;
        // Handed over, not freed: a newcomer cannot take it before those in line.
        w->granted = true;
        w->timer.cancel();
        return;
    }
    if (running > 0) --running;
}

void handshake_slot::reset() noexcept {
    if (!owner_) return;
    auto owner = std::move(owner_);
    owner->handshakes.release();
}

namespace {

/// Leaves the line when the wait ends on any path, the coroutine's frame being
/// destroyed included: a slot handed over to nobody would be lost for good.
struct leave_line {
    handshake_gate& gate;
    handshake_waiter& waiter;
    ~leave_line() {
        if (waiter.gone) return;
        waiter.gone = true;
        if (waiter.granted) gate.release();
    }
};

} // namespace

asio::awaitable<error_code> take_handshake_slot(std::shared_ptr<client_state> st, deadline& dl,
                                                deadline::clock::time_point stage_end, diagnostics& diag,
                                                handshake_slot& out) {
    auto& gate = st->handshakes;
    const std::size_t limit = st->options.max_concurrent_handshakes;  // 0: no limit
    if (limit == 0 || (gate.running < limit && gate.waiters.empty())) {
        ++gate.running;
        st->counters.peak_concurrent_handshakes = std::max(st->counters.peak_concurrent_handshakes, gate.running);
        out = handshake_slot(st);
        co_return error_code{};
    }
    if (is_cancelled(co_await asio::this_coro::cancellation_state)) co_return errc::cancelled;

    ++st->counters.handshakes_waited;
    auto waiter = std::make_shared<handshake_waiter>(st->executor);
    waiter->timer.expires_at(dl.arm_until(stage_end, errc::connect_timeout));
    gate.waiters.push_back(waiter);
    const auto wait_start = std::chrono::steady_clock::now();
    {
        leave_line leave{gate, *waiter};
        co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        waiter->gone = true;
        if (waiter->granted) out = handshake_slot(st);  // held from here: given back on any later failure
    }
    diag.connection_wait += std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - wait_start);
    if (is_cancelled(co_await asio::this_coro::cancellation_state)) {
        out.reset();
        co_return errc::cancelled;
    }
    if (!out) {
        diag.detail = "no TLS handshake slot became free in time (max_concurrent_handshakes)";
        co_return dl.timeout_error();
    }
    co_return error_code{};
}

} // namespace chatwire::http::detail
