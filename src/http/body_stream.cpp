// Reading a streamed body in place: the parser runs over the connection's own
// buffer, and each body piece is handed out as a view into it.
#include "body_reader.hpp"
#include "framing.hpp"

#include "../detail/serial_executor.hpp"

#include <chatwire/detail/operation_impl.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <new>
#include <stdexcept>

namespace chatwire::http {

namespace detail {
namespace {

namespace asio = boost::asio;
using read_handler = chatwire::detail::handler<std::string_view>;
namespace bhttp = boost::beast::http;
// A stream of tokens brings a few hundred bytes a read: its buffer starts
// small, as thousands of streams may wait at once, and doubles while reads
// fill it, so a large body still takes few reads (stream_state::read_size).
constexpr std::size_t max_read_size = 64 * 1024;

// Only a clean close ends a body delimited by the close; a TLS stream cut
// without close_notify could be an attacker's FIN, so it counts as truncation.
bool is_eof(const error_code& ec) { return ec == asio::error::eof; }

error_code fail(stream_state& s, error_code ec) {
    s.closed = true;
    s.conn.discard();
    if (s.h2) s.h2->reset();
    return ec;
}

// Over HTTP/2 a piece is the bytes the stream received since the last one;
// they go back to the flow-control windows when the reader asks for the
// next, so a reader that stops holds back its own stream only. The stream's
// state is the session's, touched on the client's executor alone.
bool take_h2_piece(stream_state& s, error_code& ec, std::string_view& piece) noexcept {
    if (s.closed) {
        ec = s.refused ? s.refused : make_error_code(errc::cancelled);
        return true;
    }
    if (chatwire::detail::outside_strand(s.client->executor)) return false;
    auto& h = *s.h2;
    try {
        if (!h.handed.empty()) {
            h.link->consume(h.id, h.handed.size());
            h.handed.clear();
        }
    } catch (const std::exception&) {  // no memory for the WINDOW_UPDATE's write
        ec = fail(s, make_error_code(boost::system::errc::not_enough_memory));
        return true;
    }
    if (!h.incoming.empty()) {
        h.handed.swap(h.incoming);
        piece = h.handed;
        return true;
    }
    if (!h.closed) return false;
    if (h.own_error) {
        ec = fail(s, h.own_error);
        return true;
    }
    if (h.end.ec) {
        // A body cut off, by a stream reset or the connection's end, is a
        // truncated body as over HTTP/1.1 (a reset before the head is
        // errc::stream_reset, in the call's diagnostics with its code).
        ec = fail(s, make_error_code(errc::truncated_stream));
        return true;
    }
    s.finished = true;
    ec = errc::end_of_stream;
    return true;
}

error_code end(stream_state& s) {
    s.finished = true;
    // Bytes past the response would be read as the next caller's answer.
    if (s.parser->keep_alive() && s.conn->buffer.size() == s.parsed_bytes && !s.conn->holds_unread_input())
        s.conn.give_back();
    else s.conn.discard();
    return errc::end_of_stream;
}

} // namespace

bool take_piece(stream_state& s, error_code& ec, std::string_view& piece) noexcept {
    ec = {};
    if (s.finished) {
        ec = errc::end_of_stream;
        return true;
    }
    if (s.h2) return take_h2_piece(s, ec, piece);
    if (s.closed || !s.conn) {
        ec = s.refused ? s.refused : make_error_code(errc::cancelled);
        return true;
    }
    if (s.next_piece < s.pieces.size()) {
        piece = s.pieces[s.next_piece++];
        return true;
    }
    // Every piece was handed on: the bytes they pointed at may now be reused.
    auto& c = *s.conn;
    auto& parser = *s.parser;
    c.buffer.consume(s.parsed_bytes);
    s.parsed_bytes = 0;
    s.pieces.clear();
    s.next_piece = 0;
    while (!parser.is_done() && c.buffer.size() > 0) {
        error_code pec;
        std::size_t used = 0;
        try {
            used = parser.put(c.buffer.data(), pec);  // the body reader records pieces in a vector
        } catch (const std::bad_alloc&) {
            pec = make_error_code(boost::system::errc::not_enough_memory);
        }
        if (pec == bhttp::error::need_more) pec = {};
        if (pec) {
            ec = fail(s, is_framing_error(pec) ? make_error_code(errc::bad_response) : pec);
            return true;
        }
        if (!s.pieces.empty()) {
            s.parsed_bytes = used;
            piece = s.pieces[s.next_piece++];
            return true;
        }
        c.buffer.consume(used);
        if (used == 0) break;
    }
    if (parser.is_done()) {
        ec = end(s);
        return true;
    }
    // Body bytes never stay in the buffer; what does is framing the parser
    // could not finish (a chunk-size line and its extensions, or trailers):
    // bounded like a header, and beyond that the framing is not trusted.
    if (c.buffer.size() > s.client->options.limits.max_header_bytes) {
        ec = fail(s, errc::bad_response);
        return true;
    }
    return false;
}

error_code begin_fill(stream_state& s, asio::mutable_buffer& buffer) noexcept {
    auto& c = *s.conn;
    try {
        buffer = c.buffer.prepare(s.read_size);
    } catch (const std::exception&) {  // out of memory, or past the buffer's maximum size
        return fail(s, make_error_code(boost::system::errc::not_enough_memory));
    }
    try {
        c.bound_io(s.dl.arm(s.client->options.timeouts.idle, errc::idle_timeout));
    } catch (const std::exception&) {  // no memory for the timer
        return fail(s, make_error_code(boost::system::errc::not_enough_memory));
    }
    return {};
}

error_code after_fill(stream_state& s, error_code ec, std::size_t bytes) {
    if (s.conn) {
        s.conn->io_limit.release();  // the reader may wait before asking for more
        ec = s.conn->io_result(ec);
    }
    if (s.closed || ec == asio::error::operation_aborted) return fail(s, errc::cancelled);
    if (is_clean_close(ec)) {
        // The close ends a body delimited by it; over TLS only with the
        // peer's close_notify, as a cut without one may be an attacker's.
        error_code eof_ec;
        if (is_eof(ec)) s.parser->put_eof(eof_ec);
        if (is_eof(ec) && !eof_ec && s.parser->is_done()) {
            s.finished = true;
            s.conn.discard();
            return errc::end_of_stream;
        }
        return fail(s, errc::truncated_stream);
    }
    if (ec) return fail(s, map_transport_error(ec, s.dl, false));
    if (bytes == s.read_size && s.read_size < max_read_size) s.read_size *= 2;
    s.conn->buffer.commit(bytes);
    return {};
}

namespace {

// The caller's handler with a piece: reported as cancelled if the stream was
// closed in the meantime (its bytes may be gone). The read counts as pending
// until the handler runs, as the piece would not survive a second one. Holds
// the state weakly: a stream the handler drops must close its connection at once.
auto completion(const std::shared_ptr<stream_state>& state, read_handler handler, error_code ec,
                std::string_view piece) {
    auto ex = asio::get_associated_executor(handler, state->client->executor);
    return asio::bind_executor(std::move(ex), [weak = std::weak_ptr<stream_state>(state), h = std::move(handler), ec,
                                               piece]() mutable {
        bool closed = true;
        if (const auto s = weak.lock()) {  // not held while the handler runs: it may drop the stream
            s->reading = false;
            closed = s->closed;
        }
        if (!ec && closed) {
            ec = errc::cancelled;
            piece = {};
        }
        std::move(h)(ec, piece);
    });
}

// The public read: a piece at hand completes through a post (never inside the
// initiating call); one that needed a read completes in place when the
// handler's executor allows it. Work is kept on the handler's executor while
// the read is pending.
void fill_then_read(std::shared_ptr<stream_state> state, read_handler handler) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto work = asio::prefer(asio::get_associated_executor(handler, state->client->executor),
                             asio::execution::outstanding_work.tracked);
    auto on_filled = [state, h = std::move(handler), work = std::move(work)](error_code ec) mutable {
        std::string_view piece;
        if (!ec && !take_piece(*state, ec, piece)) {
            fill_then_read(std::move(state), std::move(h));
            return;
        }
        auto io = state->client->executor;
        auto done = completion(state, std::move(h), ec, piece);
        state.reset();
        asio::dispatch(io, std::move(done));
    };
    async_fill(std::move(state), slot, std::move(on_filled));
}

} // namespace

void h2_fill(std::shared_ptr<stream_state> s, asio::cancellation_slot slot, fill_handler done) {
    auto& h = *s->h2;
    if (s->closed || h.closed || !h.incoming.empty() || !h.handed.empty()) {
        asio::post(s->client->executor, [done = std::move(done)]() mutable { std::move(done)(error_code{}); });
        return;
    }
    h.wake.expires_at(s->dl.arm(s->client->options.timeouts.idle, errc::idle_timeout));
    h.waiting = true;
    asio::cancellation_slot wait_slot;
    if (slot.is_connected())
        wait_slot = asio::cancellation_state(slot, asio::enable_terminal_cancellation()).slot();
    h.wake.async_wait(asio::bind_cancellation_slot(wait_slot, [s, slot, done = std::move(done)](error_code ec) mutable {
        if (slot.is_connected()) slot.clear();
        auto& h = *s->h2;
        const bool woken = !h.waiting;
        h.waiting = false;
        error_code result;
        if (s->closed) result = errc::cancelled;  // closed meanwhile
        else if (!woken) result = fail(*s, ec == asio::error::operation_aborted ? make_error_code(errc::cancelled)
                                                                                : make_error_code(s->dl.timeout_error()));
        s.reset();
        std::move(done)(result);
    }));
}

void begin(read_some op, read_handler handler) {
    const auto& state = op.state;
    // A moved-from or default-constructed stream has no executor to complete on.
    if (!state) throw std::logic_error("body_stream::async_read_some on a stream that is not open");
    if (state->reading) {
        // A second read would race the first over the same buffer.
        asio::post(state->client->executor,
                   asio::append(std::move(handler), make_error_code(errc::invalid_argument), std::string_view{}));
        return;
    }
    state->reading = true;
    error_code ec;
    std::string_view piece;
    if (take_piece(*state, ec, piece)) {
        asio::post(state->client->executor, completion(state, std::move(handler), ec, piece));
        return;
    }
    fill_then_read(state, std::move(handler));
}

} // namespace detail

