// One request/response exchange on a leased connection, whole or streamed.
#include "stream_state.hpp"

#include "../detail/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <optional>

namespace chatwire::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::use_awaitable;
using chatwire::detail::spawn_op;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

namespace {

using wire_request = bhttp::request<bhttp::string_body>;

bool has_line_break(std::string_view v) { return v.find_first_of("\r\n") != std::string_view::npos; }

wire_request to_wire(request& req, const parsed_url& url, const client_state& st, error_code& ec) {
    wire_request out;
    for (const auto& f : req.headers) {
        if (has_line_break(f.name_string()) || has_line_break(f.value())) {
            ec = errc::invalid_argument;
            return out;
        }
    }
    static_cast<fields&>(out.base()) = std::move(req.headers);
    out.method(req.method);
    out.target(url.target);
    out.version(11);
    out.set(field::host, url.origin.host_header());
    if (out.find(field::user_agent) == out.end()) out.set(field::user_agent, st.user_agent);
    out.body() = std::move(req.body);
    out.keep_alive(true);
    out.prepare_payload();
    return out;
}

asio::awaitable<bool> is_cancelled() {
    auto cs = co_await asio::this_coro::cancellation_state;
    co_return cs.cancelled() != asio::cancellation_type::none;
}

/// Writes the request.
template <class Stream>
asio::awaitable<error_code> send(Stream& s, connection& c, wire_request& req, deadline& dl,
                                 const client_options& opts) {
    c.tcp().expires_at(dl.arm(opts.timeouts.idle, errc::idle_timeout));
    auto [ec, n] = co_await bhttp::async_write(s, req, as_tuple_awaitable);
    co_return ec;
}

/// Reads a response header into `parser`.
template <class Stream, class Parser>
asio::awaitable<error_code> read_header(Stream& s, connection& c, Parser& parser, deadline& dl,
                                        const client_options& opts) {
    c.tcp().expires_at(dl.arm(opts.timeouts.first_byte, errc::first_byte_timeout));
    auto [ec, n] = co_await bhttp::async_read_header(s, c.buffer, parser, as_tuple_awaitable);
    co_return ec;
}

// 100 Continue, 103 Early Hints and the like precede the real answer: they
// have no body, and the real answer follows on the same connection.
bool is_interim(unsigned status) { return status >= 100 && status < 200 && status != 101; }

void renew_parser(std::optional<bhttp::response_parser<bhttp::string_body>>& parser, const client_options& opts) {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(opts.limits.max_header_bytes));
    parser->body_limit(opts.limits.max_body_bytes);
}

void renew_parser(stream_state& s, const client_options& opts) {
    s.parser.emplace();
    s.parser->get().body().pieces = &s.pieces;
    s.parser->header_limit(static_cast<std::uint32_t>(opts.limits.max_header_bytes));
    s.parser->body_limit(boost::none);  // streams are bounded by the decoder's event limit instead
}

auto& parser_of(std::optional<bhttp::response_parser<bhttp::string_body>>& parser) { return *parser; }
auto& parser_of(stream_state& s) { return *s.parser; }

template <class Stream, class ParserHolder>
asio::awaitable<error_code> exchange_header_on(Stream& s, connection& c, wire_request& req, ParserHolder& holder,
                                               deadline& dl, const client_options& opts) {
    if (auto ec = co_await send(s, c, req, dl, opts)) co_return ec;
    for (;;) {
        auto& parser = parser_of(holder);
        if (auto ec = co_await read_header(s, c, parser, dl, opts)) co_return ec;
        if (!is_interim(parser.get().result_int())) co_return error_code{};
        renew_parser(holder, opts);
    }
}

/// Writes the request and reads the final response header, past any interim
/// ones: the parser is renewed for each.
template <class ParserHolder>
asio::awaitable<error_code> exchange_header(connection& c, wire_request& req, ParserHolder& holder, deadline& dl,
                                            const client_options& opts) {
    return std::visit(
        [&](auto& s) -> asio::awaitable<error_code> {
            return exchange_header_on(s, c, req, holder, dl, opts);
        },
        c.stream);
}

