// One request/response exchange on a leased connection, whole or streamed.
// The head is written by hand into the connection's own buffer (reused from
// one request to the next), so a request is one write of one buffer.
#include "exchange.hpp"
#include "exchange_machine.hpp"
#include "framing.hpp"
#include "h2_exchange.hpp"
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
#include <limits>
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



constexpr std::size_t max_kept_head = 64 * 1024;

// A whole answer's body goes into its string as it is parsed: what stays in
// the connection's buffer is the head, a chunk-size line or the trailers,
// each bounded by the header limit, plus one read. Beast reads on until the
// parser can move, so only the buffer's own maximum stops a chunk-size line or
// a trailer section that never ends (Beast's buffer_overflow, then
// errc::bad_response). A streamed body bounds what stays itself (take_piece).
constexpr std::size_t whole_read_room = 16 * 1024;

void bound_buffer(connection& c, const client_options& opts, bool whole) {
    c.buffer.max_size(whole ? opts.limits.max_header_bytes + whole_read_room
                            : std::numeric_limits<std::size_t>::max());
}

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


// The connection's stream is TCP or TLS: these start one operation on
// whichever it is, with the caller's completion token (no coroutine of their own).
template <class Token>
auto async_write_head(connection& c, Token&& token) {
    if (auto* tls = c.tls()) return asio::async_write(*tls, asio::buffer(c.head), std::forward<Token>(token));
    return asio::async_write(std::get<0>(c.stream), asio::buffer(c.head), std::forward<Token>(token));
}

template <class Parser, class Token>
auto async_read_header(connection& c, Parser& parser, Token&& token) {
    if (auto* tls = c.tls()) return bhttp::async_read_header(*tls, c.buffer, parser, std::forward<Token>(token));
    return bhttp::async_read_header(std::get<0>(c.stream), c.buffer, parser, std::forward<Token>(token));
}

