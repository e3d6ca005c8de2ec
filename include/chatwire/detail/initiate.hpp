#pragma once
// The public edge, written once. Every public async_* describes its call as
// an operation (a small struct: its arguments and its `result` type) and
// hands it to initiate(), which turns it into any completion token. The
// library compiles each operation's two entry points once
// (operation<Op>::start for a handler, operation<Op>::await for a caller
// that awaits); users' translation units instantiate only initiate's shims.
#include <chatwire/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace chatwire::detail {

/// The erased handler of an operation that yields a T.
template <class T>
using handler = boost::asio::any_completion_handler<void(error_code, T)>;

/// What an operation's awaited entry returns.
template <class T>
using awaited = boost::asio::awaitable<std::tuple<error_code, T>>;

/// The entry points of operation `Op`, compiled in the library once per
/// operation (chatwire/detail/operation_impl.hpp says how).
template <class Op>
struct operation {
    /// What the operation yields besides its error_code.
    using result = typename Op::result;
    /// Runs `op` and completes `h` through its associated executor, with its
    /// cancellation slot wired through.
    static void start(Op op, handler<result> h);
    /// Runs `op` inside the awaiting coroutine when that coroutine is on the
    /// operation's executor (no spawn, no erased handler, no post); elsewhere
    /// as start() would, resuming the caller on its own executor.
    static awaited<result> await(Op op);
};

/// The common part of a client operation: the client's state it runs on and
/// the caller's diagnostics (cleared when the call starts).
template <class State, class Result>
struct client_call {
    /// What the call yields.
    using result = Result;
    /// The client the call runs on.
    std::shared_ptr<State> state;
    /// The caller's diagnostics; must outlive the call.
    diagnostics* diag = nullptr;
    /// The executor the call runs on (used in the library only).
    boost::asio::any_io_executor executor() const { return state->executor; }
};

/// An operation that has no awaited entry: every token goes through start.
template <class Op>
concept handler_only = Op::handler_only;

/// `use_awaitable`'s shape of an awaited entry: the value, or system_error.
template <class T>
boost::asio::awaitable<T> value_or_throw(awaited<T> op) {
    auto [ec, value] = co_await std::move(op);
    if (ec) boost::throw_exception(boost::system::system_error(ec));
    co_return std::move(value);
}

/// Starts `op` for `token`, with the signature void(error_code, Op::result).
/// Any completion token works (callbacks, use_awaitable, use_future,
/// deferred, as_tuple). `use_awaitable` and `as_tuple(use_awaitable)` await
/// the library's coroutine directly; results and errors are the same.
template <class CompletionToken, class Op>
auto initiate(CompletionToken&& token, Op op) {
    using result = typename Op::result;
    using token_type = std::decay_t<CompletionToken>;
    if constexpr (!handler_only<Op> && std::is_same_v<token_type, boost::asio::use_awaitable_t<>>) {
        return value_or_throw<result>(operation<Op>::await(std::move(op)));
    } else if constexpr (!handler_only<Op> &&
                         std::is_same_v<token_type, boost::asio::as_tuple_t<boost::asio::use_awaitable_t<>>>) {
        return operation<Op>::await(std::move(op));
    } else {
        return boost::asio::async_initiate<CompletionToken, void(error_code, result)>(
            [](auto h, Op o) { operation<Op>::start(std::move(o), handler<result>(std::move(h))); }, token,
            std::move(op));
    }
}

} // namespace chatwire::detail
