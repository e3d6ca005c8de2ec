// Reading a streamed body in place: the parser runs over the connection's own
// buffer, and each body piece is handed out as a view into it.
#include "stream_state.hpp"

#include "../detail/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

#include <stdexcept>

namespace chatwire::http {

namespace detail {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_size = 16 * 1024;

using read_result = std::pair<error_code, std::string_view>;

// Only a clean close ends a body delimited by the close; a TLS stream cut
// without close_notify could be an attacker's FIN, so it counts as truncation.
bool is_eof(const error_code& ec) { return ec == asio::error::eof; }

read_result fail(stream_state& s, error_code ec) {
    s.closed = true;
    s.conn.discard();
    return {ec, {}};
}

read_result end(stream_state& s) {
    s.finished = true;
    // Bytes past the response would be read as the next caller's answer.
    if (s.parser->keep_alive() && s.conn->buffer.size() == s.parsed_bytes) s.conn.give_back();
    else s.conn.discard();
    return {errc::end_of_stream, {}};
}

asio::awaitable<read_result> run_read_some(std::shared_ptr<stream_state> sp) {
    co_await asio::this_coro::throw_if_cancelled(false);
    auto& s = *sp;
    if (s.finished) co_return read_result{errc::end_of_stream, {}};
    if (s.closed || !s.conn) co_return read_result{errc::cancelled, {}};
    if (s.next_piece < s.pieces.size()) co_return read_result{{}, s.pieces[s.next_piece++]};

    // Every piece was handed on: the bytes they pointed at may now be reused.
    auto& c = *s.conn;
    auto& parser = *s.parser;
    c.buffer.consume(s.parsed_bytes);
    s.parsed_bytes = 0;
    s.pieces.clear();
    s.next_piece = 0;

    for (;;) {
        if (parser.is_done()) co_return end(s);
        if (c.buffer.size() > 0) {
            error_code ec;
            auto used = parser.put(c.buffer.data(), ec);
            if (ec == bhttp::error::need_more) ec = {};
            if (ec) co_return fail(s, ec);
            if (!s.pieces.empty()) {
                s.parsed_bytes = used;
                co_return read_result{{}, s.pieces[s.next_piece++]};
            }
            c.buffer.consume(used);
            if (used > 0) continue;
        }
        // Body bytes never stay in the buffer; what does is framing the parser
        // could not finish (a chunk-size line): bound it like a header.
        if (c.buffer.size() > s.client->options.limits.max_header_bytes)
            co_return fail(s, errc::header_limit_exceeded);
        c.tcp().expires_at(s.dl.arm(s.client->options.timeouts.idle, errc::idle_timeout));
        auto buf = c.buffer.prepare(read_size);
        auto [ec, n] = co_await std::visit(
            [&](auto& stream) { return stream.async_read_some(buf, as_tuple_awaitable); }, c.stream);
        auto cs = co_await asio::this_coro::cancellation_state;
        if (s.closed || cs.cancelled() != asio::cancellation_type::none) co_return fail(s, errc::cancelled);
        if (is_eof(ec)) {
            error_code eof_ec;
            parser.put_eof(eof_ec);  // completes a body delimited by the close
            if (!eof_ec && parser.is_done()) {
                s.finished = true;
                s.conn.discard();
                co_return read_result{errc::end_of_stream, {}};
            }
            co_return fail(s, errc::truncated_stream);
        }
        if (ec) co_return fail(s, classify(ec, s.dl, false));
        c.buffer.commit(n);
    }
}

} // namespace

void start_read_some(const std::shared_ptr<stream_state>& state, read_handler handler) {
    // A moved-from or default-constructed stream has no executor to complete on.
    if (!state) throw std::logic_error("body_stream::async_read_some on a stream that is not open");
    chatwire::detail::spawn_op<std::string_view>(state->client->executor, run_read_some(state), std::move(handler));
}

} // namespace detail

body_stream& body_stream::operator=(body_stream&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
    }
    return *this;
}

body_stream::~body_stream() { close(); }

unsigned body_stream::status() const noexcept { return state_ ? state_->status : 0; }

const fields& body_stream::headers() const noexcept {
    static const fields empty;
    return state_ ? state_->headers : empty;
}

bool body_stream::done() const noexcept { return state_ && state_->finished; }

void body_stream::close() noexcept {
    if (!state_) return;
    if (!state_->finished && !state_->closed) {
        state_->closed = true;
        // Closing the socket completes a pending read, which then frees the
        // slot; with no read pending the lease is released right here.
        if (state_->conn) state_->conn->close();
        if (state_.use_count() == 1) state_->conn.discard();
    }
    state_.reset();
}

} // namespace chatwire::http