template <class Parser, class Token>
auto async_read_some(connection& c, Parser& parser, Token&& token) {
    if (auto* tls = c.tls()) return bhttp::async_read_some(*tls, c.buffer, parser, std::forward<Token>(token));
    return bhttp::async_read_some(std::get<0>(c.stream), c.buffer, parser, std::forward<Token>(token));
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

namespace {

template <class Holder>
void parser_now_skip(Holder& holder) {
    if constexpr (std::is_same_v<Holder, std::shared_ptr<stream_state>>) holder->parser->skip(true);
    else holder.get().skip(true);
}

/// What a whole response is read into.
struct whole_parser {
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    auto& get() { return *parser; }
    void renew(const client_options& opts) { renew_parser(parser, opts); }
};

/// One exchange, whole (Out = response) or streamed (Out = body_stream), in
/// one coroutine that performs the steps exchange_machine decides: take a
/// connection, write the head, read the final head past interim answers, then
/// (whole) the body; a pooled connection the server had closed is replaced
/// once when that is safe.
template <class Out>
asio::awaitable<error_code> run_exchange(std::shared_ptr<client_state> st, const endpoint& to, const outgoing& req,
                                         diagnostics& diag, Out& out, deadline::clock::time_point end,
                                         attempt_info& info) {
    constexpr bool whole = std::is_same_v<Out, response>;
    using step = exchange_machine::step;
    const auto& opts = st->options;
    exchange_machine m(req.method, whole, opts.timeouts, deadline(end));
    lease conn;
    // The parser: on the frame for a whole response, in the stream's state for a streamed one.
    std::conditional_t<whole, whole_parser, std::shared_ptr<stream_state>> holder;
    connection* c = nullptr;
    std::shared_ptr<h2_stream> h2s;  // the attempt's stream when the connection speaks HTTP/2
    std::shared_ptr<h2_link> failed_link;  // the link an unprocessed stream is not sent again on
    auto parser_now = [&]() -> auto& {
        if constexpr (whole) return holder.get();
        else return *holder->parser;
    };
    auto renew = [&] {
        if constexpr (whole) holder.renew(opts);
        else renew_parser(*holder, opts);
        // A HEAD answer announces a body it does not send.
        if (req.method == verb::head) parser_now_skip(holder);
    };
    for (;;) {
        const step now = m.next();
        // A cancel that came while a step's completion was already queued found
        // nothing to cancel; the coroutine's state keeps it (these coroutines do
        // not throw on it), so it is honoured before each next step, or the
        // exchange would run on to its end. Taking a connection honours it itself.
        if (now != step::take_connection && now != step::deliver && now != step::fail &&
            is_cancelled(co_await asio::this_coro::cancellation_state)) {
            m.cancelled();
            continue;
        }
        error_code ec;
        switch (now) {
        case step::take_connection: {
            std::shared_ptr<h2_link> link;
            if (m.fresh_only() || !take_idle(st, to, conn, link)) {
                if (auto aec = co_await acquire(st, to, m.call_deadline(), diag, conn, link, m.fresh_only(),
                                                failed_link.get())) {
                    m.no_connection(aec);
                    break;
                }
            }
            if (link) {
                diag.http_version = 20;
                h2s = std::make_shared<h2_stream>(link, st->executor, whole, opts.limits.max_body_bytes);
                m.connected(link->reused());
                co_await run_h2_attempt(h2s, m, to, req, *st, diag);
                if (m.next() == step::take_connection) {
                    failed_link = h2s->link;  // the resend goes elsewhere
                    h2s.reset();
                }
                break;
            }
            diag.http_version = 11;
            if constexpr (whole) {
                c = &*conn;
            } else {
                holder = std::make_shared<stream_state>(st, std::move(conn), m.call_deadline());
                c = &*holder->conn;
            }
            renew();
            render_head(c->head, to, req, *st);
            bound_buffer(*c, opts, whole);
            c->request_written = false;
            m.connected(c->reused);
            break;
        }
        case step::send_request: {
            c->bound_io(m.io_end());
            auto [wec, written] = co_await async_write_head(*c, as_tuple_awaitable);
            // A request head far larger than usual (a big body) does not stay
            // with the pooled connection for its life.
            if (c->head.capacity() > max_kept_head) std::string().swap(c->head);
            if ((ec = c->io_result(wec))) break;
            c->request_written = true;
            m.sent();
            break;
        }
        case step::read_head: {
            c->bound_io(m.io_end());
            auto [hec, n] = co_await async_read_header(*c, parser_now(), as_tuple_awaitable);
            if ((ec = c->io_result(hec))) break;
            const unsigned status = parser_now().get().result_int();
            if (m.head(status)) {
                renew();
                break;
            }
            if (m.next() == step::fail) {
                diag.detail = "more than " + std::to_string(exchange_machine::max_interim_answers) +
                              " interim answers";
                if (is_cancelled(co_await asio::this_coro::cancellation_state)) m.cancelled();
                break;
            }
            // A body framed two ways, or by codings this client does not undo, is
            // refused before any of it is read; the connection is closed with the lease.
            if (m.framed_body(status)) {
                const framing_check framing = check_framing(parser_now().get().base());
                // A streamed body with a coding this client does not undo is
                // refused by its reads, as a Content-Encoding is (body_stream).
                if (framing.refusal == errc::bad_response || (framing.refusal && whole)) {
                    m.refuse(framing.refusal, is_cancelled(co_await asio::this_coro::cancellation_state));
                    diag.detail = framing.refusal == errc::bad_response
                                      ? "ambiguous response framing (Transfer-Encoding: " +
                                            std::string(framing.transfer_encoding) +
                                            " with Content-Length, or an empty coding list)"
                                      : "Transfer-Encoding: " + std::string(framing.transfer_encoding);
                }
            }
            // A whole answer without a body (or one that came with its head)
            // is delivered without a further step, so no cancel check stands
            // between it and its caller.
            if constexpr (whole)
                if (m.next() == step::read_body && parser_now().is_done()) m.body_done();
            break;
        }
        case step::read_body:
            if constexpr (whole) {
                c->bound_io(m.io_end());
                auto [rec, n] = co_await async_read_some(*c, parser_now(), as_tuple_awaitable);
                if (!(ec = c->io_result(rec)) && parser_now().is_done()) m.body_done();
            }
            break;
        case step::deliver: {
            info = m.info();
            if (h2s) {
                note_response(diag, h2s->status, h2s->headers);
                if constexpr (whole) {
                    out.status = h2s->status;
                    out.body = std::move(h2s->body);
                    out.headers = std::move(h2s->headers);
                } else {
                    auto state = std::make_shared<stream_state>(st, lease{}, m.call_deadline());
                    state->status = h2s->status;
                    state->headers = std::move(h2s->headers);
                    state->h2 = std::move(h2s);
                    out = body_stream(std::move(state));
                }
                co_return error_code{};
            }
            if constexpr (!whole) c->io_limit.release();  // its body reads bound themselves (a whole one's lease does it)
            auto& msg = parser_now().get();
            note_response(diag, msg.result_int(), msg.base());
            if constexpr (whole) {
                out.status = msg.result_int();
                out.body = std::move(msg.body());
                // Bytes past the response (a stray or interim answer) would
                // desynchronise the next request on this connection: it is closed.
                const bool keep = m.keep_connection(msg.keep_alive(), c->buffer.size() == 0 && !c->holds_unread_input());
                out.headers = std::move(msg.base());
                if (keep) conn.give_back();
            } else {
                holder->dl = m.call_deadline();  // the body's reads go on under the same deadline
                holder->status = msg.result_int();
                holder->headers = std::move(msg.base());
                out = body_stream(std::move(holder));
            }
            co_return error_code{};
        }
        case step::fail:
            info = m.info();
            if (h2s && h2s->head_done) note_response(diag, h2s->status, h2s->headers);
            else if (c && parser_now().is_header_done())
                note_response(diag, parser_now().get().result_int(), parser_now().get().base());
            co_return m.error();
        }
        if (ec) {
            const bool began = parser_now().got_some();
            m.failed(ec, began, is_cancelled(co_await asio::this_coro::cancellation_state));
            // A resend takes a new connection: this one is closed first, with
            // its lease (or the stream's state), so that it frees its slot.
            if (m.next() == step::take_connection) {
                c = nullptr;
                if constexpr (whole) conn = lease{};
                else holder.reset();
            }
        }
    }
}

} // namespace

asio::awaitable<error_code> exchange(const client& c, const endpoint& to, const outgoing& req, diagnostics& diag,
                                     response& out, std::chrono::steady_clock::time_point end, attempt_info& info) {
    return run_exchange(access::state(c), to, req, diag, out, end, info);
}

asio::awaitable<error_code> open(const client& c, const endpoint& to, const outgoing& req, diagnostics& diag,
                                 body_stream& out, std::chrono::steady_clock::time_point end, attempt_info& info) {
    return run_exchange(access::state(c), to, req, diag, out, end, info);
}

} // namespace chatwire::http::detail
