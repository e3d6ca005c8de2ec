#include "client_session.hpp"

#include "nghttp2_shim.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <new>
#include <unordered_map>
#include <vector>

namespace chatwire::http::h2 {
namespace {

// The largest request head nghttp2 sends (its default, set explicitly so
// that submit() refuses a larger one instead of nghttp2 dropping it later).
constexpr std::size_t max_request_head = 64 * 1024;
// output() stops collecting frames once it holds this much.
constexpr std::size_t output_batch = 64 * 1024;
// SETTINGS and PING ACKs nghttp2 may hold unsent before it takes the peer for
// a flooder and fails the session (NGHTTP2_ERR_FLOODED): nghttp2's default,
// spelled out because it is what bounds the output of a connection whose
// writes stall while the peer keeps asking (17 bytes an ACK, 17 KB in all).
constexpr std::size_t max_outbound_ack = 1000;
// The HPACK dynamic table, both ways: the protocol's default.
constexpr std::uint32_t hpack_table = 4096;
// What RFC 9113 §6.5.2 adds to a field's name and value in a header list's size.
constexpr std::size_t field_overhead = 32;

std::string_view view(const std::uint8_t* p, std::size_t n) {
    return {reinterpret_cast<const char*>(p), n};
}

const std::uint8_t* bytes(std::string_view s) {
    return reinterpret_cast<const std::uint8_t*>(s.data());
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
    return {const_cast<std::uint8_t*>(bytes(name)), const_cast<std::uint8_t*>(bytes(value)), name.size(),
            value.size(), NGHTTP2_NV_FLAG_NONE};
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        return lower(x) == lower(y);
    });
}

// Fields HTTP/2 forbids in a request (RFC 9113 §8.2.2): they describe one
// HTTP/1.1 connection, and a server must treat them as malformed.
bool connection_specific(std::string_view name) {
    return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
           name == "transfer-encoding" || name == "upgrade";
}

// A method that defines a meaning for a request body gets a Content-Length
// even when empty (RFC 9110 §8.6).
bool body_method(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

} // namespace

struct client_session::impl {
    struct stream {
        stream_sink* sink = nullptr;  // null once cancelled
        shim::body_source body;
        std::size_t held = 0;         // delivered to the sink and not consumed
        unsigned interim_heads = 0;
        bool headers_sent = false;
        stream_facts facts;
    };
    struct field_at {
        std::size_t name, name_size, value, value_size;  // in head_bytes
    };

    explicit impl(const session_limits& l);

    stream* find(std::int32_t id) {
        const auto it = streams.find(id);
        return it == streams.end() ? nullptr : it->second.get();
    }
    std::int32_t submit(const request& req, stream_sink& sink, error_code& ec);
    void fail(error_code ec, std::uint32_t h2_error, std::string_view detail);
    bool terminated_by_nghttp2() const;
    bool can_open() const;
    std::uint32_t stream_cap() const;

    static int on_begin_headers(nghttp2_session*, const nghttp2_frame*, void*);
    static int on_header(nghttp2_session*, const nghttp2_frame*, const std::uint8_t*, std::size_t,
                         const std::uint8_t*, std::size_t, std::uint8_t, void*);
    static int on_frame_recv(nghttp2_session*, const nghttp2_frame*, void*);
    static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t*, std::size_t,
                             void*);
    static int on_stream_close(nghttp2_session*, std::int32_t, std::uint32_t, void*);
    static int on_frame_send(nghttp2_session*, const nghttp2_frame*, void*);
    static int on_invalid_frame(nghttp2_session*, const nghttp2_frame*, int, void*);
    static int on_error(nghttp2_session*, int, const char*, std::size_t, void*);

    session_limits limits;
    // Owned through unique_ptr so that a body's reader (nghttp2 holds a
    // pointer to it) and a sink's stream survive the map rehashing.
    std::unordered_map<std::int32_t, std::unique_ptr<stream>> streams;

    // The header block being received. A connection receives one at a time
    // (its CONTINUATION frames follow it with nothing between), so one
    // buffer serves all streams, and its capacity is kept.
    std::string head_bytes;
    std::vector<field_at> head_fields;
    std::vector<header_field> head_views;
    std::size_t head_size = 0;  // decoded, as RFC 9113 §6.5.2 counts it
    unsigned head_status = 0;

    std::string out;            // frames to write; its capacity is kept
    std::size_t out_written = 0;
    std::string names;          // submit()'s lower-cased field names
    std::vector<nghttp2_nv> nva;

    std::optional<goaway_info> goaway;
    connection_failure failed;
    bool broken = false;        // nghttp2 failed fatally, or the connection is gone: no more I/O
    bool settings = false;
    bool shut = false;
    unsigned pings = 0;
    int last_lib_error = 0;     // nghttp2's last complaint, for a failure it reports only by its GOAWAY
    std::string last_reason;

    shim::session_ptr session;  // last: destroyed first, while what it points to still exists
};

