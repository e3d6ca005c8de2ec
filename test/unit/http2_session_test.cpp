// The HTTP/2 client session without sockets: its bytes go to a server written
// here on nghttp2's server API and back, in memory, in random pieces; the
// hostile peers are raw frames.
#define BOOST_TEST_MODULE unit_http2
#include <boost/test/unit_test.hpp>

#include "../../src/http/h2/client_session.hpp"
#include "../../src/http/h2/nghttp2_shim.hpp"
#include "h2_frame.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace h2 = chatwire::http::h2;
namespace shim = chatwire::http::h2::shim;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::h2_frame;

namespace {

nghttp2_nv nv(const std::string& name, const std::string& value) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
            NGHTTP2_NV_FLAG_NONE};
}

using field_list = std::vector<std::pair<std::string, std::string>>;

// An HTTP/2 server on nghttp2, answering as each test tells it.
class server {
public:
    struct request {
        field_list fields;  // pseudo-fields included, in order
        std::string body;
        bool ended = false;
        bool reset = false;
        std::uint32_t reset_code = 0;
        bool closed = false;

        std::string get(std::string_view name) const {
            for (const auto& [n, v] : fields)
                if (n == name) return v;
            return "<absent>";
        }
    };

    explicit server(std::uint32_t max_streams = 100) {
        auto cb = shim::new_callbacks();
        nghttp2_session_callbacks_set_on_begin_headers_callback(cb.get(), on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cb.get(), on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb.get(), on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb.get(), on_frame);
        nghttp2_session_callbacks_set_on_stream_close_callback(cb.get(), on_close);
        nghttp2_session* raw = nullptr;
        BOOST_REQUIRE(nghttp2_session_server_new(&raw, cb.get(), this) == 0);
        s.reset(raw);
        const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams}};
        BOOST_REQUIRE(nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, iv, 1) == 0);
    }

    // Answers with `status`, `fields` and `body`, of which the first `release`
    // bytes may go now (the rest waits for release()).
    void respond(std::int32_t id, int status, std::string body = {}, field_list fields = {},
                 std::size_t release = std::string::npos) {
        auto& b = bodies[id];
        b = std::make_unique<out_body>();
        b->data = std::move(body);
        b->released = std::min(release, b->data.size());
        b->src.rest = std::string_view(b->data).substr(0, b->released);
        b->src.more_later = b->released < b->data.size();
        const auto head = with_status(status, std::move(fields));
        const bool has_body = !b->data.empty();
        BOOST_REQUIRE(shim::submit_response(s.get(), id, head, has_body ? &b->src : nullptr) == 0);
    }
    // Lets `n` more bytes of a response's body go.
    void release(std::int32_t id, std::size_t n) {
        auto& b = *bodies.at(id);
        const auto start = b.released - b.src.rest.size();
        b.released = std::min(b.data.size(), b.released + n);
        b.src.rest = std::string_view(b.data).substr(start, b.released - start);
        b.src.more_later = b.released < b.data.size();
        nghttp2_session_resume_data(s.get(), id);
    }
    void interim(std::int32_t id, int status, field_list fields = {}) {
        const auto head = with_status(status, std::move(fields));
        BOOST_REQUIRE(nghttp2_submit_headers(s.get(), NGHTTP2_FLAG_NONE, id, nullptr, head.data(), head.size(),
                                             nullptr) == 0);
    }
    void reset(std::int32_t id, std::uint32_t code) { nghttp2_submit_rst_stream(s.get(), NGHTTP2_FLAG_NONE, id, code); }
    void goaway(std::int32_t last, std::uint32_t code) {
        BOOST_REQUIRE(nghttp2_submit_goaway(s.get(), NGHTTP2_FLAG_NONE, last, code, nullptr, 0) == 0);
    }
    void ping() { BOOST_REQUIRE(nghttp2_submit_ping(s.get(), NGHTTP2_FLAG_NONE, nullptr) == 0); }

    void feed(std::string_view bytes) {
        const auto rv = shim::mem_recv(s.get(), {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
        BOOST_REQUIRE_MESSAGE(rv == static_cast<std::ptrdiff_t>(bytes.size()),
                              "the server refused the client's bytes: " << nghttp2_strerror(static_cast<int>(rv)));
    }
    std::string take_output() {
        std::string out;
        for (;;) {
            const std::uint8_t* data = nullptr;
            const auto n = shim::mem_send(s.get(), data);
            BOOST_REQUIRE(n >= 0);
            if (n == 0) return out;
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
    }
    std::int32_t remote_window() { return nghttp2_session_get_remote_window_size(s.get()); }

    std::map<std::int32_t, request> requests;
    std::vector<std::int32_t> ended;       // requests whose end arrived, in order
    std::function<void(std::int32_t)> on_request;  // called at a request's end
    int open = 0, max_open = 0;
    int pings_acked = 0;
    std::vector<std::uint32_t> goaways;    // codes of the GOAWAYs received

private:
    struct out_body {
        std::string data;
        std::size_t released = 0;
        shim::body_source src;
    };

    // The strings stay in `held` until the next call: nghttp2 copies them at submit.
    std::vector<nghttp2_nv> with_status(int status, field_list fields) {
        held.clear();
        held.push_back(":status");
        held.push_back(std::to_string(status));
        for (auto& [n, v] : fields) {
            held.push_back(std::move(n));
            held.push_back(std::move(v));
        }
        std::vector<nghttp2_nv> out;
        for (std::size_t i = 0; i < held.size(); i += 2) out.push_back(nv(held[i], held[i + 1]));
        return out;
    }

    static server& self(void* user) { return *static_cast<server*>(user); }
    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* user) {
        auto& me = self(user);
        if (f->headers.cat == NGHTTP2_HCAT_REQUEST) {
            me.requests[f->hd.stream_id];
            me.max_open = std::max(me.max_open, ++me.open);
        }
        return 0;
    }
    static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* n, std::size_t nl,
                         const std::uint8_t* v, std::size_t vl, std::uint8_t, void* user) {
        self(user).requests[f->hd.stream_id].fields.emplace_back(std::string(reinterpret_cast<const char*>(n), nl),
                                                                std::string(reinterpret_cast<const char*>(v), vl));
        return 0;
    }
    static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d, std::size_t n,
                       void* user) {
        self(user).requests[id].body.append(reinterpret_cast<const char*>(d), n);
        return 0;
    }
    static int on_frame(nghttp2_session*, const nghttp2_frame* f, void* user) {
        auto& me = self(user);
        const auto id = f->hd.stream_id;
        if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
            me.requests[id].ended = true;
            me.ended.push_back(id);
            if (me.on_request) me.on_request(id);
        } else if (f->hd.type == NGHTTP2_RST_STREAM) {
            me.requests[id].reset = true;
            me.requests[id].reset_code = f->rst_stream.error_code;
        } else if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK)) {
            ++me.pings_acked;
        } else if (f->hd.type == NGHTTP2_GOAWAY) {
            me.goaways.push_back(f->goaway.error_code);
        }
        return 0;
    }
    static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
        auto& me = self(user);
        if (auto it = me.requests.find(id); it != me.requests.end() && !it->second.closed) {
            it->second.closed = true;
            --me.open;
        }
        return 0;
    }

    std::vector<std::string> held;
    std::map<std::int32_t, std::unique_ptr<out_body>> bodies;
    shim::session_ptr s;
};

