#include "server_session.hpp"

#include "nghttp2_owners.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chatwire::emulator::h2 {
namespace {

// output() stops collecting frames once it holds this much.
constexpr std::size_t output_batch = 64 * 1024;
// What RFC 9113 §6.5.2 adds to a field's name and value in a header list's size.
constexpr std::size_t field_overhead = 32;
// SETTINGS and PING ACKs nghttp2 may hold unsent before it takes the client
// for a flooder (NGHTTP2_ERR_FLOODED): nghttp2's default, spelled out because
// it is what bounds the output of a connection whose client never reads.
constexpr std::size_t max_outbound_ack = 1000;
// Entries a SETTINGS frame may carry: nghttp2's default, spelled out for the
// same reason (a hostile client's huge SETTINGS cost memory to process).
constexpr std::size_t max_settings_entries = 32;
// The rapid-reset bound: nghttp2's defaults in Debian's patched 1.52, spelled
// out so that an unpatched build says (reset_rate_limited()) it lacks them.
constexpr std::uint64_t reset_burst = 1000;
constexpr std::uint64_t reset_rate = 33;
// The queue's consumed prefix is dropped once it passes this, so that a long
// stream's queue does not keep all it ever sent.
constexpr std::size_t compact_after = 16 * 1024;

std::string_view view(const std::uint8_t* p, std::size_t n) {
    return {reinterpret_cast<const char*>(p), n};
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
    auto* n = reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data()));
    auto* v = reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data()));
    return {n, v, name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "chatwire.emulator.h2"; }
    std::string message(int e) const override {
        switch (static_cast<session_errc>(e)) {
        case session_errc::protocol_error: return "the client broke the HTTP/2 protocol";
        case session_errc::flooded: return "the client exceeded the HTTP/2 flood limits";
        case session_errc::no_such_stream: return "no such open stream";
        case session_errc::already_answered: return "the stream was already answered";
        case session_errc::not_answered: return "the stream has no response head yet";
        case session_errc::ended: return "the response already ended";
        case session_errc::failed: return "the connection failed";
        }
        return "unknown";
    }
};

// A request's stream and its response's body queue.
struct stream_state {
    incoming_request req;
    std::size_t header_bytes = 0;
    std::optional<refusal> refuse;  // decided while reading, acted on when its frame ends
    bool refused = false;           // answered by the session itself
    bool answered = false;
    bool response_ended = false;
    bool deferred = false;          // nghttp2 waits for resume_data
    bool close_after_head = false;  // refused before its body ended: RST_STREAM once the answer left
    std::string queue;              // body not yet framed, from `taken` on
    std::size_t taken = 0;
};

} // namespace

const std::error_category& session_category() noexcept {
    static const category c;
    return c;
}

std::error_code make_error_code(session_errc e) noexcept {
    return {static_cast<int>(e), session_category()};
}

request to_engine_request(incoming_request&& r, std::string local_address, std::uint16_t local_port) {
    request out;
    out.method = std::move(r.method);
    out.target = std::move(r.path);
    out.headers = std::move(r.fields);
    // The engine's admin gate and links read Host; HTTP/2 carries it as
    // :authority, which a client may send instead of it.
    const bool has_host = std::any_of(out.headers.begin(), out.headers.end(),
                                      [](const auto& f) { return f.first == "host"; });
    if (!has_host && !r.authority.empty()) out.headers.emplace_back("host", std::move(r.authority));
    out.body = std::move(r.body);
    out.keep_alive = true;
    out.version = 20;  // not an HTTP/1.x framing choice: to_wire() is not used for HTTP/2
    out.local_address = std::move(local_address);
    out.local_port = local_port;
    return out;
}

struct server_session::impl final : ng::body_reader {
    server_handlers handlers;
    server_settings settings;
    session_stats stats;
    ng::session_ptr s;
    std::unordered_map<std::int32_t, stream_state> streams;
    // Handler calls wait until nghttp2 has returned, so that handlers may use the session.
    std::vector<std::function<void()>> events;
    std::string out;
    std::size_t out_off = 0;
    std::error_code failure;
    bool rate_limited = false;