client_session::impl::impl(const session_limits& l) : limits(l) {
    auto cb = shim::new_callbacks();
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb.get(), on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb.get(), on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb.get(), on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.get(), on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb.get(), on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb.get(), on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb.get(), on_invalid_frame);
    nghttp2_session_callbacks_set_error_callback2(cb.get(), on_error);

    auto opt = shim::new_option();
    // The windows are given back by consume(), as the reader takes the data.
    nghttp2_option_set_no_auto_window_update(opt.get(), 1);
    nghttp2_option_set_peer_max_concurrent_streams(opt.get(), 100);
    nghttp2_option_set_max_send_header_block_length(opt.get(), max_request_head);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt.get(), hpack_table);
    nghttp2_option_set_max_outbound_ack(opt.get(), max_outbound_ack);
    // At most 32 entries in a SETTINGS frame (nghttp2's default), or the
    // session fails. (nghttp2_option_set_stream_reset_rate_limit, which
    // Debian's 1.52.0-1+deb12u1 backports for CVE-2023-44487, bounds the
    // RST_STREAMs a server receives: a client has no use for it.)
    nghttp2_option_set_max_settings(opt.get(), 32);
    // Closed streams kept for the RFC 7540 priority tree are memory that
    // grows with the streams a connection has seen; no priorities are sent.
    nghttp2_option_set_no_closed_streams(opt.get(), 1);
    // Server push is refused in SETTINGS; none is kept should one come.
    nghttp2_option_set_max_reserved_remote_streams(opt.get(), 0);
    // CONTINUATION: nghttp2 1.52 as released takes any number of them after
    // a HEADERS frame, each decoded as it comes (CVE-2024-28182). Debian 12's
    // 1.52.0-1+deb12u2 backports the fix: more than 8 end the session with
    // NGHTTP2_ERR_TOO_MANY_CONTINUATIONS (nghttp2_option_set_max_continuations
    // sets the 8, but the unpatched headers lack it, so it stays the default).
    // Either way the decoded fields are bounded here, by on_header.

    nghttp2_session* s = nullptr;
    if (nghttp2_session_client_new2(&s, cb.get(), this, opt.get()) != 0) throw std::bad_alloc();
    session.reset(s);

    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, hpack_table},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, std::min<std::uint32_t>(limits.stream_window, NGHTTP2_MAX_WINDOW_SIZE)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header_bytes, UINT32_MAX))},
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, std::size(iv)) != 0) throw std::bad_alloc();
    const auto window = static_cast<std::int32_t>(std::min<std::uint32_t>(limits.connection_window, NGHTTP2_MAX_WINDOW_SIZE));
    if (nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, window) != 0) throw std::bad_alloc();
}

