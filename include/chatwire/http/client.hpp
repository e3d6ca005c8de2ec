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
void start_request(std::shared_ptr<client_state> state, request req, diagnostics* diag,
                   chatwire::detail::handler<response> handler);
void start_open(std::shared_ptr<client_state> state, request req, diagnostics* diag,
                chatwire::detail::handler<body_stream> handler);
/// The same operations for a caller that awaits them (see detail::initiate).
namespace awaiting {
chatwire::detail::awaited<response> start_request(std::shared_ptr<client_state> state, request req, diagnostics* diag);
chatwire::detail::awaited<body_stream> start_open(std::shared_ptr<client_state> state, request req, diagnostics* diag);
} // namespace awaiting
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
    /// Another handle on an existing pool (for the library's own layers).
    explicit client(std::shared_ptr<detail::client_state> state);

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
        return chatwire::detail::initiate<response>(std::forward<CompletionToken>(token), &detail::start_request,
                                                    &detail::awaiting::start_request, state_, std::move(req), &diag);
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
        return chatwire::detail::initiate<body_stream>(std::forward<CompletionToken>(token), &detail::start_open,
                                                       &detail::awaiting::start_open, state_, std::move(req), &diag);
    }

    /// Closes idle pooled connections; connections in use close when released.
    void close_idle();

private:
    friend struct detail::access;
    std::shared_ptr<detail::client_state> state_;
};

} // namespace chatwire::http
