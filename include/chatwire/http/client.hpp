#pragma once
// An HTTP/1.1 client over TCP or TLS with a keep-alive pool per origin.
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/body_stream.hpp>
#include <chatwire/http/message.hpp>
#include <chatwire/http/options.hpp>
#include <chatwire/http/pool_stats.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <exception>
#include <memory>

namespace chatwire::http {


namespace detail {
struct client_state;
struct access;
/// The operations of a client, each described once (see chatwire::detail::initiate).
struct request_whole : chatwire::detail::client_call<client_state, response> {
    http::request request;
};
struct open_body : chatwire::detail::client_call<client_state, body_stream> {
    http::request request;
};
void start_request_throwing(std::shared_ptr<client_state> state, request req,
                            boost::asio::any_completion_handler<void(std::exception_ptr, response)> handler);
} // namespace detail

/// Runs on the executor given at construction and starts no threads. Every
/// operation takes any completion token; each supports terminal cancellation,
/// which closes that operation's connection and frees its pool slot.
/// Copies share one pool. Operations keep the pool alive while they run.
/// Not thread-safe by default: use it from one thread (or one strand) at a
/// time. With client_options::thread_safe any thread of an io_context run by
/// several may use it: everything it does runs on a strand of its own
/// (get_executor()); stats() must then be read on that strand.
class client {
public:
    /// A client on `ex` with its own pool.
    explicit client(boost::asio::any_io_executor ex, client_options opts = {});
    /// The executor everything runs on (a strand of its own with client_options::thread_safe).
    boost::asio::any_io_executor get_executor() const;
    /// The options it was made with.
    const client_options& options() const;
    /// The pool's counters now.
    pool_stats stats() const;

    /// Sends `req` and reads the whole response: void(error_code, response).
    /// Any status is a success here; the caller maps statuses to errors.
    /// `diag` must stay valid until completion.
    template <class CompletionToken>
    auto async_request(request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::request_whole{{state_, &diag}, std::move(req)});
    }

    /// Throwing overload: void(std::exception_ptr, response); the exception is
    /// an error_with_diagnostics.
    template <class CompletionToken>
    auto async_request(request req, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, response)>(
            [](auto h, std::shared_ptr<detail::client_state> st, request r) {
                detail::start_request_throwing(
                    std::move(st), std::move(r),
                    boost::asio::any_completion_handler<void(std::exception_ptr, response)>(std::move(h)));
            },
            token, state_, std::move(req));
    }

    /// Sends `req` and reads the response header: void(error_code, body_stream).
    template <class CompletionToken>
    auto async_open(request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::open_body{{state_, &diag}, std::move(req)});
    }

    /// Closes idle pooled connections; connections in use close when released.
    void close_idle();

private:
    friend struct detail::access;
    explicit client(std::shared_ptr<detail::client_state> state);
    std::shared_ptr<detail::client_state> state_;
};

} // namespace chatwire::http

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::http::detail::request_whole>;
extern template struct chatwire::detail::operation<chatwire::http::detail::open_body>;
