// The emulator's HTTP/2 wire: the sans-io server session (h2/) on one
// connection. The connection's coroutine reads and feeds the session; a
// writer sends what the session has to send; each request's answer is
// produced by a task of its own, timed as the plan says (events with their
// pauses, stalls, drips, resets), so that streams on one connection run side
// by side. All on the server's strand.
#include "server_impl.hpp"
#include "h2/server_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <unordered_map>

namespace chatwire::emulator::wire {

namespace {

// A stream's answer waits while this much of it is not yet framed (the
// client's windows are full): a client that does not read holds no more.
constexpr std::size_t max_queued = 256 * 1024;
constexpr auto queue_poll = std::chrono::milliseconds(5);

struct stream_task {
    explicit stream_task(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool closed = false;
};

// What the connection's coroutines share.
struct h2_connection {
    explicit h2_connection(const asio::any_io_executor& ex) : writer_wake(ex), quiet(ex) {}
    std::unique_ptr<h2::server_session> session;
    asio::steady_timer writer_wake;  // cancelled when the session may have bytes to write
    asio::steady_timer quiet;        // cancelled when the last task ends
    std::unordered_map<std::int32_t, std::shared_ptr<stream_task>> streams;
    std::size_t tasks = 0;           // the writer and the answers running
    std::size_t pings_counted = 0, data_frames_counted = 0;  // of the session's, told to the engine
    bool closing = false;