// What a stream's sink heard.
struct stream_log {
    std::vector<unsigned> statuses;  // every head's, interim ones included
    std::vector<field_list> heads;
    std::string body;
    std::vector<std::string> events;  // "head 103", "data", "close"
    int closes = 0;
    h2::stream_close how;
};

// A sink for every stream of a test, consuming what it gets at once unless told not to.
class recorder final : public h2::stream_sink {
public:
    explicit recorder(h2::client_session& s) : session(s) {}

    void on_head(std::int32_t id, const h2::response_head& head) override {
        auto& l = log[id];
        l.statuses.push_back(head.status);
        field_list fields;
        for (const auto& f : head.fields) fields.emplace_back(std::string(f.name), std::string(f.value));
        l.heads.push_back(std::move(fields));
        l.events.push_back("head " + std::to_string(head.status));
        BOOST_TEST(head.interim() == (head.status < 200));
    }
    void on_data(std::int32_t id, std::string_view chunk) override {
        auto& l = log[id];
        l.body.append(chunk);
        if (l.events.empty() || l.events.back() != "data") l.events.push_back("data");
        data_order.push_back(id);
        if (!hold.count(id)) session.consume(id, chunk.size());
    }
    void on_close(std::int32_t id, const h2::stream_close& how) override {
        auto& l = log[id];
        l.how = how;
        ++l.closes;
        l.events.push_back("close");
    }

    h2::client_session& session;
    std::map<std::int32_t, stream_log> log;
    std::set<std::int32_t> hold;          // streams whose data is not consumed
    std::vector<std::int32_t> data_order;  // the stream of each data event
};

// Moves bytes between a client and a server until neither has any to send,
// cutting them at random places.
class wire {
public:
    wire(h2::client_session& c, server& s, unsigned seed = 1) : client(c), srv(s), rng(seed) {}

    void run() {
        for (int round = 0; round < 10000; ++round) {
            bool moved = false;
            while (client.wants_write()) {
                const auto out = client.output();
                if (out.empty()) break;
                for (const auto piece : cut({out.data(), out.size()})) srv.feed(piece);
                client.wrote(out.size());
                moved = true;
            }
            const auto back = srv.take_output();
            for (const auto piece : cut(back)) {
                const auto ec = client.receive({piece.data(), piece.size()});
                if (ec && !failure) failure = ec;
            }
            if (back.empty() && !moved) return;
        }
        BOOST_FAIL("the peers never went quiet");
    }

    error_code failure;  // the first error receive() returned

private:
    std::vector<std::string_view> cut(std::string_view bytes) {
        std::vector<std::string_view> pieces;
        while (!bytes.empty()) {
            // Mostly small pieces, to split frame headers and fields; some large.
            const std::size_t most = rng() % 4 == 0 ? 8192 : 24;
            const auto n = std::min<std::size_t>(bytes.size(), 1 + rng() % most);
            pieces.push_back(bytes.substr(0, n));
            bytes.remove_prefix(n);
        }
        return pieces;
    }

    h2::client_session& client;
    server& srv;
    std::mt19937 rng;
};

h2::request get(std::string_view path = "/v1/chat") {
    h2::request r;
    r.authority = "api.example.com";
    r.path = path;
    return r;
}

std::int32_t submit(h2::client_session& c, const h2::request& r, h2::stream_sink& sink) {
    error_code ec;
    const auto id = c.submit(r, sink, ec);
    BOOST_REQUIRE_MESSAGE(!ec, "submit: " << ec.message());
    BOOST_REQUIRE(id > 0);
    return id;
}


// An HPACK "literal field without indexing, new name" (names and values under 127 bytes).
std::string literal(std::string_view name, std::string_view value) {
    std::string b(1, '\0');
    b += static_cast<char>(name.size());
    b.append(name);
    b += static_cast<char>(value.size());
    b.append(value);
    return b;
}

// The frame types found in a run of whole frames.
std::vector<int> frame_types(std::string_view bytes) {
    std::vector<int> types;
    while (bytes.size() >= 9) {
        const std::size_t n = (std::size_t(std::uint8_t(bytes[0])) << 16) | (std::size_t(std::uint8_t(bytes[1])) << 8) |
                              std::uint8_t(bytes[2]);
        types.push_back(std::uint8_t(bytes[3]));
        bytes.remove_prefix(std::min(bytes.size(), 9 + n));
    }
    return types;
}