    stream_state* find(std::int32_t id) {
        const auto it = streams.find(id);
        return it == streams.end() ? nullptr : &it->second;
    }

    void deliver() {
        while (!events.empty()) {
            auto batch = std::exchange(events, {});
            for (auto& e : batch) e();
        }
    }

    // The session's own answer to a request over a limit: a bodiless status,
    // and the stream's end (RFC 9113 §8.1 lets a server close a stream whose
    // request it answered before the body ended, with NO_ERROR). The reset
    // waits until the head has gone (on_frame_send): submitted together,
    // nghttp2 sends the RST_STREAM first and drops the head.
    void refuse(std::int32_t id, stream_state& st, refusal why, bool request_ended) {
        st.refused = true;
        st.answered = st.response_ended = true;
        st.req.body.clear();
        st.req.body.shrink_to_fit();
        const std::string status = why == refusal::header_list_too_large ? "431" : "413";
        const nghttp2_nv head[] = {nv(":status", status), nv("content-length", "0")};
        ng::submit_response(s.get(), id, head, nullptr);
        st.close_after_head = !request_ended;
        ++stats.refused;
        events.emplace_back([this, id, why] {
            if (handlers.on_refused) handlers.on_refused(id, why);
        });
    }

    void complete(std::int32_t id, stream_state& st) {
        ++stats.requests;
        events.emplace_back([this, req = std::move(st.req), id]() mutable {
            req.stream = id;
            if (handlers.on_request) handlers.on_request(std::move(req));
        });
        st.req = {};
    }

    long read(std::int32_t id, std::uint8_t* buf, std::size_t length, bool& eof) override {
        auto* st = find(id);
        if (!st) {
            eof = true;
            return 0;
        }
        const auto n = std::min(length, st->queue.size() - st->taken);
        if (n != 0) std::memcpy(buf, st->queue.data() + st->taken, n);
        st->taken += n;
        if (st->taken == st->queue.size()) {
            st->queue.clear();
            st->taken = 0;
        } else if (st->taken > compact_after) {
            st->queue.erase(0, st->taken);
            st->taken = 0;
        }
        if (st->queue.empty()) {
            if (st->response_ended) eof = true;
            else if (n == 0) {
                st->deferred = true;
                return -1;
            }
        }
        return static_cast<long>(n);
    }

    // nghttp2's callbacks.