std::uint32_t client_session::impl::stream_cap() const {
    return std::min(limits.max_concurrent_streams,
                    nghttp2_session_get_remote_settings(session.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
}

bool client_session::impl::can_open() const {
    return !failed.ec && !shut && !goaway && streams.size() < stream_cap() &&
           nghttp2_session_check_request_allowed(session.get());
}

// nghttp2 fails a session for most protocol violations without an error
// return: it queues a GOAWAY and ignores what follows. What shows is that it
// allows no new request, with neither a GOAWAY nor the stream ids used up to
// explain it.
bool client_session::impl::terminated_by_nghttp2() const {
    return !goaway && !shut && nghttp2_session_get_next_stream_id(session.get()) <= INT32_MAX &&
           !nghttp2_session_check_request_allowed(session.get());
}

void client_session::impl::fail(error_code ec, std::uint32_t h2_error, std::string_view detail) {
    if (failed.ec) return;
    failed = {ec, h2_error, std::string(detail)};
    // Each stream is taken out before its sink hears, so that what the sink
    // calls finds it gone.
    std::vector<std::int32_t> ids;
    for (const auto& [id, s] : streams) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (const auto id : ids) {
        const auto it = streams.find(id);
        if (it == streams.end()) continue;
        const auto s = std::move(it->second);
        streams.erase(it);
        if (s->sink) s->sink->on_close(id, {ec, h2_error, !s->headers_sent});
    }
}

std::int32_t client_session::impl::submit(const request& req, stream_sink& sink, error_code& ec) {
    ec = {};
    if (!can_open()) {
        ec = errc::stream_reset;
        return 0;
    }
    const auto invalid = [&ec] {
        ec = errc::invalid_argument;
        return 0;
    };
    std::string_view authority = req.authority;
    const bool options_star = req.path == "*" && req.method == "OPTIONS";
    if (!nghttp2_check_method(bytes(req.method), req.method.size()) || (req.scheme != "https" && req.scheme != "http") ||
        req.path.empty() || (req.path[0] != '/' && !options_star) ||
        !nghttp2_check_path(bytes(req.path), req.path.size()))
        return invalid();

    // Names are lower-cased into `names`, reserved whole first so that the
    // views into it stay put.
    std::size_t name_bytes = 0;
    for (const auto& f : req.fields) name_bytes += f.name.size();
    names.clear();
    names.reserve(name_bytes);
    nva.clear();
    nva.push_back(nv(":method", req.method));
    nva.push_back(nv(":scheme", req.scheme));
    nva.push_back(nv(":authority", {}));  // set once the fields are seen (Host may stand in)
    nva.push_back(nv(":path", req.path));
    for (const auto& f : req.fields) {
        const auto start = names.size();
        for (const char c : f.name) names += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        const std::string_view name(names.data() + start, f.name.size());
        // nghttp2_check_header_name() lets a pseudo-field's name through:
        // those are the session's own.
        if (name.starts_with(':') || !nghttp2_check_header_name(bytes(name), name.size()) ||
            !nghttp2_check_header_value_rfc9113(bytes(f.value), f.value.size()) || connection_specific(name) ||
            name == "content-length" || (name == "te" && f.value != "trailers"))
            return invalid();
        if (name == "host") {
            if (authority.empty()) authority = f.value;
            else if (!iequals(authority, f.value)) return invalid();
            continue;
        }
        nva.push_back(nv(name, f.value));
    }
    if (authority.empty() || !nghttp2_check_authority(bytes(authority), authority.size())) return invalid();
    nva[2] = nv(":authority", authority);
    char length[24];
    if (!req.body.empty() || body_method(req.method)) {
        const auto end = std::to_chars(length, length + sizeof length, req.body.size()).ptr;
        nva.push_back(nv("content-length", std::string_view(length, static_cast<std::size_t>(end - length))));
    }
    // What nghttp2_hd_deflate_bound() counts against the limit of a head it sends.
    std::size_t bound = 12;
    for (const auto& f : nva) bound += f.namelen + f.valuelen + 12;
    if (bound > max_request_head) return invalid();

    auto s = std::make_unique<stream>();
    s->sink = &sink;
    s->body.rest = req.body;
    const auto id = shim::submit_request(session.get(), nva, req.body.empty() ? nullptr : &s->body);
    if (id < 0) {
        ec = id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE ? errc::stream_reset : errc::invalid_argument;
        return 0;
    }
    streams.emplace(id, std::move(s));
    return id;
}

int client_session::impl::on_begin_headers(nghttp2_session*, const nghttp2_frame*, void* user) {
    auto& self = *static_cast<impl*>(user);
    self.head_bytes.clear();
    self.head_fields.clear();
    self.head_size = 0;
    self.head_status = 0;
    return 0;
}

int client_session::impl::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                                    std::size_t name_size, const std::uint8_t* value, std::size_t value_size,
                                    std::uint8_t, void* user) {
    auto& self = *static_cast<impl*>(user);
    auto* s = self.find(frame->hd.stream_id);
    if (!s || !s->sink) return 0;
    // Failing the callback makes nghttp2 reset the stream (INTERNAL_ERROR)
    // and skip the rest of its block, still decoding it for HPACK's sake.
    self.head_size += name_size + value_size + field_overhead;
    if (self.head_size > self.limits.max_header_bytes) {
        s->facts.verdict = errc::header_limit_exceeded;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    const auto n = view(name, name_size);
    if (n == ":status") {
        // nghttp2 checked it is three digits.
        const auto v = view(value, value_size);
        std::from_chars(v.data(), v.data() + v.size(), self.head_status);
        if (self.head_status < 200 && s->interim_heads >= self.limits.max_interim_heads) {
            s->facts.verdict = errc::bad_response;
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        return 0;
    }
    if (n.starts_with(':')) return 0;
    const auto at = self.head_bytes.size();
    self.head_bytes.append(n).append(view(value, value_size));
    self.head_fields.push_back({at, name_size, at + name_size, value_size});
    return 0;
}

int client_session::impl::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<impl*>(user);
    const auto id = frame->hd.stream_id;
    const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (auto* s = self.find(id)) {
            if (end_stream) s->facts.response_ended = true;
            // A block without :status is a trailer section: bounded, not reported.
            if (!s->sink || s->facts.verdict || self.head_status == 0) break;
            if (self.head_status < 200) ++s->interim_heads;
            self.head_views.clear();
            for (const auto& f : self.head_fields)
                self.head_views.push_back({std::string_view(self.head_bytes).substr(f.name, f.name_size),
                                           std::string_view(self.head_bytes).substr(f.value, f.value_size)});
            s->sink->on_head(id, {self.head_status, self.head_views});
        }
        break;
    case NGHTTP2_DATA:
        if (auto* s = self.find(id); s && end_stream) s->facts.response_ended = true;
        break;
    case NGHTTP2_RST_STREAM:
        if (auto* s = self.find(id)) s->facts.reset_by_server = true;
        break;
    case NGHTTP2_GOAWAY:
        self.goaway = goaway_info{frame->goaway.last_stream_id, frame->goaway.error_code};
        break;
    case NGHTTP2_SETTINGS:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) self.settings = true;
        break;
    case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && self.pings > 0) --self.pings;
        break;
    default: break;
    }
    return 0;
}