std::string output_of(h2::client_session& c) {
    std::string all;
    while (c.wants_write()) {
        const auto out = c.output();
        if (out.empty()) break;
        all.append(out.data(), out.size());
        c.wrote(out.size());
    }
    return all;
}

} // namespace

BOOST_AUTO_TEST_SUITE(requests)

BOOST_AUTO_TEST_CASE(a_get_and_a_post_arrive_whole_in_any_pieces) {
    for (unsigned seed = 1; seed <= 8; ++seed) {
        h2::client_session c;
        server srv;
        recorder sink(c);
        srv.on_request = [&](std::int32_t id) {
            srv.respond(id, 200, "answer to " + srv.requests[id].get(":method"), {{"x-request-id", "r-" + std::to_string(id)}});
        };
        const std::vector<h2::header_field> fields{{"Authorization", "Bearer k"}, {"Accept", "text/event-stream"}};
        auto g = get("/v1/chat?q=1");
        g.fields = fields;
        const auto get_id = submit(c, g, sink);
        h2::request p = get("/v1/run");
        p.method = "POST";
        p.fields = fields;
        const std::string body = R"({"input":"Where is my order?"})";
        p.body = body;
        const auto post_id = submit(c, p, sink);
        wire(c, srv, seed).run();

        const auto& sg = srv.requests.at(get_id);
        BOOST_TEST(sg.get(":method") == "GET");
        BOOST_TEST(sg.get(":scheme") == "https");
        BOOST_TEST(sg.get(":authority") == "api.example.com");
        BOOST_TEST(sg.get(":path") == "/v1/chat?q=1");
        BOOST_TEST(sg.get("authorization") == "Bearer k");
        BOOST_TEST(sg.get("accept") == "text/event-stream");
        BOOST_TEST(sg.get("content-length") == "<absent>");
        BOOST_TEST(sg.body.empty());
        const auto& sp = srv.requests.at(post_id);
        BOOST_TEST(sp.get(":method") == "POST");
        BOOST_TEST(sp.get(":path") == "/v1/run");
        BOOST_TEST(sp.get("content-length") == std::to_string(body.size()));
        BOOST_TEST(sp.body == body);
        BOOST_TEST(sp.fields.front().first == ":method");  // pseudo-fields first

        for (const auto id : {get_id, post_id}) {
            const auto& l = sink.log.at(id);
            BOOST_TEST(l.statuses == std::vector<unsigned>{200});
            BOOST_TEST(l.closes == 1);
            BOOST_TEST(!l.how.ec);
            BOOST_TEST((l.heads.at(0) == field_list{{"x-request-id", "r-" + std::to_string(id)}}));
        }
        BOOST_TEST(sink.log.at(get_id).body == "answer to GET");
        BOOST_TEST(sink.log.at(post_id).body == "answer to POST");
        BOOST_TEST((sink.log.at(get_id).events == std::vector<std::string>{"head 200", "data", "close"}));
        BOOST_TEST(c.open_streams() == 0u);
        BOOST_TEST(c.settings_received());
    }
}

BOOST_AUTO_TEST_CASE(an_empty_post_says_its_length_and_a_large_body_goes_whole) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 204); };
    h2::request empty = get();
    empty.method = "POST";
    const auto e = submit(c, empty, sink);
    h2::request large = get();
    large.method = "PUT";
    const std::string body(300 * 1024, 'b');  // beyond the server's 64 KiB initial windows
    large.body = body;
    const auto l = submit(c, large, sink);
    wire(c, srv).run();
    BOOST_TEST(srv.requests.at(e).get("content-length") == "0");
    BOOST_TEST(srv.requests.at(l).body.size() == body.size());
    BOOST_TEST(!sink.log.at(l).how.ec);
    BOOST_TEST(sink.log.at(e).statuses == std::vector<unsigned>{204});
}

BOOST_AUTO_TEST_CASE(connection_specific_and_malformed_fields_are_refused) {
    h2::client_session c;
    recorder sink(c);
    auto refused = [&](h2::header_field f) {
        auto r = get();
        const std::vector<h2::header_field> fields{f};
        r.fields = fields;
        error_code ec;
        const auto id = c.submit(r, sink, ec);
        return id == 0 && ec == errc::invalid_argument;
    };
    for (const auto* name : {"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade",
                             "Content-Length"})
        BOOST_TEST(refused({name, "x"}), name);
    BOOST_TEST(refused({"TE", "gzip"}));
    BOOST_TEST(!refused({"TE", "trailers"}));
    BOOST_TEST(refused({"x-a", "one\r\nx-b: two"}));
    BOOST_TEST(refused({"x a", "v"}));
    BOOST_TEST(refused({":path", "/other"}));
    BOOST_TEST(refused({"Host", "other.example.com"}));  // not the authority
    BOOST_TEST(!refused({"Host", "API.example.com"}));
    BOOST_TEST(refused({"x-big", std::string(70 * 1024, 'v')}));  // a head nghttp2 would not send

    auto r = get();
    r.path = "no-slash";
    error_code ec;
    BOOST_TEST(c.submit(r, sink, ec) == 0);
    BOOST_TEST(ec == errc::invalid_argument);
    r = get();
    r.scheme = "ftp";
    BOOST_TEST(c.submit(r, sink, ec) == 0);
    BOOST_TEST(ec == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(host_stands_in_for_the_authority_and_names_are_lower_cased) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200); };
    auto r = get();
    r.authority = {};
    const std::vector<h2::header_field> fields{{"Host", "api.example.com:8443"}, {"X-RateLimit-Probe", "1"}};
    r.fields = fields;
    const auto id = submit(c, r, sink);
    wire(c, srv).run();
    BOOST_TEST(srv.requests.at(id).get(":authority") == "api.example.com:8443");
    BOOST_TEST(srv.requests.at(id).get("host") == "<absent>");
    BOOST_TEST(srv.requests.at(id).get("x-ratelimit-probe") == "1");
    BOOST_TEST(!sink.log.at(id).how.ec);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(concurrency)