body_stream::body_stream(std::shared_ptr<detail::stream_state> state) : state_(std::move(state)) {
    if (!state_ || state_->finished || state_->closed) return;
    if (detail::unsupported_content_coding(state_->headers).empty() &&
        detail::check_framing(state_->headers).refusal != errc::unsupported_encoding)
        return;
    state_->refused = errc::unsupported_encoding;
    state_->closed = true;
    state_->conn.discard();  // its body is never read
    if (state_->h2) state_->h2->reset();
}

bool body_stream::try_read_some(error_code& ec, std::string_view& piece) noexcept {
    piece = {};
    if (!state_) {
        ec = errc::cancelled;
        return true;
    }
    if (state_->reading) {
        ec = errc::invalid_argument;
        return true;
    }
    return detail::take_piece(*state_, ec, piece);
}

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

void body_stream::discard_headers() noexcept {
    if (state_) state_->headers = fields{};
}

int body_stream::http_version() const noexcept {
    if (!state_) return 0;
    return state_->h2 ? 20 : 11;
}

std::optional<std::uint32_t> body_stream::http2_error() const noexcept {
    if (!state_ || !state_->h2) return std::nullopt;
    const auto code = state_->h2->end.h2_error;
    if (code == h2::code::no_error) return std::nullopt;
    return code;
}

