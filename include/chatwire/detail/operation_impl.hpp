#pragma once
// How the library compiles an operation's entry points (see initiate.hpp).
// Include it in the one source file that defines an operation `Op` and
// instantiate there: `template struct chatwire::detail::operation<Op>;`.
// The definitions find the operation's own code by argument-dependent lookup:
//   - a coroutine operation defines
//       awaitable<std::pair<error_code, Op::result>> perform(Op);
//     and has `executor()` (client_call provides it);
//   - an operation driven by callbacks says so
//     (`static constexpr bool driven_by_callbacks = true;`) and defines
//       void begin(Op, handler<Op::result>);
//     and, unless it is handler_only (every token through begin, and
//     only `start` instantiated), awaited<Op::result> begin_awaited(Op).
//
// Cancellation has one owner, the operation's root: start's spawned
// coroutine, or await's frame inside the caller's coroutine. It sets the
// mode once: the library's coroutines never throw on cancellation, they look
// for it (is_cancelled) where a step could otherwise run on after a cancel
// whose completion was already queued. A caller's own setting is kept.
#include <chatwire/detail/initiate.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>

#include <exception>
#include <new>
#include <tuple>
#include <utility>

namespace chatwire::detail {

/// Whether a coroutine's cancellation state has seen a cancel: the one way
/// library code asks, since it does not throw on cancellation:
/// `is_cancelled(co_await asio::this_coro::cancellation_state)` (a plain
/// call, not a coroutine: it is asked before every step of an exchange).
inline bool is_cancelled(const boost::asio::cancellation_state& cs) noexcept {
    return cs.cancelled() != boost::asio::cancellation_type::none;
}

/// The error an operation's coroutine ended with when it threw.
inline error_code error_from(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
        return se.code() == boost::asio::error::operation_aborted ? make_error_code(errc::cancelled) : se.code();
    } catch (const std::bad_alloc&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    } catch (...) {
        return make_error_code(boost::system::errc::io_error);
    }
}

/// The root of an operation's own coroutine: the cancellation mode is set
/// here, once; a throw becomes the error it stands for.
template <class T>
boost::asio::awaitable<std::tuple<error_code, T>> root(boost::asio::awaitable<std::pair<error_code, T>> op) {
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    std::tuple<error_code, T> out;
    try {
        auto r = co_await std::move(op);
        std::get<0>(out) = r.first;
        std::get<1>(out) = std::move(r.second);
    } catch (...) {
        std::get<0>(out) = error_from(std::current_exception());
    }
    co_return out;
}

/// Runs `op` as a coroutine of its own on `io` and completes `h` on the
/// handler's executor, with its cancellation slot wired through.
template <class T>
void spawn(const boost::asio::any_io_executor& io, boost::asio::awaitable<std::pair<error_code, T>> op,
           handler<T> h) {
    auto ex = boost::asio::get_associated_executor(h, io);
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    boost::asio::co_spawn(
        io, root<T>(std::move(op)),
        boost::asio::bind_cancellation_slot(
            slot, boost::asio::bind_executor(ex, [h = std::move(h)](std::exception_ptr e,
                                                                     std::tuple<error_code, T> r) mutable {
                if (e) std::get<0>(r) = error_from(e);
                std::move(h)(std::get<0>(r), std::move(std::get<1>(r)));
            })));
}

/// Awaits `op` in the caller's coroutine when it runs on `io` and is not
/// cancelled already. It then shares the caller's cancellation state: what
/// cancels the caller, through the caller's filter (terminal only unless the
/// caller changed it), cancels the call, which ends with errc::cancelled.
/// The caller's throw_if_cancelled setting is restored when the call ends.
/// A caller elsewhere (a strand, another context, a thread-safe client's
/// strand), or one whose state is cancelled already, has the operation
/// spawned on `io` as start() would, and resumes on its own executor.
template <class T>
awaited<T> await_here(boost::asio::any_io_executor io, boost::asio::awaitable<std::pair<error_code, T>> op) {
    namespace this_coro = boost::asio::this_coro;
    // Each co_await on a line of its own: GCC 12 can destroy a temporary
    // awaited inside a call's arguments twice (a strand's count with it).
    const auto here = co_await this_coro::executor;
    const auto state = co_await this_coro::cancellation_state;
    if (here == io && state.cancelled() == boost::asio::cancellation_type::none) {
        // The root here, as root() is for a spawned call (inline: no frame more).
        const bool caller_throws = co_await this_coro::throw_if_cancelled();
        co_await this_coro::throw_if_cancelled(false);
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
        [&io, &op](auto h) { spawn<T>(io, std::move(op), handler<T>(std::move(h))); },
        boost::asio::as_tuple(boost::asio::use_awaitable));
}

/// An operation driven by callbacks rather than by a coroutine of its own
/// (it says so itself: a lookup of `begin` could find a user's function).
template <class Op>
concept driven_by_callbacks = Op::driven_by_callbacks;

/// A client call's diagnostics start afresh when it starts.
template <class Op>
void clear_diagnostics(const Op& op) {
    if constexpr (requires { op.diag->clear(); }) op.diag->clear();
}

template <class Op>
void operation<Op>::start(Op op, handler<result> h) {
    if constexpr (driven_by_callbacks<Op>) {
        begin(std::move(op), std::move(h));
    } else {
        clear_diagnostics(op);
        auto io = op.executor();
        spawn<result>(io, perform(std::move(op)), std::move(h));
    }
}

template <class Op>
awaited<typename operation<Op>::result> operation<Op>::await(Op op) {
    if constexpr (driven_by_callbacks<Op>) {
        return begin_awaited(std::move(op));
    } else {
        clear_diagnostics(op);
        auto io = op.executor();
        return await_here<result>(std::move(io), perform(std::move(op)));
    }
}

} // namespace chatwire::detail
