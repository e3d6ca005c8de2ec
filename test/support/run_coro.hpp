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

inline void run_coro(boost::asio::io_context& io, boost::asio::awaitable<void> body,
                     std::chrono::seconds limit = std::chrono::seconds(30)) {
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
