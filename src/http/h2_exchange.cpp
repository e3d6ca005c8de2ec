// One attempt of an exchange over an HTTP/2 stream: the request becomes a
// HEADERS (and DATA) submission, and each wait is a wait on the stream's
// timer, bounded by the limit the machine names, until an event ends it.
#include "h2_exchange.hpp"
#include "client_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/verb.hpp>

#include <string>
#include <vector>

namespace chatwire::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using step = exchange_machine::step;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Fields HTTP/2 forbids (RFC 9113 §8.2.2): a caller's HTTP/1.1 habits are
// dropped rather than failing the request.
bool connection_specific(std::string_view name, std::string_view value) {
    for (std::string_view banned : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
        if (beast::iequals(name, banned)) return true;
    return beast::iequals(name, "te") && !beast::iequals(value, "trailers");
}

// The request's header lines ("Name: value\r\n", checked when made) as fields.
void split_lines(std::string_view lines, std::vector<h2::header_field>& out) {
    while (!lines.empty()) {
        const auto eol = lines.find("\r\n");
        const auto line = lines.substr(0, eol);
        lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        const auto name = line.substr(0, colon);
        if (!connection_specific(name, value)) out.push_back({name, value});
    }
}

// Waits for the stream's next event until `until`: true when one came;
// false at the limit or on a cancel (the caller's cancellation state tells).
asio::awaitable<bool> next_event(h2_stream& s, deadline::clock::time_point until) {
    s.wake.expires_at(until);
    s.waiting = true;
    co_await s.wake.async_wait(as_tuple_awaitable);
    const bool woken = !s.waiting;
    s.waiting = false;
    co_return woken;
}

// The stream ended before its answer was whole.
void ended_early(h2_stream& s, exchange_machine& m, diagnostics& diag) {
    if (s.end.h2_error != h2::code::no_error) diag.http2_error = s.end.h2_error;
    if (s.own_error) m.refuse(s.own_error, false);
    else if (s.end.unprocessed) m.unprocessed(s.end.ec);
    else m.failed(s.end.ec, s.head_done, false);
}

} // namespace

asio::awaitable<void> run_h2_attempt(std::shared_ptr<h2_stream> sp, exchange_machine& m, const endpoint& to,
                                     const outgoing& req, const client_state& st, diagnostics& diag) {
    auto& s = *sp;
    for (;;) {
        const step now = m.next();
        if (now == step::take_connection || now == step::deliver || now == step::fail) co_return;
        if (is_cancelled(co_await asio::this_coro::cancellation_state)) {
            s.reset();
            m.cancelled();
            continue;
        }
        switch (now) {
        case step::send_request: {
            // After an idle spell the link is checked first (a PING): the
            // request waits for the answer, bounded by the idle limit. Only
            // then is a cancel looked for again (the top of the loop did).
            if (s.link->checking()) {
                bool in_time = true;
                while (in_time && s.link->checking() && !s.link->closed()) {
                    s.link->when_checked([w = std::weak_ptr<h2_stream>(sp)] {
                        if (auto p = w.lock()) p->notify();
                    });
                    in_time = co_await next_event(s, m.io_end()) && !is_cancelled(co_await asio::this_coro::cancellation_state);
                }
                if (is_cancelled(co_await asio::this_coro::cancellation_state)) continue;  // the top of the loop ends it
                if (!in_time) {
                    // The idle limit came before the check's end: never sent, so elsewhere, once.
                    m.unprocessed(make_error_code(errc::idle_timeout));
                    break;
                }
            }
            if (s.link->closed()) {
                // Never sent: elsewhere, once, whatever the method.
                m.unprocessed(s.link->close_reason() ? s.link->close_reason() : make_error_code(errc::stream_reset));
                break;
            }
            std::vector<h2::header_field> fields;
            for (auto lines : req.header_lines) split_lines(lines, fields);
            if (!req.has_user_agent) fields.push_back({"user-agent", st.user_agent});
            std::string path(req.target_prefix);
            path += req.target;
            if (path.empty()) path.push_back('/');
            s.request_body.assign(req.body);
            const auto method = beast::http::to_string(req.method);
            h2::request r;
            r.method = std::string_view(method.data(), method.size());
            r.scheme = to.origin.tls ? "https" : "http";
            r.authority = to.host_header;
            r.path = path;
            r.fields = fields;
            r.body = s.request_body;
            error_code ec;
            s.id = s.link->submit(r, s, ec);
            if (s.id == 0) {
                // The connection takes no new stream after all (a GOAWAY came): elsewhere, once.
                if (ec == errc::stream_reset) m.unprocessed(ec);
                else {
                    diag.detail = "the request cannot be sent over HTTP/2";
                    m.no_connection(ec);
                }
                break;
            }
            m.sent();
            break;
        }
        case step::read_head:
        case step::read_body: {
            const bool head = now == step::read_head;
            bool event = true;
            // A cancel that came while an event's wake-up was queued found no
            // wait to end: it is looked for after every wake-up.
            while (event && !s.closed && !(head && s.head_done))
                event = co_await next_event(s, m.io_end()) && !is_cancelled(co_await asio::this_coro::cancellation_state);
            if (head && s.head_done) {
                m.head(s.status);
                break;
            }
            if (s.closed) {
                if (head || s.own_error || s.end.ec) ended_early(s, m, diag);
                else m.body_done();
                break;
            }
            // The limit passed, or the caller cancelled: the stream is reset, the connection goes on.
            const bool cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
            s.reset();
            m.failed(cancelled ? make_error_code(asio::error::operation_aborted)
                               : make_error_code(beast::error::timeout),
                     s.head_done, cancelled);
            break;
        }
        default: co_return;
        }
    }
}

} // namespace chatwire::http::detail
