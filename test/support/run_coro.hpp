#pragma once
// Runs one test coroutine on an io_context, bounded in time; rethrows its
// failure. And a pause inside one.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <stdexcept>

namespace chatwire::testing {

/// How many times slower than a Release build this build runs the suite (the
/// sanitizers'): bounds that stop a hung test grow by it, never a check.
#ifdef CHATWIRE_TEST_TIME_SCALE
inline constexpr int test_time_scale = CHATWIRE_TEST_TIME_SCALE;
#else
inline constexpr int test_time_scale = 1;
#endif

/// Runs `body` to its end; a body still running after `limit` (scaled by
/// test_time_scale) fails the test as hung.
inline void run_coro(boost::asio::io_context& io, boost::asio::awaitable<void> body,
                     std::chrono::seconds limit = std::chrono::seconds(30)) {
    limit *= test_time_scale;
    bool done = false;
    std::exception_ptr failure;
    boost::asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
        done = true;
        failure = e;
    });
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < until) io.run_one_for(std::chrono::milliseconds(100));
    if (failure) std::rethrow_exception(failure);
    if (!done) throw std::runtime_error("test coroutine did not finish in time");
}

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    t.expires_after(d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

} // namespace chatwire::testing