// Opens streams while the session allows, answers the server's oldest ones
// a few at a time, and counts.
struct crowd {
    crowd(h2::client_session& c, server& s) : c(c), srv(s), sink(c) {}

    void run(int total, std::size_t answer_per_round) {
        wire w(c, srv);
        std::size_t answered = 0;
        while (static_cast<int>(sink.log.size()) < total || open_somewhere()) {
            while (opened < total && c.can_open()) {
                submit(c, get(), sink);
                ++opened;
                peak_client = std::max(peak_client, c.open_streams());
            }
            if (opened < total) {
                error_code ec;
                BOOST_TEST(c.submit(get(), sink, ec) == 0);  // the one over the cap waits
                BOOST_TEST(ec == errc::stream_reset);
                ++refusals;
            }
            w.run();
            for (std::size_t n = 0; n < answer_per_round && answered < srv.ended.size(); ++n, ++answered)
                srv.respond(srv.ended[answered], 200, "ok");
            w.run();
            if (++rounds > 1000) BOOST_FAIL("no progress");
        }
    }
    bool open_somewhere() const { return c.open_streams() != 0; }

    h2::client_session& c;
    server& srv;
    recorder sink;
    int opened = 0, refusals = 0, rounds = 0;
    std::size_t peak_client = 0;
};

BOOST_AUTO_TEST_CASE(the_stream_past_the_servers_cap_waits) {
    h2::client_session c({.max_concurrent_streams = 1000});
    server srv(100);
    BOOST_TEST(!c.settings_received());
    BOOST_TEST(c.max_concurrent_streams() == 100u);  // assumed until the server's SETTINGS
    crowd run(c, srv);
    run.run(150, 10);
    BOOST_TEST(c.settings_received());
    BOOST_TEST(c.max_concurrent_streams() == 100u);
    BOOST_TEST(run.peak_client == 100u);
    BOOST_TEST(srv.max_open == 100);
    BOOST_TEST(run.refusals > 0);
    BOOST_TEST(run.sink.log.size() == 150u);
    for (const auto& [id, l] : run.sink.log) {
        BOOST_TEST(!l.how.ec);
        BOOST_TEST(l.body == "ok");
    }
}

BOOST_AUTO_TEST_CASE(the_clients_cap_holds_below_the_servers) {
    h2::client_session c({.max_concurrent_streams = 10});
    server srv(100);
    crowd run(c, srv);
    run.run(45, 4);
    BOOST_TEST(c.max_concurrent_streams() == 10u);
    BOOST_TEST(run.peak_client == 10u);
    BOOST_TEST(srv.max_open == 10);
    BOOST_TEST(run.sink.log.size() == 45u);
}

BOOST_AUTO_TEST_CASE(a_server_cap_below_100_applies_once_its_settings_arrive) {
    h2::client_session c;
    server srv(5);
    wire(c, srv).run();
    BOOST_TEST(c.settings_received());
    BOOST_TEST(c.max_concurrent_streams() == 5u);
    recorder sink(c);
    for (int i = 0; i < 5; ++i) submit(c, get(), sink);
    BOOST_TEST(!c.can_open());
}

BOOST_AUTO_TEST_CASE(responses_interleave_across_streams) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(submit(c, get(), sink));
    wire w(c, srv);
    w.run();
    for (const auto id : ids) srv.respond(id, 200, std::string(3000, char('a' + id)), {}, 0);
    for (int round = 0; round < 3; ++round)
        for (const auto id : ids) {
            srv.release(id, 1000);
            w.run();
        }
    for (const auto id : ids) {
        BOOST_TEST(sink.log.at(id).body == std::string(3000, char('a' + id)));
        BOOST_TEST(!sink.log.at(id).how.ec);
    }
    // Each stream's data came in three parts, between the others'.
    std::vector<std::int32_t> expected;
    for (int round = 0; round < 3; ++round) expected.insert(expected.end(), ids.begin(), ids.end());
    auto order = sink.data_order;
    order.erase(std::unique(order.begin(), order.end()), order.end());
    BOOST_TEST(order == expected);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flow_control)

BOOST_AUTO_TEST_CASE(an_unread_stream_stops_at_its_window_and_the_others_go_on) {
    constexpr std::uint32_t window = 40000;  // not the protocol's default: the setting took
    h2::client_session c({.stream_window = window});
    server srv;
    recorder sink(c);
    const auto slow = submit(c, get(), sink);
    const auto quick = submit(c, get(), sink);
    sink.hold.insert(slow);
    const std::string big(1024 * 1024, 's');
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200, id == slow ? big : std::string(200000, 'q')); };
    wire w(c, srv);
    w.run();
    BOOST_TEST(sink.log.at(slow).body.size() == window);
    BOOST_TEST(sink.log.at(slow).closes == 0);
    BOOST_TEST(sink.log.at(quick).body.size() == 200000u);  // well past its own window, consumed as it came
    BOOST_TEST(!sink.log.at(quick).how.ec);
    BOOST_TEST(sink.log.at(quick).closes == 1);

    // Consuming lets it go on, a window at a time.
    std::size_t consumed = 0;
    for (int round = 0; sink.log.at(slow).closes == 0; ++round) {
        BOOST_REQUIRE(round < 100);
        const auto got = sink.log.at(slow).body.size();
        BOOST_TEST(got - consumed <= window);
        c.consume(slow, got - consumed);
        consumed = got;
        w.run();
    }
    BOOST_TEST(sink.log.at(slow).body == big);
    BOOST_TEST(!sink.log.at(slow).how.ec);
}