int client_session::impl::on_data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t id,
                                        const std::uint8_t* data, std::size_t size, void* user) {
    auto& self = *static_cast<impl*>(user);
    auto* s = self.find(id);
    if (!s || !s->sink || s->facts.verdict) {
        // Nobody will read it: its window goes back at once.
        nghttp2_session_consume(session, id, size);
        return 0;
    }
    s->held += size;
    s->sink->on_data(id, view(data, size));
    return 0;
}

int client_session::impl::on_stream_close(nghttp2_session* session, std::int32_t id, std::uint32_t error_code,
                                          void* user) {
    auto& self = *static_cast<impl*>(user);
    const auto it = self.streams.find(id);
    if (it == self.streams.end()) return 0;
    const auto s = std::move(it->second);
    self.streams.erase(it);
    // The stream's window dies with it; the connection's share must not.
    if (s->held) nghttp2_session_consume_connection(session, s->held);
    if (!s->sink) return 0;
    auto facts = s->facts;
    facts.close_code = error_code;
    facts.beyond_goaway = self.goaway && id > self.goaway->last_stream_id;
    facts.never_sent = !s->headers_sent;
    s->sink->on_close(id, judge(facts));
    return 0;
}

int client_session::impl::on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<impl*>(user);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (auto* s = self.find(frame->hd.stream_id)) s->headers_sent = true;
    } else if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != code::no_error) {
        // Only nghttp2 ends a session with an error; the code it sends is the
        // one to keep, whether receive() saw the failure first or not.
        if (!self.failed.ec) self.fail(errc::protocol_error, frame->goaway.error_code, self.last_reason);
        else if (self.failed.ec == errc::protocol_error) self.failed.h2_error = frame->goaway.error_code;
    }
    return 0;
}

int client_session::impl::on_invalid_frame(nghttp2_session*, const nghttp2_frame*, int lib_error, void* user) {
    static_cast<impl*>(user)->last_lib_error = lib_error;
    return 0;
}

int client_session::impl::on_error(nghttp2_session*, int lib_error, const char* msg, std::size_t len, void* user) {
    auto& self = *static_cast<impl*>(user);
    self.last_lib_error = lib_error;
    self.last_reason.assign(msg, std::min<std::size_t>(len, 200));
    return 0;
}

