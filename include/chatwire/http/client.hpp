#pragma once
// An HTTP/1.1 client over TCP or TLS with a keep-alive pool per origin.
#include <chatwire/error.hpp>
#include <chatwire/http/body_stream.hpp>
#include <chatwire/http/message.hpp>
#include <chatwire/http/options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>

#include <cstddef>
#include <exception>
#include <memory>

namespace chatwire::http {

struct pool_stats {
    std::size_t connections_opened = 0;   ///< TCP connections made so far
    std::size_t connections_reused = 0;   ///< requests that took a pooled connection
    std::size_t tls_sessions_resumed = 0; ///< TLS handshakes that resumed a session
    std::size_t open = 0;                 ///< connections open now (idle + in use)
    std::size_t idle = 0;                 ///< connections waiting in the pool now
};

namespace detail {
struct client_state;
using request_handler = boost::asio::any_completion_handler<void(error_code, response)>;
using open_handler = boost::asio::any_completion_handler<void(error_code, body_stream)>;
void start_request(const std::shared_ptr<client_state>& state, request req, diagnostics& diag,
                   request_handler handler);
void start_open(const std::shared_ptr<client_state>& state, request req, diagnostics& diag,
                open_handler handler);
// Adapts (error_code, T) with diagnostics to (exception_ptr, T) for the throwing overloads.
std::exception_ptr make_exception(error_code ec, diagnostics diag);
boost::asio::any_io_executor executor_of(const std::shared_ptr<client_state>& state);
} // namespace detail

/// Runs on the executor given at construction and starts no threads. Every
/// operation takes any completion token; each supports terminal cancellation,
/// which closes that operation's connection and frees its pool slot.
/// Copies share one pool. Operations keep the pool alive while they run.
class client {
public:
    explicit client(boost::asio::any_io_executor ex, client_options opts = {});

    boost::asio::any_io_executor get_executor() const;
    const client_options& options() const;
    pool_stats stats() const;

    /// Sends `req` and reads the whole response: void(error_code, response).
    /// Any status is a success here; the caller maps statuses to errors.
    /// `diag` must stay valid until completion.
    template <class CompletionToken>
    auto async_request(request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, response)>(
            [](auto handler, std::shared_ptr<detail::client_state> st, request r, diagnostics* d) {
                detail::start_request(st, std::move(r), *d, detail::request_handler(std::move(handler)));
            },
            token, state_, std::move(req), &diag);
    }

    /// Throwing overload: void(std::exception_ptr, response); the exception is
    /// an error_with_diagnostics.
    template <class CompletionToken>
    auto async_request(request req, CompletionToken&& token);

    /// Sends `req` and reads the response header: void(error_code, body_stream).
    template <class CompletionToken>
    auto async_open(request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, body_stream)>(
            [](auto handler, std::shared_ptr<detail::client_state> st, request r, diagnostics* d) {
                detail::start_open(st, std::move(r), *d, detail::open_handler(std::move(handler)));
            },
            token, state_, std::move(req), &diag);
    }

    /// Closes idle pooled connections; connections in use close when released.
    void close_idle();

private:
    std::shared_ptr<detail::client_state> state_;
};

template <class CompletionToken>
auto client::async_request(request req, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, response)>(
        [](auto handler, std::shared_ptr<detail::client_state> st, request r) {
            auto diag = std::make_shared<diagnostics>();
            auto& d = *diag;
            // Keep the caller's executor and cancellation slot on the adapter.
            auto ex = boost::asio::get_associated_executor(handler, detail::executor_of(st));
            auto slot = boost::asio::get_associated_cancellation_slot(handler);
            auto adapter = [h = std::move(handler), diag = std::move(diag)](error_code ec,
                                                                              response resp) mutable {
                std::move(h)(ec ? detail::make_exception(ec, std::move(*diag)) : nullptr,
                             std::move(resp));
            };
            detail::start_request(st, std::move(r), d,
                                  detail::request_handler(boost::asio::bind_cancellation_slot(
                                      slot, boost::asio::bind_executor(ex, std::move(adapter)))));
        },
        token, state_, std::move(req));
}

} // namespace chatwire::http