BOOST_AUTO_TEST_CASE(the_connection_window_bounds_all_unread_streams) {
    constexpr std::uint32_t connection = 100000;
    h2::client_session c({.connection_window = connection});
    server srv;
    recorder sink(c);
    for (int i = 0; i < 4; ++i) sink.hold.insert(submit(c, get(), sink));
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200, std::string(64 * 1024, 'x')); };
    wire(c, srv).run();
    std::size_t total = 0;
    for (const auto& [id, l] : sink.log) total += l.body.size();
    BOOST_TEST(total == connection);
}

BOOST_AUTO_TEST_CASE(a_closed_streams_unread_bytes_go_back_to_the_connection) {
    constexpr std::uint32_t window = 64 * 1024;
    h2::client_session c({.stream_window = window, .connection_window = window});
    server srv;
    recorder sink(c);
    const auto kept = submit(c, get(), sink);
    sink.hold.insert(kept);  // read whole, never consumed: its sink keeps the data
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200, std::string(40000, 'k')); };
    wire w(c, srv);
    w.run();
    BOOST_TEST(sink.log.at(kept).closes == 1);
    BOOST_TEST(!sink.log.at(kept).how.ec);
    c.consume(kept, 40000);  // too late: nothing left to give back
    // 40000 more on another stream: only 25,536 would fit had the closed
    // stream kept its share of the connection's window.
    const auto next = submit(c, get(), sink);
    w.run();
    BOOST_TEST(sink.log.at(next).body.size() == 40000u);
    BOOST_TEST(!sink.log.at(next).how.ec);
}

BOOST_AUTO_TEST_CASE(consuming_more_than_was_given_gives_back_only_what_was) {
    h2::client_session c({.stream_window = 20000});
    server srv;
    recorder sink(c);
    const auto id = submit(c, get(), sink);
    sink.hold.insert(id);
    srv.on_request = [&](std::int32_t s) { srv.respond(s, 200, std::string(100000, 'x')); };
    wire w(c, srv);
    w.run();
    BOOST_TEST(sink.log.at(id).body.size() == 20000u);
    c.consume(id, 1000000);  // only the 20000 held go back
    w.run();
    BOOST_TEST(sink.log.at(id).body.size() == 40000u);
    // Had the excess counted, this byte would release another window.
    c.consume(id, 1);
    w.run();
    BOOST_TEST(sink.log.at(id).body.size() == 40000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(failures)

BOOST_AUTO_TEST_CASE(goaway_leaves_the_streams_above_its_last_id_unprocessed) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(submit(c, get(), sink));  // 1, 3, 5, 7, 9
    wire w(c, srv);
    w.run();
    BOOST_REQUIRE(srv.ended.size() == 5u);
    srv.goaway(ids[2], NGHTTP2_NO_ERROR);
    w.run();
    BOOST_TEST(!c.can_open());
    BOOST_REQUIRE(c.goaway());
    BOOST_TEST(c.goaway()->last_stream_id == ids[2]);
    BOOST_TEST(c.goaway()->error_code == 0u);
    for (const auto id : {ids[3], ids[4]}) {
        const auto& l = sink.log.at(id);
        BOOST_TEST(l.closes == 1);
        BOOST_TEST(l.how.unprocessed);
        BOOST_TEST(l.how.ec == errc::stream_reset);
        BOOST_TEST((l.how.ec == chatwire::condition::retryable));
    }
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(sink.log.count(ids[i]) == 0u);  // still open
        srv.respond(ids[i], 200, "done");
    }
    w.run();
    for (int i = 0; i < 3; ++i) {
        const auto& l = sink.log.at(ids[i]);
        BOOST_TEST(!l.how.ec);
        BOOST_TEST(!l.how.unprocessed);
        BOOST_TEST(l.body == "done");
    }
    error_code ec;
    BOOST_TEST(c.submit(get(), sink, ec) == 0);
    BOOST_TEST(ec == errc::stream_reset);
    BOOST_TEST(!c.wants_read());  // nothing open, GOAWAY received: the connection is done
    BOOST_TEST(!c.wants_write());
}

BOOST_AUTO_TEST_CASE(a_request_still_queued_when_a_goaway_comes_is_unprocessed) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    const auto sent = submit(c, get(), sink);
    wire w(c, srv);
    w.run();
    const auto queued = submit(c, get(), sink);  // its HEADERS not yet out
    // A graceful shutdown's first GOAWAY names the highest id: nothing is
    // above it, yet no new stream may start (RFC 9113 §6.8).
    srv.goaway(INT32_MAX, NGHTTP2_NO_ERROR);
    const auto bytes = srv.take_output();
    BOOST_TEST(!c.receive({bytes.data(), bytes.size()}));
    BOOST_TEST(sink.log.count(queued) == 0u);
    output_of(c);  // nghttp2 drops the HEADERS it may no longer send
    BOOST_TEST(sink.log.at(queued).how.ec == errc::stream_reset);
    BOOST_TEST(sink.log.at(queued).how.unprocessed);
    BOOST_TEST(srv.requests.count(queued) == 0u);
    srv.respond(sent, 200, "ok");
    w.run();
    BOOST_TEST(!sink.log.at(sent).how.ec);
}

BOOST_AUTO_TEST_CASE(refused_stream_is_unprocessed) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    srv.on_request = [&](std::int32_t id) { srv.reset(id, NGHTTP2_REFUSED_STREAM); };
    const auto id = submit(c, get(), sink);
    wire(c, srv).run();
    const auto& l = sink.log.at(id);
    BOOST_TEST(l.statuses.empty());
    BOOST_TEST(l.how.ec == errc::stream_reset);
    BOOST_TEST(l.how.h2_error == 7u);
    BOOST_TEST(l.how.unprocessed);
    BOOST_TEST(c.can_open());  // the connection itself is fine
}

