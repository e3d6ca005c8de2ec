#pragma once
// The one way a public async_* starts its operation: the completion handler is
// type-erased once, here, and handed with the arguments to a compiled function
// of the library, which runs the whole operation (one coroutine) and completes
// it. Keeps templates out of users' translation units.
#include <chatwire/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

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

} // namespace chatwire::detail
