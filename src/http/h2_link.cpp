// The HTTP/2 link's I/O: one read and one write at most in flight, each
// feeding or draining the sans-io session; the pool's bookkeeping when the
// link closes.
#include "h2_link.hpp"
#include "client_state.hpp"

#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace chatwire::http::detail {

namespace asio = boost::asio;

namespace {

// One socket read's room: a frame header and a token's DATA frame take a few
// hundred bytes; a list page's frames come 16 KiB at a time.
constexpr std::size_t input_room = 16 * 1024;
// The most one write_some of the session's output takes at once.
constexpr std::size_t max_write_piece = 64 * 1024;

} // namespace

h2_link::h2_link(const std::shared_ptr<client_state>& owner, std::unique_ptr<connection> conn,
                 const h2::session_limits& limits)
    : owner_(owner), conn_(std::move(conn)), session_(limits), idle_since_(std::chrono::steady_clock::now()),
      ping_timer_(owner->executor), ping_timeout_(owner->options.timeouts.ping) {
    // The preface and SETTINGS go out with the first stream's HEADERS.
    if (auto* tls = conn_->tls()) tls->set_full_duplex();
}

h2_link::~h2_link() {
    if (conn_) conn_->close();
}

std::int32_t h2_link::submit(const h2::request& req, h2::stream_sink& sink, error_code& ec) {
    if (closed_) {
        ec = errc::stream_reset;
        return 0;
    }
    const auto id = session_.submit(req, sink, ec);
    if (id != 0) ++served_;
    flush();
    read();
    return id;
}

void h2_link::consume(std::int32_t stream, std::size_t n) {
    if (closed_) return;
    session_.consume(stream, n);
    flush();
}

void h2_link::cancel(std::int32_t stream) {
    if (closed_) return;
    session_.cancel(stream);
    flush();
    stop_reading_if_idle();
}

// The last stream ended without a read completing (reset by this side): the
// read still pending is cancelled, so that an idle link waits on nothing and
// run() returns, as with an idle HTTP/1.1 connection. No byte is lost: a
// cancelled read took none (a TLS read keeps what it staged).
void h2_link::stop_reading_if_idle() {
    if (closed_ || session_.open_streams() != 0 || session_.ping_outstanding()) return;
    if (writing_) {
        watch_write();
        return;
    }
    if (!reading_) return;
    idle_since_ = std::chrono::steady_clock::now();
    stopping_read_ = true;
    error_code ignored;
    conn_->tcp().socket().cancel(ignored);
}

void h2_link::room_freed(std::size_t streams_before) {
    if (session_.open_streams() >= streams_before) return;
    if (session_.open_streams() == 0) idle_since_ = std::chrono::steady_clock::now();
    // Calls waiting on the origin's limit look again (each takes a stream if one is free).
    if (auto owner = owner_.lock()) owner->wake_all(owner->pools[conn_->pool_key]);
}

bool h2_link::usable_for_new_stream(const client_options& opts) {
    if (closed_) return false;
    // A write the server has not taken for a while (it stopped reading, or
    // the path died): a new stream would queue behind it. Not one more here;
    // once its streams are gone, the link closes.
    if (writing_ && std::chrono::steady_clock::now() - write_started_ > ping_timeout_) {
        if (idle()) close(errc::idle_timeout);
        return false;
    }
    if (!session_.can_open()) {
        // Idle and taking no stream (a GOAWAY, or SETTINGS_MAX_CONCURRENT_STREAMS
        // 0): nothing is read here, so nothing could change that; the slot is freed.
        if (idle() && !reading_ && !writing_) close(asio::error::eof);
        return false;
    }
    // Calls waiting for the check have not opened their streams yet: they
    // count against the cap all the same.
    if (checking_) return check_waiters_.size() < session_.max_concurrent_streams();
    if (!idle() || reading_) return true;
    // Nobody read this connection while it was idle: the server may have
    // closed it (its FIN or RST waits below), or it is too old to trust.
    if (std::chrono::steady_clock::now() - idle_since_ > opts.max_idle_age) {
        close(asio::error::eof);
        return false;
    }
    char byte;
    auto& sock = conn_->tcp().socket();
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // Bytes waiting are frames (a PING, a SETTINGS, a GOAWAY): the next read takes them.
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        close(asio::error::eof);
        return false;
    }
    // Quiet for long: a connection dropped on the way (a NAT's table, a hung
    // server) looks just like this one. A PING tells, before a request is lost to it.
    const auto quiet_for = std::chrono::steady_clock::now() - idle_since_;
    if (opts.ping_after_idle.count() > 0 && quiet_for > opts.ping_after_idle) start_check();
    return !closed_;
}