BOOST_AUTO_TEST_CASE(a_reset_mid_body_fails_after_the_data_before_it) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200, std::string(5000, 'd'), {}, 1000); };
    const auto id = submit(c, get(), sink);
    wire w(c, srv);
    w.run();
    BOOST_TEST(sink.log.at(id).body.size() == 1000u);
    srv.reset(id, NGHTTP2_INTERNAL_ERROR);
    w.run();
    const auto& l = sink.log.at(id);
    BOOST_TEST(l.statuses == std::vector<unsigned>{200});
    BOOST_TEST(l.body == std::string(1000, 'd'));
    BOOST_TEST(l.how.ec == errc::stream_reset);
    BOOST_TEST(l.how.h2_error == 2u);
    BOOST_TEST(!l.how.unprocessed);
    BOOST_TEST((l.events == std::vector<std::string>{"head 200", "data", "close"}));
}

BOOST_AUTO_TEST_CASE(a_header_block_past_the_limit_when_decoded_fails_its_stream_only) {
    constexpr std::size_t limit = 4096;
    h2::client_session c({.max_header_bytes = limit});
    server srv;
    recorder sink(c);
    const auto big = submit(c, get(), sink);
    wire w(c, srv);
    w.run();
    // 400 copies of one field: HPACK sends each after the first as one table
    // index, so the block is small on the wire, and 400 * (8 + 16 + 32) bytes
    // as RFC 9113 counts it decoded.
    field_list many;
    for (int i = 0; i < 400; ++i) many.emplace_back("x-repeat", "0123456789abcdef");
    srv.respond(big, 200, "big head", many);
    const auto bytes = srv.take_output();
    BOOST_TEST(bytes.size() < limit);  // a limit on the bytes received would let it through
    BOOST_TEST(!c.receive({bytes.data(), bytes.size()}));  // a stream's failure, not the connection's
    w.run();
    const auto& l = sink.log.at(big);
    BOOST_TEST(l.statuses.empty());
    BOOST_TEST(l.body.empty());
    BOOST_TEST(l.how.ec == errc::header_limit_exceeded);
    BOOST_TEST(!l.how.unprocessed);
    BOOST_TEST(srv.requests.at(big).reset);  // the client reset it

    // The connection's HPACK state is intact: the next stream reads its head,
    // whose field is now an index into the table the big block filled.
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200, "small", {{"x-repeat", "0123456789abcdef"}}); };
    const auto next = submit(c, get(), sink);
    w.run();
    BOOST_TEST(!sink.log.at(next).how.ec);
    BOOST_TEST((sink.log.at(next).heads.at(0) == field_list{{"x-repeat", "0123456789abcdef"}}));
    BOOST_TEST(sink.log.at(next).body == "small");
}

BOOST_AUTO_TEST_CASE(a_header_block_within_the_limit_is_delivered_whole) {
    h2::client_session c;  // 16 KiB
    server srv;
    recorder sink(c);
    field_list many;
    for (int i = 0; i < 250; ++i) many.emplace_back("x-repeat", "0123456789abcdef");  // 14,000 bytes decoded
    srv.on_request = [&](std::int32_t id) { srv.respond(id, 200, {}, many); };
    const auto id = submit(c, get(), sink);
    wire(c, srv).run();
    BOOST_TEST(!sink.log.at(id).how.ec);
    BOOST_TEST(sink.log.at(id).heads.at(0).size() == 250u);
}

BOOST_AUTO_TEST_CASE(an_interim_103_comes_before_the_final_head) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    srv.on_request = [&](std::int32_t id) {
        srv.interim(id, 103, {{"link", "</style.css>; rel=preload"}});
        srv.respond(id, 200, "body");
    };
    const auto id = submit(c, get(), sink);
    wire(c, srv).run();
    const auto& l = sink.log.at(id);
    BOOST_TEST((l.events == std::vector<std::string>{"head 103", "head 200", "data", "close"}));
    BOOST_TEST((l.heads.at(0) == field_list{{"link", "</style.css>; rel=preload"}}));
    BOOST_TEST(l.body == "body");
    BOOST_TEST(!l.how.ec);
}

BOOST_AUTO_TEST_CASE(more_interim_heads_than_allowed_fail_the_stream) {
    h2::client_session c({.max_interim_heads = 4});
    server srv;
    recorder sink(c);
    int n = 0;
    srv.on_request = [&](std::int32_t id) {
        if (n++ == 0)
            for (int i = 0; i < 5; ++i) srv.interim(id, 103);
        else
            for (int i = 0; i < 4; ++i) srv.interim(id, 100);
        srv.respond(id, 200, "body");
    };
    const auto many = submit(c, get(), sink);
    wire w(c, srv);
    w.run();
    const auto& l = sink.log.at(many);
    BOOST_TEST(l.statuses == std::vector<unsigned>(4, 103));
    BOOST_TEST(l.how.ec == errc::bad_response);
    BOOST_TEST(l.body.empty());
    const auto enough = submit(c, get(), sink);  // four are allowed
    w.run();
    BOOST_TEST(sink.log.at(enough).statuses.size() == 5u);
    BOOST_TEST(!sink.log.at(enough).how.ec);
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_http2_fail_the_connection) {
    h2::client_session c;
    recorder sink(c);
    const auto id = submit(c, get(), sink);
    output_of(c);  // the preface and the request went out
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    const auto ec = c.receive({reply.data(), reply.size()});
    BOOST_TEST(ec == errc::protocol_error);
    BOOST_TEST(c.failure().ec == errc::protocol_error);
    BOOST_TEST(c.failure().h2_error == 1u);  // PROTOCOL_ERROR
    BOOST_TEST(!c.failure().detail.empty());
    BOOST_TEST(sink.log.at(id).how.ec == errc::protocol_error);
    BOOST_TEST(!sink.log.at(id).how.unprocessed);
    BOOST_TEST(!c.can_open());
    BOOST_TEST(!c.wants_read());
    BOOST_TEST(c.receive({reply.data(), reply.size()}) == errc::protocol_error);  // and stays failed
    // Its last words: a GOAWAY (type 7).
    BOOST_TEST(frame_types(output_of(c)) == std::vector<int>{7});
    BOOST_TEST(!c.wants_write());
    error_code refused;
    BOOST_TEST(c.submit(get(), sink, refused) == 0);
    BOOST_TEST(refused == errc::stream_reset);
}

