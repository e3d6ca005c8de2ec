#pragma once
// The one way a public async_* starts its operation: the completion handler is
// type-erased once, here, and handed with the arguments to a compiled function
// of the library, which runs the whole operation (one coroutine) and completes
// it; a caller that awaits the operation gets the library's compiled
// coroutine itself. Users' translation units instantiate only these small
// shims (and, for use_awaitable, value_or_throw's coroutine).
#include <chatwire/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace chatwire::detail {

/// The erased handler of an operation that yields a T.
template <class T>
using handler = boost::asio::any_completion_handler<void(error_code, T)>;

/// Starts `start(args..., handler<T>)` for `token`: void(error_code, T).
/// `start` is a plain function of the library, so any completion token works
/// (callbacks, use_awaitable, use_future, deferred, as_tuple).
template <class T, class CompletionToken, class Start, class... Args>
auto initiate(CompletionToken&& token, Start start, Args&&... args) {
    return boost::asio::async_initiate<CompletionToken, void(error_code, T)>(
        [](auto h, Start fn, auto&&... a) { fn(std::forward<decltype(a)>(a)..., handler<T>(std::move(h))); },
        token, start, std::forward<Args>(args)...);
}

/// What an operation's awaitable entry returns: the library's compiled
/// function awaited directly by a caller using `as_tuple(use_awaitable)`.
template <class T>
using awaited = boost::asio::awaitable<std::tuple<error_code, T>>;

/// `use_awaitable`'s shape of an awaited entry: the value, or system_error.
template <class T>
boost::asio::awaitable<T> value_or_throw(awaited<T> op) {
    auto [ec, value] = co_await std::move(op);
    if (ec) boost::throw_exception(boost::system::system_error(ec));
    co_return std::move(value);
}

/// As above, with an awaitable entry `await(args...)` for the tokens that
/// are coroutines (`use_awaitable` and `as_tuple(use_awaitable)`): the
/// library's operation is then awaited in the caller's coroutine (no
/// co_spawn, no erased handler, no post), and every other token goes
/// through `start`. Same results and errors either way; for cancellation
/// see await_op in the library.
template <class T, class CompletionToken, class Start, class Await, class... Args>
requires std::is_invocable_v<Await&, Args&&...>
auto initiate(CompletionToken&& token, Start start, Await await, Args&&... args) {
    using token_type = std::decay_t<CompletionToken>;
    if constexpr (std::is_same_v<token_type, boost::asio::use_awaitable_t<>>) {
        return value_or_throw<T>(await(std::forward<Args>(args)...));
    } else if constexpr (std::is_same_v<token_type, boost::asio::as_tuple_t<boost::asio::use_awaitable_t<>>>) {
        return await(std::forward<Args>(args)...);
    } else {
        return initiate<T>(std::forward<CompletionToken>(token), start, std::forward<Args>(args)...);
    }
}

} // namespace chatwire::detail
