// http::client's public operations: each is one coroutine around exchange()
// or open().
#include "client_state.hpp"
#include "h2_link.hpp"

#include <chatwire/detail/operation_impl.hpp>

#include "../detail/serial_executor.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chatwire::http {

namespace detail {
namespace {

namespace asio = boost::asio;

// A public request's URL is parsed per call (a provider client parses its
// base URL once instead). Host and Content-Length are the transport's own.
// The outgoing views `target`, `lines` and `req`, which live in the operation's frame.
error_code to_outgoing(const request& req, endpoint& to, std::string& target, std::string& lines, outgoing& out,
                       diagnostics& diag) {
    error_code ec;
    auto url = parse_url(req.url, ec);
    if (ec) return ec;
    to = make_endpoint(url);
    target = std::move(url.target);
    out.target = target;
    out.method = req.method;
    for (const auto& f : req.headers) {
        const auto name = f.name();
        if (name == field::host || name == field::content_length || name == field::transfer_encoding) continue;
        if (name == field::user_agent) out.has_user_agent = true;
        if (!append_header(lines, f.name_string(), f.value())) {
            diag.detail = "header contains CR or LF";
            return errc::invalid_argument;
        }
    }
    out.header_lines[0] = lines;
    out.body = req.body;
    return {};
}

template <class Result>
asio::awaitable<std::pair<error_code, Result>> run(std::shared_ptr<client_state> st, request req, diagnostics& diag) {
    diag.attempts = 1;
    std::pair<error_code, Result> r;
    endpoint to;
    std::string target, lines;
    outgoing out;
    if ((r.first = to_outgoing(req, to, target, lines, out, diag))) co_return r;
    client c = access::handle(st);
    attempt_info info;
    if constexpr (std::is_same_v<Result, response>)
        r.first = co_await exchange(c, to, out, diag, r.second, call_deadline(st->options.timeouts, true), info);
    else
        r.first = co_await open(c, to, out, diag, r.second, call_deadline(st->options.timeouts, false), info);
    if (info.stale_resend) ++diag.attempts;  // a stale pooled connection's request went out again
    co_return r;
}

} // namespace

// Each operation's coroutine.
asio::awaitable<std::pair<error_code, response>> perform(request_whole op) {
    return run<response>(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, body_stream>> perform(open_body op) {
    return run<body_stream>(std::move(op.state), std::move(op.request), *op.diag);
}

void start_request_throwing(std::shared_ptr<client_state> st, request req,
                            asio::any_completion_handler<void(std::exception_ptr, response)> h) {
    auto diag = std::make_unique<diagnostics>();
    auto& d = *diag;
    auto ex = asio::get_associated_executor(h, st->executor);
    auto slot = asio::get_associated_cancellation_slot(h);
    auto adapter = [h = std::move(h), diag = std::move(diag)](error_code ec, response res) mutable {
        std::move(h)(ec ? std::make_exception_ptr(error_with_diagnostics(ec, std::move(*diag))) : nullptr,
                     std::move(res));
    };
    chatwire::detail::operation<request_whole>::start(
                  request_whole{{std::move(st), &d}, std::move(req)},
                  chatwire::detail::handler<response>(
                      asio::bind_cancellation_slot(slot, asio::bind_executor(ex, std::move(adapter)))));
}

} // namespace detail


client::client(boost::asio::any_io_executor ex, client_options opts)
    : state_(std::make_shared<detail::client_state>(chatwire::detail::serial_executor(std::move(ex), opts.thread_safe),
                                                    std::move(opts))) {}

client::client(std::shared_ptr<detail::client_state> state) : state_(std::move(state)) {}

boost::asio::any_io_executor client::get_executor() const { return state_->executor; }
const client_options& client::options() const { return state_->options; }

pool_stats client::stats() const {
    pool_stats s = state_->counters;
    s.open = s.idle = 0;
    for (const auto& [key, pool] : state_->pools) {
        s.open += pool.open;
        s.idle += pool.idle.size();
        s.http2_connections += pool.links.size();
        for (const auto& link : pool.links) {
            if (link->idle()) ++s.idle;
            s.http2_streams += link->session().open_streams();
        }
    }
    return s;
}

void client::close_idle() {
    if (chatwire::detail::outside_strand(state_->executor)) {
        boost::asio::post(state_->executor, [c = *this]() mutable { c.close_idle(); });
        return;
    }
    for (auto& [key, pool] : state_->pools) {
        for (auto& c : pool.idle) c->close();
        pool.open -= pool.idle.size();
        pool.idle.clear();
        // Closing a link takes it out of the pool's list.
        for (auto& link : std::vector<std::shared_ptr<detail::h2_link>>(pool.links))
            if (link->idle()) link->close(boost::asio::error::eof);
    }
}

} // namespace chatwire::http

// Each operation's entry points, compiled once.
template struct chatwire::detail::operation<chatwire::http::detail::request_whole>;
template struct chatwire::detail::operation<chatwire::http::detail::open_body>;