BOOST_AUTO_TEST_CASE(abort_fails_the_open_streams_and_names_the_unsent) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    const auto sent = submit(c, get(), sink);
    wire(c, srv).run();
    const auto unsent = submit(c, get(), sink);
    c.abort(errc::idle_timeout);
    BOOST_TEST(sink.log.at(sent).how.ec == errc::idle_timeout);
    BOOST_TEST(!sink.log.at(sent).how.unprocessed);
    BOOST_TEST(sink.log.at(unsent).how.ec == errc::idle_timeout);
    BOOST_TEST(sink.log.at(unsent).how.unprocessed);
    BOOST_TEST(c.open_streams() == 0u);
    BOOST_TEST(!c.wants_read());
    BOOST_TEST(!c.wants_write());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(connection)

BOOST_AUTO_TEST_CASE(a_ping_from_the_server_is_answered_and_ours_acknowledged) {
    h2::client_session c;
    server srv;
    wire w(c, srv);
    w.run();
    srv.ping();
    w.run();
    BOOST_TEST(srv.pings_acked == 1);
    BOOST_TEST(!c.ping_outstanding());
    c.ping();
    BOOST_TEST(c.ping_outstanding());
    w.run();
    BOOST_TEST(!c.ping_outstanding());
}

BOOST_AUTO_TEST_CASE(ping_and_settings_floods_end_in_a_typed_failure_with_bounded_output) {
    for (const bool settings : {false, true}) {
        h2::client_session c;
        server srv;
        wire(c, srv).run();  // the handshake, then the server turns hostile
        const auto one = settings ? h2_frame(NGHTTP2_SETTINGS, 0, 0, {}) : h2_frame(NGHTTP2_PING, 0, 0, "12345678");
        std::string flood;
        for (int i = 0; i < 5000; ++i) flood += one;
        error_code ec;
        for (std::size_t at = 0; at < flood.size() && !ec; at += 4096)
            ec = c.receive({flood.data() + at, std::min<std::size_t>(4096, flood.size() - at)});
        BOOST_TEST(ec == errc::protocol_error, (settings ? "SETTINGS" : "PING"));
        BOOST_TEST(c.failure().h2_error == 0xbu);  // ENHANCE_YOUR_CALM
        BOOST_TEST_MESSAGE((settings ? "SETTINGS" : "PING") << " flood: " << c.failure().detail);
        BOOST_TEST(output_of(c).size() <= 64 * 1024u);
        BOOST_TEST(!c.wants_read());
    }
}

BOOST_AUTO_TEST_CASE(pings_are_answered_and_unread_answers_stay_bounded) {
    h2::client_session c;
    server srv;
    wire(c, srv).run();
    const auto one = h2_frame(NGHTTP2_PING, 0, 0, "12345678");
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += one;
    std::size_t acks = 0;
    for (int round = 0; round < 50; ++round) {
        BOOST_REQUIRE(!c.receive({batch.data(), batch.size()}));
        const auto types = frame_types(output_of(c));
        acks += static_cast<std::size_t>(std::count(types.begin(), types.end(), NGHTTP2_PING));
    }
    BOOST_TEST(acks == 5000u);

    // Unread, 999 ACKs wait: just under nghttp2's limit, which bounds the
    // output (17 bytes each) of a connection whose writes stall.
    std::string unread;
    for (int i = 0; i < 999; ++i) unread += one;
    BOOST_REQUIRE(!c.receive({unread.data(), unread.size()}));
    const auto out = output_of(c);
    BOOST_TEST(out.size() == 999u * 17);
    BOOST_TEST(c.can_open());
}

BOOST_AUTO_TEST_CASE(a_train_of_continuation_frames_is_stopped) {
    h2::client_session c({.max_header_bytes = 4096});
    server srv;
    recorder sink(c);
    const auto id = submit(c, get(), sink);
    wire(c, srv).run();  // the request reached the server, which stays silent
    // HEADERS without END_HEADERS, then 50 CONTINUATIONs of one 100-byte field each.
    std::string train = h2_frame(NGHTTP2_HEADERS, 0, static_cast<std::uint32_t>(id), literal(":status", "200"));
    for (int i = 0; i < 50; ++i)
        train += h2_frame(NGHTTP2_CONTINUATION, i == 49 ? NGHTTP2_FLAG_END_HEADERS : 0, static_cast<std::uint32_t>(id),
                       literal("x-c", std::string(100, 'c')));
    const auto ec = c.receive({train.data(), train.size()});
    output_of(c);
    // Debian's 1.52.0-1+deb12u2 and later stop at the ninth CONTINUATION
    // (the connection fails); the release before it reads them all, and the
    // header limit fails the stream. Either way nothing reaches the sink.
    BOOST_TEST_MESSAGE("CONTINUATION train: " << (ec ? "the connection failed: " + c.failure().detail
                                                       : std::string("the stream failed")));
    if (ec) {
        BOOST_TEST(ec == errc::protocol_error);
        BOOST_TEST(c.failure().h2_error == 0xbu);
        BOOST_TEST(sink.log.at(id).how.ec == errc::protocol_error);
    } else {
        BOOST_TEST(sink.log.at(id).how.ec == errc::header_limit_exceeded);
    }
    BOOST_TEST(sink.log.at(id).statuses.empty());
}

