#pragma once
// Shared by the components (private): runs an operation's coroutine and completes the caller's type-erased handler
// on the handler's own executor, with its cancellation slot wired through.
#include <chatwire/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>

#include <exception>
#include <new>
#include <utility>

namespace chatwire::detail {

template <class T>
using result_handler = boost::asio::any_completion_handler<void(error_code, T)>;

template <class T>
void spawn_op(const boost::asio::any_io_executor& io, boost::asio::awaitable<std::pair<error_code, T>> op,
              result_handler<T> handler) {
    auto ex = boost::asio::get_associated_executor(handler, io);
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    boost::asio::co_spawn(
        io, std::move(op),
        boost::asio::bind_cancellation_slot(
            slot, boost::asio::bind_executor(ex, [h = std::move(handler)](std::exception_ptr e,
                                                                          std::pair<error_code, T> r) mutable {
                if (e) {
                    try {
                        std::rethrow_exception(e);
                    } catch (const boost::system::system_error& se) {
                        // A cancelled coroutine throws operation_aborted at its next co_await.
                        r.first = se.code() == boost::asio::error::operation_aborted
                                      ? make_error_code(errc::cancelled)
                                      : se.code();
                    } catch (const std::bad_alloc&) {
                        r.first = make_error_code(boost::system::errc::not_enough_memory);
                    } catch (...) {
                        r.first = make_error_code(boost::system::errc::io_error);
                    }
                }
                std::move(h)(r.first, std::move(r.second));
            })));
}

} // namespace chatwire::detail