    void kick() { writer_wake.cancel(); }
    void task_done() {
        if (--tasks == 0) quiet.cancel();
    }
    bool gone(const stream_task& t) const { return closing || t.closed; }
};

template <class Stream>
asio::awaitable<void> write_loop(Stream& stream, std::shared_ptr<h2_connection> c, impl_ptr self) {
    for (;;) {
        auto out = c->session->output();
        if (out.empty()) {
            if (c->closing || (!c->session->wants_read() && !c->session->wants_write())) break;
            c->writer_wake.expires_at(asio::steady_timer::time_point::max());
            co_await c->writer_wake.async_wait(tuple_awaitable);
            continue;
        }
        auto [ec, n] = co_await timed_write(stream, asio::buffer(out.data(), out.size()), self->opts.write_timeout);
        if (ec) {
            c->closing = true;
            beast::get_lowest_layer(stream).socket().close(ec);  // ends the read as well
            break;
        }
        c->session->wrote(n);
    }
    c->task_done();
}

header_list response_fields(const response_plan& p) {
    header_list f;
    f.emplace_back("server", "chatwire-emulator");
    f.emplace_back("content-type", p.content_type);
    if (p.streaming) f.emplace_back("cache-control", "no-cache");
    else f.emplace_back("content-length", std::to_string(p.body.size()));
    for (const auto& [name, value] : p.headers) {
        std::string lower(name);
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower == "connection" || lower == "keep-alive" || lower == "transfer-encoding") continue;
        f.emplace_back(std::move(lower), value);
    }
    return f;
}

// One answer, as its plan says. The HTTP/1.1 wire's connection reset is a
// stream reset here (INTERNAL_ERROR): the other streams go on.
asio::awaitable<void> answer(std::shared_ptr<h2_connection> c, std::int32_t id, response_plan p, impl_ptr self) {
    auto task = std::make_shared<stream_task>(self->strand);
    c->streams[id] = task;
    auto& session = *c->session;
    auto pause = [&](std::chrono::milliseconds d) -> asio::awaitable<bool> {
        if (d.count() > 0 && !c->gone(*task)) {
            task->timer.expires_after(d);
            co_await task->timer.async_wait(tuple_awaitable);
        }
        co_return !c->gone(*task) && !self->stopped;
    };
    // Sends `bytes` (dripped when the plan says so), waiting while the client's windows are full.
    auto send = [&](std::string_view bytes, bool first_piece) -> asio::awaitable<bool> {
        const std::size_t step = p.drip_bytes > 0 ? p.drip_bytes : std::max<std::size_t>(bytes.size(), 1);
        for (std::size_t off = 0; off < bytes.size(); off += step) {
            if (p.drip_bytes > 0 && !(first_piece && off == 0) && !co_await pause(p.drip_delay)) co_return false;
            if (session.send(id, bytes.substr(off, step), false)) co_return false;
            c->kick();
            while (session.queued(id) > max_queued)
                if (!co_await pause(queue_poll)) co_return false;
        }
        co_return true;
    };
    // What was sent goes out before the reset, as on the HTTP/1.1 wire (a
    // RST_STREAM would drop frames still queued for the stream).
    auto reset = [&]() -> asio::awaitable<void> {
        c->kick();
        for (int i = 0; i < 1000 && (session.queued(id) > 0 || session.wants_write()); ++i)
            if (!co_await pause(std::chrono::milliseconds(1))) co_return;
        if (!c->gone(*task)) session.reset(id, p.h2_reset_code);
        c->kick();
    };
    const auto fields = response_fields(p);
    const std::size_t reset_at =
        p.reset_after_events ? std::min(*p.reset_after_events, p.streaming ? p.events.size() : 1) : SIZE_MAX;
    bool ok = true;
    if (p.refuse_stream) {
        session.reset(id, h2::code::refused_stream);
        c->kick();
        ok = false;
    } else if (p.goaway) {
        // The last stream id before this one: this request is left unprocessed.
        session.goaway(std::max<std::int32_t>(0, id - 2), *p.goaway);
        c->kick();
        ok = false;
    } else if (p.reset_before_response) {
        co_await reset();
        ok = false;
    }
    if (ok) ok = co_await pause(p.stall_before);
    if (ok && !p.streaming) {
        if (reset_at == 0) {
            co_await reset();
        } else if (p.drip_bytes == 0) {
            session.respond(id, static_cast<unsigned>(p.status), fields, p.body, reset_at == SIZE_MAX);
            if (reset_at != SIZE_MAX) co_await reset();
            c->kick();
        } else if (!session.respond(id, static_cast<unsigned>(p.status), fields, {}, false)) {
            c->kick();
            if (co_await send(p.body, true)) {
                if (reset_at != SIZE_MAX) co_await reset();
                else session.send(id, {}, true);
                c->kick();
            }
        }
    } else if (ok) {
        ok = !session.respond(id, static_cast<unsigned>(p.status), fields, {}, false);
        c->kick();
        const std::size_t n = std::min(reset_at, p.events.size());
        for (std::size_t i = 0; ok && i < n; ++i) {
            auto delay = i > 0 ? p.event_delay : std::chrono::milliseconds(0);
            if (p.stall_after_events && *p.stall_after_events == i) delay += p.stall_mid;
            ok = co_await pause(delay) && co_await send(p.events[i], i == 0);
        }
        if (ok && p.stall_after_events && *p.stall_after_events >= n) ok = co_await pause(p.stall_mid);
        if (ok) {
            if (reset_at != SIZE_MAX) co_await reset();
            else session.send(id, {}, true);
            c->kick();
        }
    }
    c->streams.erase(id);
    c->task_done();
}

} // namespace

template <class Stream>
asio::awaitable<void> serve_h2(Stream& stream, impl_ptr self, std::string local_address, std::string preread) {
    auto& tcp = beast::get_lowest_layer(stream);
    self->eng.connection_speaks(20);
    auto c = std::make_shared<h2_connection>(self->strand);
    h2::server_handlers handlers;
    // The session owns its handlers and the state owns the session: the
    // handlers hold the state weakly, or it would outlive an abandoned
    // connection (an io_context destroyed with the connection still open).
    std::weak_ptr<h2_connection> weak = c;
    handlers.on_request = [weak, self, local_address](h2::incoming_request&& r) {
        const auto c = weak.lock();
        if (!c) return;
        const auto id = r.stream;
        auto req = h2::to_engine_request(std::move(r), local_address, self->port);
        auto refused = self->eng.screen(req);
        auto plan = refused ? std::move(*refused) : self->eng.handle(req);
        ++c->tasks;
        asio::co_spawn(self->strand, answer(c, id, std::move(plan), self), asio::detached);
    };
    handlers.on_closed = [weak](std::int32_t id, std::uint32_t) {
        const auto c = weak.lock();
        if (!c) return;
        auto it = c->streams.find(id);
        if (it == c->streams.end()) return;
        it->second->closed = true;
        it->second->timer.cancel();
    };
    h2::server_settings settings;
    settings.max_concurrent_streams = self->opts.h2.max_concurrent_streams;
    settings.initial_window_size = self->opts.h2.initial_window;
    settings.answer_pings = self->opts.h2.answer_pings;
    c->session = std::make_unique<h2::server_session>(std::move(handlers), settings);
    ++c->tasks;
    asio::co_spawn(self->strand, write_loop(stream, c, self), asio::detached);

    const std::size_t have = preread.size();
    std::string input = std::move(preread);
    input.resize(std::max<std::size_t>(have, 16 * 1024));
    for (std::size_t n = have; !self->stopped;) {
        if (n > 0) {
            const auto ec = c->session->receive(std::span<const char>(input.data(), n));
            const auto& st = c->session->stats();
            if (st.pings_received != c->pings_counted || st.data_frames_received != c->data_frames_counted) {
                self->eng.h2_frames_received(st.pings_received - c->pings_counted,
                                             st.data_frames_received - c->data_frames_counted);
                c->pings_counted = st.pings_received;
                c->data_frames_counted = st.data_frames_received;
            }
            c->kick();
            if (ec || !c->session->wants_read()) break;
        }
        auto [ec, read] = co_await stream.async_read_some(asio::buffer(input.data(), input.size()), tuple_awaitable);
        if (ec) break;
        n = read;
    }
    // Stop every answer, let the writer send what is due (a GOAWAY), then wait for them all.
    c->closing = true;
    for (auto& [id, task] : c->streams) task->timer.cancel();
    c->kick();
    if (c->tasks > 0) {
        c->quiet.expires_after(self->opts.write_timeout + std::chrono::seconds(1));
        co_await c->quiet.async_wait(tuple_awaitable);
    }
    if (c->tasks > 0) {  // a write that will not end: closing the socket ends it
        boost::system::error_code ignored;
        tcp.socket().close(ignored);
        while (c->tasks > 0) {
            c->quiet.expires_after(std::chrono::milliseconds(10));
            co_await c->quiet.async_wait(tuple_awaitable);
        }
    }
    // The session's handlers hold the connection's state: dropping it breaks the cycle.
    c->session.reset();
}

template asio::awaitable<void> serve_h2(beast::tcp_stream&, impl_ptr, std::string, std::string);
template asio::awaitable<void> serve_h2(beast::ssl_stream<beast::tcp_stream>&, impl_ptr, std::string, std::string);

} // namespace chatwire::emulator::wire
