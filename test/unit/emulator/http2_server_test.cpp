// The emulator's HTTP/2 server session without sockets, paired in memory
// with the library's HTTP/2 client session: each side's output is the
// other's input. Two independent nghttp2 users, so each checks the other.
#define BOOST_TEST_MODULE unit_emulator_http2
#include <boost/test/unit_test.hpp>

#include "../../../src/emulator/h2/server_session.hpp"
#include "../../../src/http/h2/client_session.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace srv = chatwire::emulator::h2;
namespace cli = chatwire::http::h2;
using chatwire::errc;

namespace {

// What the client saw of each stream; consumes at once unless told not to.
struct sink final : cli::stream_sink {
    struct stream {
        unsigned status = 0;
        std::string body;
        std::optional<cli::stream_close> closed;
    };
    cli::client_session* session = nullptr;
    bool consume = true;
    std::map<std::int32_t, stream> streams;

    void on_head(std::int32_t id, const cli::response_head& h) override { streams[id].status = h.status; }
    void on_data(std::int32_t id, std::string_view chunk) override {
        streams[id].body.append(chunk);
        if (consume) session->consume(id, chunk.size());
    }
    void on_close(std::int32_t id, const cli::stream_close& how) override { streams[id].closed = how; }
};

// A server session, the requests and refusals it reported, and a client
// session wired to it.
struct pair {
    std::vector<srv::incoming_request> requests;
    std::vector<std::pair<std::int32_t, srv::refusal>> refusals;
    std::map<std::int32_t, std::uint32_t> closed;
    srv::server_session server;
    cli::client_session client;
    sink out;
    std::deque<std::string> bodies;  // a request's body lives until its stream closes

    explicit pair(const srv::server_settings& s = {}, const cli::session_limits& l = {})
        : server(handlers(), s), client(l) {
        out.session = &client;
        pump();
    }

    srv::server_handlers handlers() {
        return {[this](srv::incoming_request&& r) { requests.push_back(std::move(r)); },
                [this](std::int32_t id, srv::refusal why) { refusals.emplace_back(id, why); },
                [this](std::int32_t id, std::uint32_t code) { closed[id] = code; }};
    }

    // Moves bytes both ways until neither side has any to write.
    void pump() {
        for (int round = 0; round < 1000; ++round) {
            bool moved = false;
            if (auto b = client.output(); !b.empty()) {
                BOOST_REQUIRE(!server.receive(b));
                client.wrote(b.size());
                moved = true;
            }
            if (auto b = server.output(); !b.empty()) {
                BOOST_REQUIRE(!client.receive(b));
                server.wrote(b.size());
                moved = true;
            }
            if (!moved) return;
        }
        BOOST_FAIL("the sessions never went quiet");
    }