namespace detail {
namespace {

void close_stream(std::shared_ptr<stream_state> state) noexcept {
    if (!state->finished && !state->closed) {
        state->closed = true;
        // An HTTP/2 stream is reset; its connection carries on (a pending read wakes up cancelled).
        if (state->h2) {
            state->h2->reset();
            return;
        }
        // Closing the socket completes a pending read, which then frees the
        // slot; with no read pending the lease is released right here.
        if (state->conn) state->conn->close();
        if (state.use_count() == 1) state->conn.discard();
    }
}

} // namespace
} // namespace detail

namespace detail {
namespace {

// What a released body may still bring before its connection is given up.
constexpr std::size_t max_released_bytes = 64 * 1024;

// Reads and drops the rest of a released body: its end gives the connection
// back to the pool (take_piece does); a failure, the linger's end (the
// watchdog closes the socket) or too many bytes close it.
void drain_released(std::shared_ptr<stream_state> s, std::size_t budget) noexcept {
    for (;;) {
        error_code ec;
        std::string_view piece;
        if (!take_piece(*s, ec, piece)) break;
        if (ec) return;  // the end (pooled) or a failure (closed)
        if (piece.size() > budget) {
            fail(*s, errc::body_limit_exceeded);
            return;
        }
        budget -= piece.size();
    }
    try {
        async_fill(s, {}, [s, budget](error_code ec) mutable {
            if (!ec) drain_released(std::move(s), budget);
        });
    } catch (const std::exception&) {  // no memory for the read: the connection is only lost
        fail(*s, make_error_code(boost::system::errc::not_enough_memory));
    }
}

} // namespace
} // namespace detail

void body_stream::release(std::chrono::milliseconds linger) noexcept {
    if (!state_) return;
    // Over HTTP/2 giving up the rest is a reset of the stream: the connection stays.
    if (state_->finished || state_->closed || state_->reading || state_->h2) {
        close();
        return;
    }
    auto state = std::move(state_);
    // The reads from here on end by the linger, whatever the stream's own deadline.
    state->dl = detail::deadline(std::min(state->dl.end(), detail::deadline::after(detail::deadline::clock::now(), linger)));
    state->pieces.clear();
    state->next_piece = 0;
    detail::drain_released(std::move(state), detail::max_released_bytes);
}

void body_stream::close() noexcept {
    if (!state_) return;
    auto state = std::move(state_);
    // With thread_safe, the socket a read may be pending on is closed on the
    // client's strand, never beside it.
    if (chatwire::detail::outside_strand(state->client->executor)) {
        auto ex = state->client->executor;
        boost::asio::post(ex, [state = std::move(state)]() mutable { detail::close_stream(std::move(state)); });
        return;
    }
    detail::close_stream(std::move(state));
}

} // namespace chatwire::http

// Every token goes through start (read_some is handler_only): only it is compiled.
template void chatwire::detail::operation<chatwire::http::detail::read_some>::start(
    chatwire::http::detail::read_some, chatwire::detail::handler<std::string_view>);