client_session::client_session(const session_limits& limits) : impl_(std::make_unique<impl>(limits)) {}
client_session::~client_session() = default;
client_session::client_session(client_session&&) noexcept = default;
client_session& client_session::operator=(client_session&&) noexcept = default;

std::int32_t client_session::submit(const request& req, stream_sink& sink, error_code& ec) {
    return impl_->submit(req, sink, ec);
}

void client_session::consume(std::int32_t stream, std::size_t n) {
    auto* s = impl_->find(stream);
    if (!s) return;
    n = std::min(n, s->held);
    if (n == 0) return;
    s->held -= n;
    nghttp2_session_consume(impl_->session.get(), stream, n);
}

void client_session::cancel(std::int32_t stream) {
    auto* s = impl_->find(stream);
    if (!s || !s->sink) return;
    s->sink = nullptr;
    if (s->held) nghttp2_session_consume_connection(impl_->session.get(), s->held);
    s->held = 0;
    // The stream stays counted until nghttp2 has sent the reset and closed it.
    nghttp2_submit_rst_stream(impl_->session.get(), NGHTTP2_FLAG_NONE, stream, code::cancel);
}

error_code client_session::receive(std::span<const char> in) {
    auto& m = *impl_;
    if (m.failed.ec) return m.failed.ec;
    const auto rv = shim::mem_recv(m.session.get(), {reinterpret_cast<const std::uint8_t*>(in.data()), in.size()});
    if (rv < 0) {
        // Fatal: the session can do nothing more, not even say why.
        m.broken = true;
        m.fail(errc::protocol_error, connection_code(static_cast<int>(rv)), nghttp2_strerror(static_cast<int>(rv)));
    } else if (m.terminated_by_nghttp2()) {
        m.fail(errc::protocol_error, connection_code(m.last_lib_error),
               m.last_reason.empty() ? std::string_view(nghttp2_strerror(m.last_lib_error)) : m.last_reason);
    }
    return m.failed.ec;
}

std::span<const char> client_session::output() {
    auto& m = *impl_;
    if (m.out_written == m.out.size() && !m.broken) {
        m.out.clear();
        m.out_written = 0;
        while (m.out.size() < output_batch) {
            const std::uint8_t* data = nullptr;
            const auto n = shim::mem_send(m.session.get(), data);
            if (n < 0) {
                m.broken = true;
                m.fail(errc::protocol_error, code::internal_error, nghttp2_strerror(static_cast<int>(n)));
                break;
            }
            if (n == 0) break;
            m.out.append(view(data, static_cast<std::size_t>(n)));
        }
    }
    return {m.out.data() + m.out_written, m.out.size() - m.out_written};
}

void client_session::wrote(std::size_t n) {
    impl_->out_written += std::min(n, impl_->out.size() - impl_->out_written);
}

bool client_session::wants_read() const {
    return !impl_->failed.ec && nghttp2_session_want_read(impl_->session.get());
}

bool client_session::wants_write() const {
    return impl_->out_written < impl_->out.size() || (!impl_->broken && nghttp2_session_want_write(impl_->session.get()));
}

void client_session::abort(error_code ec) {
    impl_->broken = true;
    impl_->fail(ec, code::no_error, {});
}

bool client_session::can_open() const { return impl_->can_open(); }
std::size_t client_session::open_streams() const noexcept { return impl_->streams.size(); }
std::uint32_t client_session::max_concurrent_streams() const { return impl_->stream_cap(); }
bool client_session::settings_received() const noexcept { return impl_->settings; }
const std::optional<goaway_info>& client_session::goaway() const noexcept { return impl_->goaway; }
const connection_failure& client_session::failure() const noexcept { return impl_->failed; }

void client_session::ping() {
    if (impl_->failed.ec) return;
    if (nghttp2_submit_ping(impl_->session.get(), NGHTTP2_FLAG_NONE, nullptr) == 0) ++impl_->pings;
}

bool client_session::ping_outstanding() const noexcept { return impl_->pings > 0; }

void client_session::shutdown() {
    if (impl_->failed.ec || impl_->shut) return;
    impl_->shut = true;
    // The last stream id a client names is the last one the server opened:
    // none, with push refused.
    nghttp2_submit_goaway(impl_->session.get(), NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(impl_->session.get()), code::no_error, nullptr, 0);
}

} // namespace chatwire::http::h2