    std::int32_t submit(std::string_view method, std::string_view path, std::string_view body = {},
                        std::span<const cli::header_field> fields = {}) {
        cli::request r;
        r.method = method;
        r.path = path;
        r.authority = "emu.test:8443";
        r.body = bodies.emplace_back(body);
        r.fields = fields;
        chatwire::error_code ec;
        const auto id = client.submit(r, out, ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        return id;
    }
};

std::string field(const chatwire::emulator::header_list& h, std::string_view name) {
    for (const auto& [n, v] : h)
        if (n == name) return v;
    return "<absent>";
}

} // namespace

BOOST_AUTO_TEST_CASE(a_get_and_a_post_reach_the_handler_whole) {
    pair p;
    const cli::header_field get_fields[] = {{"X-Api-Key", "k-123"}};
    const auto get = p.submit("GET", "/v1/models?limit=2", {}, get_fields);
    const std::string json = R"({"message":"hello","stream":false})";
    const cli::header_field post_fields[] = {{"content-type", "application/json"}};
    const auto post = p.submit("POST", "/v1/chat", json, post_fields);
    p.pump();
    BOOST_REQUIRE_EQUAL(p.requests.size(), 2u);
    const auto& g = p.requests[0];
    BOOST_TEST(g.stream == get);
    BOOST_TEST(g.method == "GET");
    BOOST_TEST(g.path == "/v1/models?limit=2");
    BOOST_TEST(g.authority == "emu.test:8443");
    BOOST_TEST(g.scheme == "https");
    BOOST_TEST(field(g.fields, "x-api-key") == "k-123");
    BOOST_TEST(g.body.empty());
    auto r = p.requests[1];
    BOOST_TEST(r.stream == post);
    BOOST_TEST(r.method == "POST");
    BOOST_TEST(field(r.fields, "content-type") == "application/json");
    BOOST_TEST(field(r.fields, "content-length") == std::to_string(json.size()));
    BOOST_TEST(r.body == json);

    const auto e = srv::to_engine_request(std::move(r), "127.0.0.1", 8443);
    BOOST_TEST(e.method == "POST");
    BOOST_TEST(e.target == "/v1/chat");
    BOOST_TEST(e.header("host") == "emu.test:8443");
    BOOST_TEST(e.body == json);
    BOOST_TEST(e.local_port == 8443);

    BOOST_TEST(!p.server.respond(get, 200, {{"content-type", "application/json"}}, "[]"));
    BOOST_TEST(!p.server.respond(post, 201, {}, R"({"ok":true})"));
    p.pump();
    BOOST_TEST(p.out.streams[get].status == 200u);
    BOOST_TEST(p.out.streams[get].body == "[]");
    BOOST_TEST(p.out.streams[post].status == 201u);
    BOOST_TEST(p.out.streams[post].body == R"({"ok":true})");
    BOOST_REQUIRE(p.out.streams[post].closed);
    BOOST_TEST(!p.out.streams[post].closed->ec);
    BOOST_TEST(p.server.stats().requests == 2u);
    BOOST_TEST(p.server.stats().responses_completed == 2u);
    BOOST_TEST(p.server.open_streams() == 0u);
    BOOST_TEST(p.server.respond(get, 200, {}) == srv::session_errc::no_such_stream);
}

BOOST_AUTO_TEST_CASE(a_streamed_response_arrives_in_order_over_several_rounds) {
    pair p;
    const auto id = p.submit("POST", "/v1/stream", "{}");
    p.pump();
    BOOST_TEST(p.server.send(id, "early", false) == srv::session_errc::not_answered);
    BOOST_TEST(!p.server.respond(id, 200, {{"content-type", "text/event-stream"}}, {}, false));
    p.pump();
    BOOST_TEST(p.out.streams[id].status == 200u);
    BOOST_TEST(p.out.streams[id].body.empty());
    std::string all;
    for (int i = 0; i < 5; ++i) {
        const auto ev = "data: {\"n\":" + std::to_string(i) + "}\n\n";
        all += ev;
        BOOST_TEST(!p.server.send(id, ev, false));
        p.pump();
        BOOST_TEST(p.out.streams[id].body == all);
        BOOST_TEST(!p.out.streams[id].closed);
    }
    BOOST_TEST(!p.server.send(id, "data: [DONE]\n\n", true));
    BOOST_TEST(p.server.send(id, "late", true) == srv::session_errc::ended);
    p.pump();
    BOOST_TEST(p.out.streams[id].body == all + "data: [DONE]\n\n");
    BOOST_REQUIRE(p.out.streams[id].closed);
    BOOST_TEST(!p.out.streams[id].closed->ec);
    BOOST_TEST(p.closed.at(id) == srv::code::no_error);
}

BOOST_AUTO_TEST_CASE(twenty_streams_interleave) {
    pair p;
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(p.submit("GET", "/s/" + std::to_string(i)));
    p.pump();
    BOOST_REQUIRE_EQUAL(p.requests.size(), 20u);
    BOOST_TEST(p.server.open_streams() == 20u);
    for (const auto& r : p.requests) BOOST_TEST(!p.server.respond(r.stream, 200, {}, r.path + ":", false));
    for (int piece = 0; piece < 3; ++piece) {
        for (const auto& r : p.requests) BOOST_TEST(!p.server.send(r.stream, std::to_string(piece), piece == 2));
        p.pump();
    }
    for (const auto& r : p.requests) {
        const auto& s = p.out.streams[r.stream];
        BOOST_TEST(s.body == r.path + ":012");
        BOOST_TEST((s.closed && !s.closed->ec));
    }
    BOOST_TEST(p.server.stats().responses_completed == 20u);
}

BOOST_AUTO_TEST_CASE(max_concurrent_streams_1_holds_the_client_to_one) {
    srv::server_settings s;
    s.max_concurrent_streams = 1;
    pair p(s);
    BOOST_TEST(p.client.max_concurrent_streams() == 1u);
    BOOST_TEST(p.client.can_open());
    const auto id = p.submit("GET", "/one");
    p.pump();
    BOOST_TEST(!p.client.can_open());
    BOOST_TEST(!p.server.respond(id, 204, {}));
    p.pump();
    BOOST_TEST(p.client.can_open());
}

BOOST_AUTO_TEST_CASE(a_client_that_does_not_read_stalls_its_stream_and_bounds_the_queue) {
    cli::session_limits l;
    l.stream_window = 1024;
    pair p({}, l);
    p.out.consume = false;
    const auto id = p.submit("GET", "/big");
    p.pump();
    const std::string body(10'000, 'x');
    BOOST_TEST(!p.server.respond(id, 200, {}, body, false));
    p.pump();
    BOOST_TEST(p.out.streams[id].body.size() == 1024u);  // the client's window, no more
    BOOST_TEST(p.server.queued(id) == body.size() - 1024);
    // More given while stalled waits in the queue; nothing more is framed.
    BOOST_TEST(!p.server.send(id, "tail", true));
    p.pump();
    BOOST_TEST(p.out.streams[id].body.size() == 1024u);
    BOOST_TEST(p.server.queued(id) == body.size() - 1024 + 4);
    // Reading resumes it.
    p.out.consume = true;
    for (int i = 0; i < 100 && !p.out.streams[id].closed; ++i) {
        p.client.consume(id, p.out.streams[id].body.size());
        p.pump();
    }
    BOOST_TEST(p.out.streams[id].body == body + "tail");
    BOOST_TEST(p.server.queued(id) == 0u);
}

BOOST_AUTO_TEST_CASE(a_tiny_server_window_still_takes_a_whole_body) {
    srv::server_settings s;
    s.initial_window_size = 16;
    pair p(s);
    const std::string body(3000, 'b');
    p.submit("POST", "/up", body);
    p.pump();
    BOOST_REQUIRE_EQUAL(p.requests.size(), 1u);
    BOOST_TEST(p.requests[0].body == body);
}

BOOST_AUTO_TEST_CASE(a_reset_mid_body_fails_the_stream_after_the_data_before_it) {
    pair p;
    const auto id = p.submit("GET", "/r");
    p.pump();
    BOOST_TEST(!p.server.respond(id, 200, {}, "part one", false));
    p.pump();
    BOOST_TEST(!p.server.send(id, "never framed", false));
    BOOST_TEST(!p.server.reset(id, srv::code::internal_error));
    p.pump();
    const auto& s = p.out.streams[id];
    BOOST_TEST(s.body == "part one");
    BOOST_REQUIRE(s.closed);
    BOOST_TEST(s.closed->ec == errc::stream_reset);
    BOOST_TEST(s.closed->h2_error == 2u);
    BOOST_TEST(!s.closed->unprocessed);
    BOOST_TEST(p.server.stats().reset_by_server == 1u);
    BOOST_TEST(p.server.reset(id, 2) == srv::session_errc::no_such_stream);
}

BOOST_AUTO_TEST_CASE(refused_stream_leaves_the_request_unprocessed) {
    pair p;
    const auto id = p.submit("GET", "/refuse");
    p.pump();
    BOOST_TEST(!p.server.reset(id, srv::code::refused_stream));
    p.pump();
    const auto& s = p.out.streams[id];
    BOOST_REQUIRE(s.closed);
    BOOST_TEST(s.closed->h2_error == 7u);
    BOOST_TEST(s.closed->unprocessed);
}

BOOST_AUTO_TEST_CASE(goaway_leaves_the_streams_above_its_last_id_unprocessed) {
    pair p;
    const auto one = p.submit("GET", "/1");
    const auto three = p.submit("GET", "/3");
    BOOST_REQUIRE_EQUAL(one, 1);
    BOOST_REQUIRE_EQUAL(three, 3);
    p.pump();
    BOOST_TEST(!p.server.goaway(1, srv::code::no_error));
    p.pump();
    BOOST_REQUIRE(p.client.goaway());
    BOOST_TEST(p.client.goaway()->last_stream_id == 1);
    BOOST_TEST(!p.client.can_open());
    BOOST_REQUIRE(p.out.streams[three].closed);
    BOOST_TEST(p.out.streams[three].closed->unprocessed);
    BOOST_TEST(!p.out.streams[one].closed);
    BOOST_TEST(p.server.respond(three, 200, {}) == srv::session_errc::no_such_stream);
    BOOST_TEST(!p.server.respond(one, 200, {}, "still answered"));
    p.pump();
    BOOST_TEST(p.out.streams[one].body == "still answered");
    BOOST_TEST((p.out.streams[one].closed && !p.out.streams[one].closed->ec));
}

BOOST_AUTO_TEST_CASE(pings_are_answered_unless_the_fault_is_on) {
    {
        pair p;
        p.client.ping();
        p.pump();
        BOOST_TEST(!p.client.ping_outstanding());
        BOOST_TEST(p.server.stats().pings_received == 1u);
        BOOST_TEST(p.server.stats().pings_answered == 1u);
    }
    srv::server_settings s;
    s.answer_pings = false;
    pair p(s);
    p.client.ping();
    p.pump();
    BOOST_TEST(p.client.ping_outstanding());
    BOOST_TEST(p.server.stats().pings_received == 1u);
    BOOST_TEST(p.server.stats().pings_answered == 0u);
}

BOOST_AUTO_TEST_CASE(a_header_list_over_the_limit_is_answered_431) {
    srv::server_settings s;
    s.max_header_list_bytes = 1024;
    pair p(s);
    const std::string big(1100, 'v');
    const cli::header_field fields[] = {{"x-big", big}};
    const auto id = p.submit("GET", "/h", {}, fields);
    const cli::header_field small[] = {{"x-small", std::string_view(big).substr(0, 800)}};
    const auto ok = p.submit("GET", "/fits", {}, small);
    p.pump();
    BOOST_REQUIRE_EQUAL(p.refusals.size(), 1u);
    BOOST_TEST(p.refusals[0].first == id);
    BOOST_TEST((p.refusals[0].second == srv::refusal::header_list_too_large));
    BOOST_REQUIRE_EQUAL(p.requests.size(), 1u);
    BOOST_TEST(p.requests[0].stream == ok);
    BOOST_TEST(p.out.streams[id].status == 431u);
    BOOST_TEST(p.out.streams[id].closed.has_value());
    BOOST_TEST(p.server.stats().refused == 1u);
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_answered_413) {
    srv::server_settings s;
    s.max_request_body = 100;
    pair p(s);
    const auto id = p.submit("POST", "/b", std::string(1000, 'j'));
    const auto ok = p.submit("POST", "/fits", std::string(100, 'j'));
    p.pump();
    BOOST_REQUIRE_EQUAL(p.refusals.size(), 1u);
    BOOST_TEST(p.refusals[0].first == id);
    BOOST_TEST((p.refusals[0].second == srv::refusal::body_too_large));
    BOOST_REQUIRE_EQUAL(p.requests.size(), 1u);
    BOOST_TEST(p.requests[0].stream == ok);
    BOOST_TEST(p.requests[0].body.size() == 100u);
    // The answer is whole; the stream's unsent body is cut with NO_ERROR.
    BOOST_REQUIRE(p.out.streams[id].closed);
    BOOST_TEST(!p.out.streams[id].closed->ec);
    BOOST_TEST(p.server.stats().reset_by_server == 1u);
    BOOST_TEST(p.out.streams[id].status == 413u);
    BOOST_TEST(p.server.queued(id) == 0u);
    BOOST_TEST(p.server.open_streams() == 1u);  // the one that fits, awaiting its answer
}

BOOST_AUTO_TEST_CASE(garbage_instead_of_the_preface_fails_the_connection) {
    srv::server_session s({});
    const std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const auto ec = s.receive(junk);
    BOOST_TEST(ec == srv::session_errc::protocol_error);
    BOOST_TEST(!s.wants_read());
    BOOST_TEST(s.receive(junk) == srv::session_errc::protocol_error);
    BOOST_TEST(s.respond(1, 200, {}) == srv::session_errc::failed);
}

BOOST_AUTO_TEST_CASE(the_reset_rate_limit_is_set_with_a_header_that_declares_it) {
    srv::server_session s({});
    BOOST_TEST(s.reset_rate_limited());
}

BOOST_AUTO_TEST_CASE(a_client_cancel_closes_the_stream_and_drops_its_queue) {
    cli::session_limits l;
    l.stream_window = 1024;
    pair p({}, l);
    p.out.consume = false;
    const auto id = p.submit("GET", "/cancel");
    p.pump();
    BOOST_TEST(!p.server.respond(id, 200, {}, std::string(5000, 'c'), false));
    p.pump();
    BOOST_TEST(p.server.queued(id) == 5000u - 1024u);
    p.client.cancel(id);
    p.pump();
    BOOST_TEST(p.server.stats().reset_by_client == 1u);
    BOOST_TEST(p.closed.at(id) == srv::code::cancel);
    BOOST_TEST(p.server.queued(id) == 0u);
    BOOST_TEST(p.server.open_streams() == 0u);
    BOOST_TEST(p.server.send(id, "more", true) == srv::session_errc::no_such_stream);
}