template <class Stream, class Parser>
asio::awaitable<error_code> read_rest(Stream& s, connection& c, Parser& parser, deadline& dl,
                                      const client_options& opts) {
    while (!parser.is_done()) {
        c.tcp().expires_at(dl.arm(opts.timeouts.idle, errc::idle_timeout));
        auto [ec, n] = co_await bhttp::async_read_some(s, c.buffer, parser, as_tuple_awaitable);
        if (ec) co_return ec;
    }
    co_return error_code{};
}

struct prepared {
    parsed_url url;
    wire_request wire;
};

/// Parses, validates and takes a connection: the part both kinds of request share.
asio::awaitable<error_code> begin(std::shared_ptr<client_state> st, request& req, deadline& dl,
                                  diagnostics& diag, prepared& out, lease& conn) {
    co_await asio::this_coro::throw_if_cancelled(false);
    diag.clear();
    diag.attempts = 1;
    error_code ec;
    out.url = parse_url(req.url, ec);
    if (ec) co_return ec;
    out.wire = to_wire(req, out.url, *st, ec);
    if (ec) {
        diag.detail = "header contains CR or LF";
        co_return ec;
    }
    if (auto aec = co_await acquire(st, out.url.origin, dl, diag, conn)) co_return aec;
    // A cancel that came while the connection was being set up is honoured here.
    if (co_await is_cancelled()) co_return errc::cancelled;
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

asio::awaitable<std::pair<error_code, response>> run_request(std::shared_ptr<client_state> st, request req,
                                                             diagnostics& diag) {
    deadline dl(st->options.timeouts.total);
    prepared p;
    lease conn;
    std::pair<error_code, response> out;
    if (auto ec = co_await begin(st, req, dl, diag, p, conn)) {
        out.first = ec;
        co_return out;
    }
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    renew_parser(parser, st->options);

    auto ec = co_await exchange_header(*conn, p.wire, parser, dl, st->options);
    if (!ec) {
        ec = co_await std::visit([&](auto& s) { return read_rest(s, *conn, *parser, dl, st->options); },
                                 conn->stream);
    }
    if (ec) {
        out.first = classify(ec, dl, co_await is_cancelled());
        if (parser->is_header_done()) note_response(diag, parser->get().result_int(), parser->get().base());
        co_return out;  // the lease closes the connection
    }
    auto& msg = parser->get();
    note_response(diag, msg.result_int(), msg.base());
    out.second.status = msg.result_int();
    out.second.body = std::move(msg.body());
    // Bytes past the response (a stray or interim answer) would desynchronise
    // the next request on this connection: such a connection is closed.
    const bool keep = msg.keep_alive() && conn->buffer.size() == 0;
    out.second.headers = std::move(msg.base());
    if (keep) conn.give_back();
    co_return out;
}

asio::awaitable<std::pair<error_code, body_stream>> run_open(std::shared_ptr<client_state> st, request req,
                                                             diagnostics& diag) {
    deadline dl(st->options.timeouts.total);
    prepared p;
    lease conn;
    std::pair<error_code, body_stream> out;
    if (auto ec = co_await begin(st, req, dl, diag, p, conn)) {
        out.first = ec;
        co_return out;
    }
    auto state = std::make_shared<stream_state>(st, std::move(conn), dl);
    renew_parser(*state, st->options);

    auto ec = co_await exchange_header(*state->conn, p.wire, *state, state->dl, st->options);
    if (ec) {
        out.first = classify(ec, state->dl, co_await is_cancelled());
        co_return out;
    }
    const auto& header = state->parser->get();
    note_response(diag, header.result_int(), header.base());
    state->status = header.result_int();
    state->headers = header.base();
    out.second = body_stream(std::move(state));
    co_return out;
}

} // namespace

void start_request(const std::shared_ptr<client_state>& st, request req, diagnostics& diag,
                   request_handler handler) {
    spawn_op<response>(st->executor, run_request(st, std::move(req), diag), std::move(handler));
}

void start_open(const std::shared_ptr<client_state>& st, request req, diagnostics& diag, open_handler handler) {
    spawn_op<body_stream>(st->executor, run_open(st, std::move(req), diag), std::move(handler));
}

} // namespace chatwire::http::detail
