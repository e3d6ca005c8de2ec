#pragma once
// Private to the library: runs one operation's coroutine and completes the
// caller's type-erased handler with its result, on the handler's own
// executor, with its cancellation slot wired through. Every public async_*
// ends here: one co_spawn per public call.
#include <chatwire/detail/initiate.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>

#include <exception>
#include <new>
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

} // namespace chatwire::detail