    static impl& self(void* user) { return *static_cast<impl*>(user); }

    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* user) {
        auto& me = self(user);
        if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
            me.streams[f->hd.stream_id].req.stream = f->hd.stream_id;
            ++me.stats.streams_opened;
        }
        return 0;
    }

    static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name, std::size_t namelen,
                         const std::uint8_t* value, std::size_t valuelen, std::uint8_t, void* user) {
        auto& me = self(user);
        auto* st = me.find(f->hd.stream_id);
        if (!st || st->refused || st->refuse) return 0;
        st->header_bytes += namelen + valuelen + field_overhead;
        if (st->header_bytes > me.settings.max_header_list_bytes) {
            st->refuse = refusal::header_list_too_large;
            st->req = {};  // what it held of the head goes now
            return 0;
        }
        if (f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers: counted, not kept
        const auto n = view(name, namelen);
        auto v = std::string(view(value, valuelen));
        auto& r = st->req;
        if (n == ":method") r.method = std::move(v);
        else if (n == ":path") r.path = std::move(v);
        else if (n == ":authority") r.authority = std::move(v);
        else if (n == ":scheme") r.scheme = std::move(v);
        else if (!n.starts_with(':')) {
            // Known before the body: a Content-Length over the limit is refused at once.
            if (n == "content-length") {
                std::size_t len = 0;
                const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), len);
                if (ec != std::errc{} || len > me.settings.max_request_body) st->refuse = refusal::body_too_large;
            }
            r.fields.emplace_back(std::string(n), std::move(v));
        }
        return 0;
    }

    static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data, std::size_t len,
                       void* user) {
        auto& me = self(user);
        auto* st = me.find(id);
        if (!st || st->refused || st->refuse) return 0;
        if (st->req.body.size() + len > me.settings.max_request_body) st->refuse = refusal::body_too_large;
        else st->req.body.append(view(data, len));
        return 0;
    }

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* user) {
        auto& me = self(user);
        const auto id = f->hd.stream_id;
        const bool end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        switch (f->hd.type) {
        case NGHTTP2_HEADERS:
        case NGHTTP2_DATA:
            if (f->hd.type == NGHTTP2_DATA) ++me.stats.data_frames_received;
            if (auto* st = me.find(id); st && !st->refused) {
                if (st->refuse) me.refuse(id, *st, *st->refuse, end);
                else if (end) me.complete(id, *st);
            }
            break;
        case NGHTTP2_RST_STREAM: ++me.stats.reset_by_client; break;
        case NGHTTP2_PING:
            if ((f->hd.flags & NGHTTP2_FLAG_ACK) != 0) break;
            ++me.stats.pings_received;
            if (me.settings.answer_pings &&
                nghttp2_submit_ping(me.s.get(), NGHTTP2_FLAG_ACK, f->ping.opaque_data) == 0)
                ++me.stats.pings_answered;
            break;
        default: break;
        }
        return 0;
    }

    static int on_frame_send(nghttp2_session*, const nghttp2_frame* f, void* user) {
        auto& me = self(user);
        if (f->hd.type == NGHTTP2_RST_STREAM) ++me.stats.reset_by_server;
        else if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                 (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
            ++me.stats.responses_completed;
            if (auto* st = me.find(f->hd.stream_id); st && st->close_after_head) {
                st->close_after_head = false;
                nghttp2_submit_rst_stream(me.s.get(), NGHTTP2_FLAG_NONE, f->hd.stream_id, code::no_error);
            }
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t h2_error, void* user) {
        auto& me = self(user);
        if (me.streams.erase(id) == 0) return 0;
        me.events.emplace_back([&me, id, h2_error] {
            if (me.handlers.on_closed) me.handlers.on_closed(id, h2_error);
        });
        return 0;
    }

    void fail(std::ptrdiff_t lib_error) {
        failure = lib_error == NGHTTP2_ERR_FLOODED ? session_errc::flooded : session_errc::protocol_error;
    }
};

server_session::server_session(server_handlers handlers, const server_settings& settings)
    : impl_(std::make_unique<impl>()) {
    auto& m = *impl_;
    m.handlers = std::move(handlers);
    m.settings = settings;
    auto cb = ng::new_callbacks();
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb.get(), impl::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb.get(), impl::on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.get(), impl::on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb.get(), impl::on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb.get(), impl::on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb.get(), impl::on_stream_close);
    auto opt = ng::new_option();
    // PINGs are answered by on_frame_recv, so that the fault can leave them unanswered.
    nghttp2_option_set_no_auto_ping_ack(opt.get(), 1);
    nghttp2_option_set_max_outbound_ack(opt.get(), max_outbound_ack);
    nghttp2_option_set_max_settings(opt.get(), max_settings_entries);
    m.rate_limited = ng::set_stream_reset_rate_limit(opt.get(), reset_burst, reset_rate);
    m.s = ng::new_server(cb.get(), opt.get(), &m);
    const auto header_list = static_cast<std::uint32_t>(
        std::min<std::size_t>(settings.max_header_list_bytes, std::numeric_limits<std::uint32_t>::max()));
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, header_list},
    };
    if (nghttp2_submit_settings(m.s.get(), NGHTTP2_FLAG_NONE, iv, std::size(iv)) != 0)
        m.failure = session_errc::failed;  // settings out of range: the session never starts
}

server_session::~server_session() = default;

std::error_code server_session::receive(std::span<const char> bytes) {
    auto& m = *impl_;
    if (m.failure) return m.failure;
    const auto u = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    const auto r = ng::mem_recv(m.s.get(), u);
    if (r < 0) m.fail(r);
    m.deliver();
    return m.failure;
}

