// One request/response exchange on a leased connection, whole or streamed.
// The head is written by hand into the connection's own buffer (reused from
// one request to the next), so a request is one write of one buffer.
#include "exchange.hpp"
#include "stream_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <charconv>
#include <optional>

namespace chatwire::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

bool append_header(std::string& lines, std::string_view name, std::string_view value) {
    if (name.find_first_of("\r\n:") != std::string_view::npos || name.empty() ||
        value.find_first_of("\r\n") != std::string_view::npos)
        return false;
    lines.append(name).append(": ").append(value).append("\r\n");
    return true;
}

endpoint make_endpoint(const parsed_url& url) {
    endpoint e;
    e.origin = url.origin;
    e.key = url.origin.key();
    e.host_header = url.origin.host_header();
    e.prefix = url.target;
    while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
    return e;
}

endpoint make_endpoint(std::string_view base_url, error_code& ec) {
    auto url = parse_url(base_url, ec);
    if (!ec && url.target.find('?') != std::string::npos) ec = errc::invalid_url;
    if (ec) return {};
    return make_endpoint(url);
}

namespace {

bool has_body(verb m) { return m == verb::post || m == verb::put || m == verb::patch; }

void render_head(std::string& out, const endpoint& to, const outgoing& req, const client_state& st) {
    out.clear();
    auto method = bhttp::to_string(req.method);
    out.append(method.data(), method.size()).append(1, ' ').append(req.target_prefix).append(req.target);
    out.append(" HTTP/1.1\r\nHost: ").append(to.host_header).append("\r\n");
    if (!req.has_user_agent) out.append("User-Agent: ").append(st.user_agent).append("\r\n");
    for (auto lines : req.header_lines) out.append(lines);
    if (!req.body.empty() || has_body(req.method)) {
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, req.body.size());
        out.append("Content-Length: ").append(digits, end).append("\r\n");
    }
    out.append("\r\n").append(req.body);
}


bool cancel_requested(const asio::cancellation_state& cs) { return cs.cancelled() != asio::cancellation_type::none; }

// 100 Continue, 103 Early Hints and the like precede the real answer: they
// have no body, and the real answer follows on the same connection.
bool is_interim(unsigned status) { return status >= 100 && status < 200 && status != 101; }
constexpr int max_interim_answers = 8;

template <class Parser>
void limit(Parser& p, const client_options& opts) {
    p.header_limit(static_cast<std::uint32_t>(opts.limits.max_header_bytes));
}

void renew_parser(std::optional<bhttp::response_parser<bhttp::string_body>>& parser, const client_options& opts) {
    parser.emplace();
    limit(*parser, opts);
    parser->body_limit(opts.limits.max_body_bytes);
}

void renew_parser(stream_state& s, const client_options& opts) {
    s.parser.emplace();
    s.parser->get().body().pieces = &s.pieces;
    limit(*s.parser, opts);
    s.parser->body_limit(boost::none);  // streams are bounded by the decoder's event limit instead
}

auto& parser_of(std::optional<bhttp::response_parser<bhttp::string_body>>& parser) { return *parser; }
auto& parser_of(stream_state& s) { return *s.parser; }

