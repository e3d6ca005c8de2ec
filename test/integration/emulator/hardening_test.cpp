// Hostile or careless clients over real loopback sockets: a peer that never
// reads, more connections than allowed, a wrong key with a large body.
#include "fixture.hpp"
#include "raw_socket.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace emu = chatwire::emulator;
using namespace std::chrono_literals;

namespace {

json::object stats(const running_emulator& e) {
    return json::parse(emu_test::exchange(e.target(), "GET", "/_emulator/stats", e.admin()).body).as_object();
}

// Polls the stats until `open` connections remain (the stats request's own
// included) or `timeout` passes; returns the last count.
std::int64_t wait_open(const running_emulator& e, std::int64_t open, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto n = stats(e).at("open_connections").as_int64();
        if (n <= open || std::chrono::steady_clock::now() > deadline) return n;
        std::this_thread::sleep_for(50ms);
    }
}

// GET /_emulator/stats on a fresh connection; status 0 when it was closed unanswered.
emu_test::http_reply raw_stats(const running_emulator& e) {
    emu_test::raw_socket s(e.srv->port());
    s.send("GET /_emulator/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n" + e.admin_line() + "Connection: close\r\n\r\n", 1s);
    return emu_test::parse_response(s.read_response(2s));
}

} // namespace

BOOST_AUTO_TEST_SUITE(emulator_hardening)

BOOST_AUTO_TEST_CASE(a_peer_that_never_reads_is_closed_after_the_write_timeout, *boost::unit_test::timeout(30)) {
    auto o = plain_options();
    o.write_timeout = 400ms;
    // 8 MiB in one event: more than the socket buffers on both sides hold.
    o.faults_json = R"([{"api":"pollybot","kind":"oversized_event","oversized_event":8388608,"events":1}])";
    running_emulator e(o);
    emu_test::raw_socket idle(e.srv->port(), 4096);
    BOOST_REQUIRE(idle.connected());
    const std::string body = R"({"message":"x","stream":true})";
    BOOST_REQUIRE(idle.send(emu_test::request_text("POST", "/api/v1/chatbots/a/chat", "Authorization: Bearer k\r\n", body),
                            2s) > 0);
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(stats(e).at("open_connections").as_int64() == 2);  // the idle one and this one
    // Closed by the server while the client still holds its end and reads nothing.
    BOOST_TEST(wait_open(e, 1, 5s) == 1);
}

BOOST_AUTO_TEST_CASE(connections_beyond_the_cap_are_closed_at_once, *boost::unit_test::timeout(30)) {
    auto o = plain_options();
    o.max_connections = 3;
    running_emulator e(o);
    std::vector<std::unique_ptr<emu_test::raw_socket>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<emu_test::raw_socket>(e.srv->port()));
        BOOST_REQUIRE(held.back()->connected());
    }
    // The fourth is accepted and closed straight away, not queued until one frees.
    emu_test::raw_socket extra(e.srv->port());
    BOOST_TEST(extra.closed_within(2s));
    BOOST_TEST(raw_stats(e).status == 0);

    held.pop_back();
    held.pop_back();  // two free slots: this request and its stats
    bool ok = false;
    for (int i = 0; i < 40 && !ok; ++i) {
        auto r = raw_stats(e);
        ok = r.status == 200;
        if (ok) BOOST_TEST(json::parse(r.body).as_object().at("refused_connections").as_int64() >= 2);
        else std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_is_refused_before_the_body_is_read, *boost::unit_test::timeout(30)) {
    auto o = plain_options();
    o.api_key = "right";
    running_emulator e(o);
    const auto port = e.srv->port();
    const std::string declared_32mib = std::to_string(32u << 20);

    // Without Expect: 64 KiB of a declared 32 MiB body, then silence. The 401
    // comes at once and the connection closes; the rest is never awaited.
    {
        emu_test::raw_socket s(port);
        auto head = emu_test::request_text("POST", "/api/v1/chatbots/a/chat", "Authorization: Bearer wrong\r\n",
                                           std::string(64 * 1024, 'x'), 32u << 20);
        s.send(head, 2s);
        bool closed = false;
        auto got = s.read_response(3s, &closed);
        auto r = emu_test::parse_response(got);
        BOOST_TEST(r.status == 401);
        BOOST_TEST(json::parse(r.body).as_object().at("code").as_string() == "INVALID_API_KEY");
        BOOST_TEST(r.header("connection") == "close");
        BOOST_TEST(s.closed_within(3s));
    }
    // With Expect: 100-continue the client is never invited to send the body.
    {
        emu_test::raw_socket s(port);
        s.send("POST /v1/conversation/complete HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer wrong\r\n"
               "Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: " + declared_32mib + "\r\n\r\n",
               2s);
        auto got = s.read_response(3s);
        BOOST_TEST(got.find("100 Continue") == std::string::npos);
        auto r = emu_test::parse_response(got);
        BOOST_TEST(r.status == 401);
        BOOST_TEST(json::parse(r.body).as_object().at("code").as_string() == "NOT_AUTHENTICATED");
    }
    // A missing key on VectorShift: the API's own 401.
    {
        emu_test::raw_socket s(port);
        s.send(emu_test::request_text("POST", "/api/chatbots/run", "", "", 1u << 20), 2s);
        auto r = emu_test::parse_response(s.read_response(3s));
        BOOST_TEST(r.status == 401);
        BOOST_TEST(json::parse(r.body).as_object().at("error").as_string() == "Missing authorization header");
    }
    // The right key still has its body read and answered.
    auto ok = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/a/chat", {{"Authorization", "Bearer right"}},
                                 R"({"message":"hi"})");
    BOOST_TEST(ok.status == 200);
    auto s = stats(e);
    BOOST_TEST(s.at("requests").as_int64() == 4);  // refused requests are counted like any other
}

BOOST_AUTO_TEST_CASE(body_limit_is_an_option, *boost::unit_test::timeout(30)) {
    auto o = plain_options();
    o.max_body_bytes = 100;
    running_emulator e(o);
    auto big = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/a/chat", bearer,
                                  R"({"message":")" + std::string(200, 'x') + R"("})");
    BOOST_TEST(big.status == 413);
    auto small = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x"})");
    BOOST_TEST(small.status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