BOOST_AUTO_TEST_CASE(cancel_resets_one_stream_gives_back_its_window_and_spares_the_others) {
    constexpr std::int32_t window = 64 * 1024;
    h2::client_session c({.stream_window = window, .connection_window = window});
    server srv;
    recorder sink(c);
    const auto a = submit(c, get(), sink);
    const auto b = submit(c, get(), sink);
    sink.hold.insert(a);
    srv.on_request = [&](std::int32_t id) {
        if (id == a) srv.respond(id, 200, std::string(50000, 'a'), {}, 40000);
        else srv.respond(id, 200, "bbbbbbbbbbbbbbbbbbbb", {}, 10);
    };
    wire w(c, srv);
    w.run();
    BOOST_TEST(sink.log.at(a).body.size() == 40000u);
    BOOST_TEST(srv.remote_window() == window - 40000 - 10);  // b's 10 consumed, not yet worth an update

    c.cancel(a);
    BOOST_TEST(c.open_streams() == 2u);  // until the reset is out
    w.run();
    BOOST_TEST(srv.requests.at(a).reset);
    BOOST_TEST(srv.requests.at(a).reset_code == NGHTTP2_CANCEL);
    BOOST_TEST(sink.log.at(a).closes == 0);  // a cancelled sink hears nothing more
    BOOST_TEST(srv.remote_window() == window);  // a's 40000 given back with b's 10
    BOOST_TEST(c.open_streams() == 1u);

    srv.release(b, 10);
    w.run();
    BOOST_TEST(sink.log.at(b).body == "bbbbbbbbbbbbbbbbbbbb");
    BOOST_TEST(!sink.log.at(b).how.ec);
    BOOST_TEST(c.open_streams() == 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_lets_the_open_streams_finish) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    const auto id = submit(c, get(), sink);
    wire w(c, srv);
    w.run();
    c.shutdown();
    BOOST_TEST(!c.can_open());
    w.run();
    BOOST_TEST(srv.goaways == std::vector<std::uint32_t>{0});
    BOOST_TEST(c.wants_read());  // its stream is still open
    srv.respond(id, 200, "last");
    w.run();
    BOOST_TEST(sink.log.at(id).body == "last");
    BOOST_TEST(!sink.log.at(id).how.ec);
    BOOST_TEST(!c.wants_read());
    BOOST_TEST(!c.wants_write());
}

BOOST_AUTO_TEST_CASE(a_goaway_with_an_error_still_lets_the_streams_below_it_end) {
    h2::client_session c;
    server srv;
    recorder sink(c);
    const auto id = submit(c, get(), sink);
    wire w(c, srv);
    w.run();
    srv.goaway(id, NGHTTP2_INTERNAL_ERROR);
    srv.respond(id, 200, "finished");
    w.run();
    BOOST_TEST(!w.failure);
    BOOST_REQUIRE(c.goaway());
    BOOST_TEST(c.goaway()->error_code == 2u);
    BOOST_TEST(!c.can_open());
    BOOST_TEST(sink.log.at(id).body == "finished");
    BOOST_TEST(!sink.log.at(id).how.ec);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(close_verdict)

BOOST_AUTO_TEST_CASE(a_response_that_ended_is_whole_however_the_stream_closes) {
    // A server may reset the rest of a request body once it has answered (RFC 9113 §8.1).
    const auto how = h2::judge({.response_ended = true, .reset_by_server = true, .close_code = h2::code::no_error});
    BOOST_TEST(!how.ec);
    BOOST_TEST(!how.unprocessed);
}

BOOST_AUTO_TEST_CASE(only_what_the_server_never_processed_is_unprocessed) {
    const auto refused = h2::judge({.reset_by_server = true, .close_code = h2::code::refused_stream});
    BOOST_TEST(refused.ec == errc::stream_reset);
    BOOST_TEST(refused.unprocessed);
    const auto reset = h2::judge({.reset_by_server = true, .close_code = h2::code::internal_error});
    BOOST_TEST(reset.ec == errc::stream_reset);
    BOOST_TEST(!reset.unprocessed);
    BOOST_TEST(h2::judge({.beyond_goaway = true, .close_code = h2::code::refused_stream}).unprocessed);
    BOOST_TEST(h2::judge({.never_sent = true, .close_code = h2::code::refused_stream}).unprocessed);
    // nghttp2 reset it itself for a protocol violation.
    const auto broken = h2::judge({.close_code = h2::code::protocol_error});
    BOOST_TEST(broken.ec == errc::protocol_error);
    BOOST_TEST(!broken.unprocessed);
    BOOST_TEST(broken.h2_error == h2::code::protocol_error);
}

BOOST_AUTO_TEST_CASE(the_sessions_own_verdict_names_the_failure) {
    const auto how = h2::judge({.verdict = errc::header_limit_exceeded, .close_code = h2::code::internal_error});
    BOOST_TEST(how.ec == errc::header_limit_exceeded);
    BOOST_TEST(how.h2_error == h2::code::internal_error);
    BOOST_TEST(!how.unprocessed);
}

BOOST_AUTO_TEST_CASE(a_peer_that_sends_too_much_is_told_to_calm_down) {
    BOOST_TEST(h2::connection_code(NGHTTP2_ERR_FLOODED) == h2::code::enhance_your_calm);
    BOOST_TEST(h2::connection_code(NGHTTP2_ERR_FLOODED - 1) == h2::code::enhance_your_calm);  // CONTINUATION trains
    BOOST_TEST(h2::connection_code(NGHTTP2_ERR_PROTO) == h2::code::protocol_error);
    BOOST_TEST(h2::connection_code(NGHTTP2_ERR_FLOW_CONTROL) == static_cast<std::uint32_t>(NGHTTP2_FLOW_CONTROL_ERROR));
    BOOST_TEST(h2::connection_code(NGHTTP2_ERR_CALLBACK_FAILURE) == h2::code::internal_error);
}

BOOST_AUTO_TEST_SUITE_END()