/// Writes the head (already in the connection's buffer) and reads the final
/// response header, past any interim ones (the parser is renewed for each),
/// then, for a whole response, its body. One coroutine for all of it.
template <class Stream, class ParserHolder>
asio::awaitable<error_code> exchange_on(Stream& s, connection& c, ParserHolder& holder, deadline& dl,
                                        const client_options& opts, bool whole) {
    // A cancel that came while a step's completion was already queued found
    // nothing to cancel; the coroutine's state keeps it (these coroutines do
    // not throw on it), so it is honoured before each next step, or the
    // exchange would run on to its end.
    if (cancel_requested(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
    c.tcp().expires_at(dl.arm(opts.timeouts.idle, errc::idle_timeout));
    c.request_written = false;
    auto [wec, n] = co_await asio::async_write(s, asio::buffer(c.head), as_tuple_awaitable);
    if (wec) co_return wec;
    c.request_written = true;
    // Interim answers do not restart the first-byte limit, and only a few are
    // taken: a server sending them for ever must not hold the call.
    const auto first_byte_end = deadline::after(deadline::clock::now(), opts.timeouts.first_byte);
    for (int interim = 0;; ++interim) {
        if (cancel_requested(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
        auto& parser = parser_of(holder);
        c.tcp().expires_at(dl.arm_until(first_byte_end, errc::first_byte_timeout));
        auto [ec, m] = co_await bhttp::async_read_header(s, c.buffer, parser, as_tuple_awaitable);
        if (ec) co_return ec;
        if (!is_interim(parser.get().result_int())) break;
        if (interim == max_interim_answers) co_return errc::bad_response;
        renew_parser(holder, opts);
    }
    if (cancel_requested(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
    auto& parser = parser_of(holder);
    while (whole && !parser.is_done()) {
        if (cancel_requested(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
        c.tcp().expires_at(dl.arm(opts.timeouts.idle, errc::idle_timeout));
        auto [ec, m] = co_await bhttp::async_read_some(s, c.buffer, parser, as_tuple_awaitable);
        if (ec) co_return ec;
    }
    co_return error_code{};
}

template <class ParserHolder>
asio::awaitable<error_code> exchange_on(connection& c, ParserHolder& holder, deadline& dl, const client_options& opts,
                                        bool whole) {
    if (auto* tls = c.tls()) return exchange_on(*tls, c, holder, dl, opts, whole);
    return exchange_on(std::get<0>(c.stream), c, holder, dl, opts, whole);
}

bool is_idempotent(verb m) {
    return m == verb::get || m == verb::head || m == verb::options || m == verb::put || m == verb::delete_;
}

// A pooled connection the server closed as it was taken (its idle timeout
// raced the request) fails before any byte of an answer. Sent again, once, on
// a new connection, when the server certainly did not act on it: the request
// never fully left, or the connection ended with a clean close (the server's
// FIN came before the request). A reset after the request went out may follow
// a server that read it and acted: only an idempotent request is resent then;
// for others the error is the caller's (or its retry policy's) to judge.
bool safe_to_resend(const error_code& ec, bool written, verb method) {
    const bool clean_close = ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                             ec == asio::ssl::error::stream_truncated;
    const bool broken = clean_close || ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
    if (!broken) return false;
    return !written || clean_close || is_idempotent(method);
}

/// Takes a connection (an idle one at once, else the pool's wait or a new
/// one) and writes the head into it.
asio::awaitable<error_code> begin(const std::shared_ptr<client_state>& st, const endpoint& to, const outgoing& req,
                                  deadline& dl, diagnostics& diag, lease& conn) {
    if (!take_idle(st, to, conn)) {
        if (auto ec = co_await acquire(st, to, dl, diag, conn)) co_return ec;
        // A cancel that came while the connection was being set up is honoured here.
        if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
            co_return errc::cancelled;
    }
    render_head(conn->head, to, req, *st);
    co_return error_code{};
}

void note_response(diagnostics& diag, unsigned status, const fields& headers) {
    diag.http_status = static_cast<int>(status);
    for (auto name : {"x-request-id", "request-id", "x-amzn-requestid"}) {
        if (auto it = headers.find(name); it != headers.end()) {
            diag.request_id = std::string(it->value());
            break;
        }
    }
}

} // namespace

// A whole (non-streamed) call is bounded even when `total` is not set.
std::chrono::steady_clock::time_point call_deadline(const timeouts& t, bool whole) {
    auto limit = t.total;
    if (whole && t.whole_call.count() > 0 && (limit.count() <= 0 || t.whole_call < limit)) limit = t.whole_call;
    return deadline::after(deadline::clock::now(), limit);
}

asio::awaitable<error_code> exchange(const client& c, const endpoint& to, const outgoing& req, diagnostics& diag,
                                     response& out, std::chrono::steady_clock::time_point end, attempt_info& info) {
    co_await asio::this_coro::throw_if_cancelled(false);
    const auto& st = access::state(c);
    deadline dl(end);
    for (int attempt = 0;; ++attempt) {
        lease conn;
        info = {};
        if (auto ec = co_await begin(st, to, req, dl, diag, conn)) co_return ec;
        const bool reused = info.connection_reused = conn->reused;
        std::optional<bhttp::response_parser<bhttp::string_body>> parser;
        renew_parser(parser, st->options);
        auto ec = co_await exchange_on(*conn, parser, dl, st->options, true);
        info.request_written = conn->request_written;
        info.response_started = parser->got_some();
        if (ec) {
            const bool cancelled = (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
            if (reused && attempt == 0 && !cancelled && !parser->got_some() &&
                safe_to_resend(ec, conn->request_written, req.method))
                continue;
            if (parser->is_header_done()) note_response(diag, parser->get().result_int(), parser->get().base());
            co_return classify(ec, dl, cancelled);  // the lease closes the connection
        }
        auto& msg = parser->get();
        note_response(diag, msg.result_int(), msg.base());
        out.status = msg.result_int();
        out.body = std::move(msg.body());
        // Bytes past the response (a stray or interim answer) would desynchronise
        // the next request on this connection: such a connection is closed.
        const bool keep = msg.keep_alive() && conn->buffer.size() == 0;
        out.headers = std::move(msg.base());
        if (keep) conn.give_back();
        co_return error_code{};
    }
}

asio::awaitable<error_code> open(const client& c, const endpoint& to, const outgoing& req, diagnostics& diag,
                                 body_stream& out, std::chrono::steady_clock::time_point end, attempt_info& info) {
    co_await asio::this_coro::throw_if_cancelled(false);
    const auto& st = access::state(c);
    deadline dl(end);
    for (int attempt = 0;; ++attempt) {
        lease conn;
        info = {};
        if (auto ec = co_await begin(st, to, req, dl, diag, conn)) co_return ec;
        const bool reused = info.connection_reused = conn->reused;
        auto state = std::make_shared<stream_state>(st, std::move(conn), dl);
        renew_parser(*state, st->options);
        auto ec = co_await exchange_on(*state->conn, *state, state->dl, st->options, false);
        info.request_written = state->conn->request_written;
        info.response_started = state->parser->got_some();
        if (ec) {
            const bool cancelled = (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
            if (reused && attempt == 0 && !cancelled && !state->parser->got_some() &&
                safe_to_resend(ec, state->conn->request_written, req.method))
                continue;
            co_return classify(ec, state->dl, cancelled);
        }
        const auto& header = state->parser->get();
        note_response(diag, header.result_int(), header.base());
        state->status = header.result_int();
        state->headers = std::move(state->parser->get().base());
        out = body_stream(std::move(state));
        co_return error_code{};
    }
}

} // namespace chatwire::http::detail
