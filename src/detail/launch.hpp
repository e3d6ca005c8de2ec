#pragma once
// Private to the library: runs one operation's coroutine and completes the
// caller's type-erased handler with its result, on the handler's own
// executor, with its cancellation slot wired through. Every public async_*
// ends here: one co_spawn per public call, or none when the caller awaits it
// from a coroutine on the client's executor (await_start).
#include <chatwire/detail/initiate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <new>
#include <tuple>
#include <utility>

namespace chatwire::detail {

/// The error an operation's coroutine ended with when it threw.
inline error_code error_from(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        // A cancelled coroutine throws operation_aborted at its next co_await.
        return se.code() == boost::asio::error::operation_aborted ? make_error_code(errc::cancelled) : se.code();
    } catch (const std::bad_alloc&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    } catch (...) {
        return make_error_code(boost::system::errc::io_error);
    }
}

template <class T>
void launch(const boost::asio::any_io_executor& io, boost::asio::awaitable<std::pair<error_code, T>> op,
            handler<T> h) {
    auto ex = boost::asio::get_associated_executor(h, io);
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    boost::asio::co_spawn(
        io, std::move(op),
        boost::asio::bind_cancellation_slot(
            slot, boost::asio::bind_executor(ex, [h = std::move(h)](std::exception_ptr e,
                                                                     std::pair<error_code, T> r) mutable {
                if (e) r.first = error_from(e);
                std::move(h)(r.first, std::move(r.second));
            })));
}

/// The public edge of a provider operation: the call's diagnostics start
/// afresh, then `op(state, args..., diag)` runs as the call's one coroutine.
template <class T, class State, class Op, class... Args>
void start(std::shared_ptr<State> st, diagnostics* diag, handler<T> h, Op op, Args&&... args) {
    diag->clear();
    auto ex = st->executor;
    launch<T>(ex, op(std::move(st), std::forward<Args>(args)..., *diag), std::move(h));
}

/// The fast path of a public async_* awaited with `use_awaitable` or
/// `as_tuple(use_awaitable)`: when the caller's coroutine runs on the
/// client's executor, the operation's coroutine is awaited right there, as a
/// plain awaitable (no co_spawn, no erased handler, no post, no second
/// coroutine thread). It then shares the caller's cancellation state: what
/// cancels the caller, through the caller's filter (terminal only unless the
/// caller changed it), cancels the call, which ends with errc::cancelled.
/// The caller's throw_if_cancelled setting is as it was when the call ends.
/// A caller elsewhere (a strand, another context, a thread-safe client's
/// strand), or one whose state is cancelled already (a coroutine that chose
/// not to throw on cancellation and goes on calling), has the operation run
/// on the client's executor with a fresh state, as the handler path would,
/// and resumes on its own executor. Exceptions become error codes either way.
template <class T>
boost::asio::awaitable<std::tuple<error_code, T>> await_op(boost::asio::any_io_executor io,
                                                           boost::asio::awaitable<std::pair<error_code, T>> op) {
    namespace this_coro = boost::asio::this_coro;
    // Each co_await on a line of its own: GCC 12 can destroy a temporary
    // awaited inside a call's arguments twice (a strand's count with it).
    const auto here = co_await this_coro::executor;
    const auto state = co_await this_coro::cancellation_state;
    if (here == io && state.cancelled() == boost::asio::cancellation_type::none) {
        const bool caller_throws = co_await this_coro::throw_if_cancelled();
        co_await this_coro::throw_if_cancelled(true);  // as in a coroutine of its own
        std::tuple<error_code, T> out;
        try {
            auto r = co_await std::move(op);
            std::get<0>(out) = r.first;
            std::get<1>(out) = std::move(r.second);
        } catch (...) {
            std::get<0>(out) = error_from(std::current_exception());
        }
        co_await this_coro::throw_if_cancelled(caller_throws);
        co_return out;
    }
    co_return co_await boost::asio::async_initiate<const boost::asio::as_tuple_t<boost::asio::use_awaitable_t<>>&,
                                                   void(error_code, T)>(
        [&io, &op](auto h) { launch<T>(io, std::move(op), handler<T>(std::move(h))); },
        boost::asio::as_tuple(boost::asio::use_awaitable));
}

/// start()'s twin for the fast path: the call's diagnostics start afresh,
/// then `op(state, args..., diag)` is awaited by the caller.
template <class T, class State, class Op, class... Args>
awaited<T> await_start(std::shared_ptr<State> st, diagnostics* diag, Op op, Args&&... args) {
    diag->clear();
    auto ex = st->executor;
    return await_op<T>(std::move(ex), op(std::move(st), std::forward<Args>(args)..., *diag));
}

} // namespace chatwire::detail