void h2_link::start_check() {
    checking_ = true;
    session_.ping();
    flush();
    read();
    if (closed_) return;  // the write failed at once: close() ended the check
    watching_write_ = false;
    ping_timer_.expires_after(ping_timeout_);
    ping_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec && self->checking_) self->close(errc::idle_timeout);
    });
}

// Idle, with a write the server has not taken: closed if it still has not
// taken it when the ping limit has passed since it last moved, so that a
// server that stopped reading holds no link (and no pending I/O) for ever.
void h2_link::watch_write() {
    if (checking_ || watching_write_) return;  // a check's limit runs on the same timer
    watching_write_ = true;
    ping_timer_.expires_at(write_started_ + ping_timeout_);
    ping_timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || !self->watching_write_) return;
        self->watching_write_ = false;
        if (self->writing_ && self->idle()) self->close(errc::idle_timeout);
    });
}

// The check ended, answered or not: the streams that waited for it go on.
void h2_link::end_check() {
    if (!checking_) return;
    checking_ = false;
    if (!closed_) idle_since_ = std::chrono::steady_clock::now();  // answered: alive as of now
    ping_timer_.cancel();
    auto waiters = std::move(check_waiters_);
    check_waiters_.clear();
    for (auto& wake : waiters) wake();
}

void h2_link::read() {
    if (reading_ || closed_ || !session_.wants_read()) return;
    // Idle, nothing is read: the event loop may return (see the header).
    if (session_.open_streams() == 0 && !session_.ping_outstanding()) return;
    if (!input_) input_.reset(new char[input_room]);
    reading_ = true;
    auto on_read = [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); };
    std::visit([&](auto& stream) { stream.async_read_some(asio::buffer(input_.get(), input_room), std::move(on_read)); },
               conn_->stream);
}

void h2_link::on_read(error_code ec, std::size_t n) {
    reading_ = false;
    if (closed_) return;
    if (stopping_read_) {
        stopping_read_ = false;
        if (ec == asio::error::operation_aborted) {
            read();  // a stream opened meanwhile needs the read back
            return;
        }
    }
    if (ec) {
        close(ec);
        return;
    }
    const std::size_t before = session_.open_streams();
    // The streams' sinks may consume or cancel from inside: their frames go out after.
    receiving_ = true;
    session_.receive(std::span<const char>(input_.get(), n));
    receiving_ = false;
    if (checking_ && !session_.ping_outstanding()) end_check();
    room_freed(before);
    flush();
    read();
    settle();
}

void h2_link::flush() {
    if (writing_ || closed_ || receiving_) return;
    const std::size_t before = session_.open_streams();
    auto out = session_.output();  // a reset stream closes as its RST_STREAM is framed
    room_freed(before);
    auto* tls = conn_->tls();
    if (out.empty() && !(tls && tls->output_pending())) {
        settle();
        return;
    }
    writing_ = true;
    auto on_wrote = [self = shared_from_this()](error_code ec, std::size_t n) { self->on_wrote(ec, n); };
    // A stall is counted from the write's last progress: a slow uplink that
    // takes a large write piece by piece is not a server that stopped reading.
    auto progress = [this](const error_code& ec, std::size_t) -> std::size_t {
        write_started_ = std::chrono::steady_clock::now();
        return ec ? 0 : max_write_piece;
    };
    if (tls) asio::async_write(*tls, asio::buffer(out.data(), out.size()), progress, std::move(on_wrote));
    else asio::async_write(std::get<0>(conn_->stream), asio::buffer(out.data(), out.size()), progress, std::move(on_wrote));
}

void h2_link::on_wrote(error_code ec, std::size_t n) {
    writing_ = false;
    if (watching_write_) {
        watching_write_ = false;
        ping_timer_.cancel();
    }
    if (closed_) return;
    if (ec) {
        close(ec);
        return;
    }
    if (n > 0) session_.wrote(n);
    flush();
    stop_reading_if_idle();
}

void h2_link::settle() {
    if (closed_ || writing_) return;
    const bool done = !session_.wants_read() && !session_.wants_write();
    // After a GOAWAY no stream opens here: the link ends with its last stream.
    const bool drained = session_.goaway().has_value() && session_.open_streams() == 0;
    if (done || drained) close(session_.failure().ec ? session_.failure().ec : make_error_code(asio::error::eof));
}

void h2_link::close(error_code ec) {
    if (closed_) return;
    closed_ = true;
    close_reason_ = ec;
    auto keep = shared_from_this();  // the pool may hold the last reference
    session_.abort(ec);
    conn_->close();
    end_check();
    if (auto owner = owner_.lock()) owner->forget(*this, conn_->pool_key);
}

} // namespace chatwire::http::detail