std::span<const char> server_session::output() {
    auto& m = *impl_;
    if (m.out_off < m.out.size()) return std::span(m.out).subspan(m.out_off);
    m.out.clear();
    m.out_off = 0;
    while (!m.failure && m.out.size() < output_batch) {
        const std::uint8_t* data = nullptr;
        const auto n = ng::mem_send(m.s.get(), data);
        if (n < 0) m.fail(n);
        if (n <= 0) break;
        m.out.append(view(data, static_cast<std::size_t>(n)));
    }
    m.deliver();
    return std::span(m.out);
}

void server_session::wrote(std::size_t n) {
    auto& m = *impl_;
    m.out_off = std::min(m.out.size(), m.out_off + n);
}

bool server_session::wants_read() const {
    return !impl_->failure && nghttp2_session_want_read(impl_->s.get()) != 0;
}

bool server_session::wants_write() const {
    const auto& m = *impl_;
    return m.out_off < m.out.size() || (!m.failure && nghttp2_session_want_write(m.s.get()) != 0);
}

std::error_code server_session::respond(std::int32_t stream, unsigned status, const header_list& fields,
                                        std::string_view body, bool end) {
    auto& m = *impl_;
    if (m.failure) return session_errc::failed;
    auto* st = m.find(stream);
    if (!st) return session_errc::no_such_stream;
    if (st->answered) return session_errc::already_answered;
    const auto code = std::to_string(status);
    std::vector<nghttp2_nv> head;
    head.reserve(fields.size() + 1);
    head.push_back(nv(":status", code));
    for (const auto& [n, v] : fields) head.push_back(nv(n, v));
    st->queue.assign(body);
    st->taken = 0;
    st->response_ended = end;
    const bool bodiless = end && body.empty();
    if (ng::submit_response(m.s.get(), stream, head, bodiless ? nullptr : &m) != 0) return session_errc::no_such_stream;
    st->answered = true;
    return {};
}

std::error_code server_session::send(std::int32_t stream, std::string_view body, bool end) {
    auto& m = *impl_;
    if (m.failure) return session_errc::failed;
    auto* st = m.find(stream);
    if (!st) return session_errc::no_such_stream;
    if (!st->answered) return session_errc::not_answered;
    if (st->response_ended) return session_errc::ended;
    st->queue.append(body);
    st->response_ended = end;
    if (st->deferred) {
        st->deferred = false;
        nghttp2_session_resume_data(m.s.get(), stream);
    }
    return {};
}

std::size_t server_session::queued(std::int32_t stream) const {
    const auto it = impl_->streams.find(stream);
    return it == impl_->streams.end() ? 0 : it->second.queue.size() - it->second.taken;
}

std::size_t server_session::open_streams() const noexcept {
    return impl_->streams.size();
}

std::error_code server_session::reset(std::int32_t stream, std::uint32_t h2_error) {
    auto& m = *impl_;
    if (m.failure) return session_errc::failed;
    auto* st = m.find(stream);
    if (!st) return session_errc::no_such_stream;
    st->queue.clear();
    st->taken = 0;
    st->response_ended = true;
    if (nghttp2_submit_rst_stream(m.s.get(), NGHTTP2_FLAG_NONE, stream, h2_error) != 0)
        return session_errc::no_such_stream;
    return {};
}

std::error_code server_session::goaway(std::int32_t last_stream, std::uint32_t h2_error) {
    auto& m = *impl_;
    if (m.failure) return session_errc::failed;
    if (nghttp2_submit_goaway(m.s.get(), NGHTTP2_FLAG_NONE, last_stream, h2_error, nullptr, 0) != 0)
        return session_errc::failed;
    return {};
}

void server_session::ping() {
    if (!impl_->failure) nghttp2_submit_ping(impl_->s.get(), NGHTTP2_FLAG_NONE, nullptr);
}

const session_stats& server_session::stats() const noexcept {
    return impl_->stats;
}

bool server_session::reset_rate_limited() const noexcept {
    return impl_->rate_limited;
}

} // namespace chatwire::emulator::h2
