// The admin API over real loopback sockets, bytes fully under the test's
// control: who may read stats, load faults or reset, and what a page on
// another site (or a DNS-rebound name) gets.
#include "fixture.hpp"
#include "raw_socket.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::chrono_literals;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(emulator_admin_on_the_wire)

namespace {

// One request on a fresh connection, exactly these bytes.
emu_test::http_reply send_once(const running_emulator& e, const std::string& bytes) {
    emu_test::raw_socket s(e.srv->port());
    BOOST_REQUIRE(s.connected());
    s.send(bytes, 2s);
    return emu_test::parse_response(s.read_response(5s));
}

std::string head(const std::string& method, const std::string& path, const std::string& headers,
                 const std::string& body = {}) {
    std::string r = method + " " + path + " HTTP/1.1\r\n" + headers + "Connection: close\r\n";
    if (!body.empty() || method == "POST") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return r + "\r\n" + body;
}

std::string error_of(const emu_test::http_reply& r) {
    return std::string(json::parse(r.body).as_object().at("error").as_string());
}

} // namespace

BOOST_AUTO_TEST_CASE(the_token_opens_the_admin_api, *boost::unit_test::timeout(30)) {
    running_emulator e(plain_options());
    const auto token = e.srv->admin_token();
    BOOST_TEST(token.size() == 32u);  // generated: neither an admin token nor a key was given
    const std::string local = "Host: 127.0.0.1:" + std::to_string(e.srv->port()) + "\r\n";

    auto none = send_once(e, head("GET", "/_emulator/stats", local));
    BOOST_TEST(none.status == 401);
    BOOST_TEST(none.header("content-type") == "application/json");
    BOOST_TEST(error_of(none).find("X-Emulator-Admin-Token") != std::string::npos);
    auto wrong = send_once(e, head("GET", "/_emulator/stats", local + "X-Emulator-Admin-Token: not-" + token + "\r\n"));
    BOOST_TEST(wrong.status == 401);
    BOOST_TEST(wrong.body.find(token) == std::string::npos);
    auto right = send_once(e, head("GET", "/_emulator/stats", local + "X-Emulator-Admin-Token: " + token + "\r\n"));
    BOOST_TEST(right.status == 200);
    BOOST_TEST(json::parse(right.body).as_object().contains("requests"));
    // localhost is the emulator too; the header's name is case-insensitive.
    auto named = send_once(e, head("GET", "/_emulator/stats", "Host: localhost\r\nx-emulator-admin-token: " + token + "\r\n"));
    BOOST_TEST(named.status == 200);
}

BOOST_AUTO_TEST_CASE(cross_site_and_rebound_requests_are_refused, *boost::unit_test::timeout(30)) {
    auto o = plain_options();
    o.api_key = "sk-right";
    running_emulator e(o);
    const std::string token_line = "X-Emulator-Admin-Token: sk-right\r\n";
    const std::string local = "Host: 127.0.0.1\r\n";
    auto made = emu_test::exchange(e.target(), "POST", "/v1/conversation/create", {{"Authorization", "Bearer sk-right"}}, "{}");
    BOOST_REQUIRE(made.status == 200);
    const auto id = std::string(json::parse(made.body).as_object().at("id").as_string());

    // What a form or fetch() on any web page can send without a preflight.
    const std::string simple = "Host: evil.example\r\nContent-Type: text/plain\r\nOrigin: http://evil.example\r\n";
    BOOST_TEST(send_once(e, head("GET", "/_emulator/stats", simple)).status == 421);
    BOOST_TEST(send_once(e, head("POST", "/_emulator/reset", simple, "{}")).status == 421);
    BOOST_TEST(send_once(e, head("POST", "/_emulator/faults", simple, R"([{"kind":"status","status":503}])")).status == 421);
    // A DNS-rebound name reaches us as same-origin with any header: the Host still gives it away.
    auto rebound = send_once(e, head("POST", "/_emulator/reset",
                                "Host: evil.example:" + std::to_string(e.srv->port()) + "\r\n" + token_line +
                                    "Content-Type: application/json\r\n", "{}"));
    BOOST_TEST(rebound.status == 421);
    BOOST_TEST(rebound.header("content-type") == "application/json");
    BOOST_TEST(!error_of(rebound).empty());
    // Right Host, no token: the simple request still fails.
    BOOST_TEST(send_once(e, head("POST", "/_emulator/reset", local + "Content-Type: text/plain\r\n", "{}")).status == 401);
    // The token with a type a page may send cross-site.
    for (std::string type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"}) {
        auto r = send_once(e, head("POST", "/_emulator/faults", local + token_line + "Content-Type: " + type + "\r\n",
                              R"([{"kind":"status","status":503}])"));
        BOOST_TEST(r.status == 415, type);
        BOOST_TEST(error_of(r) == "the admin API accepts only application/json");
    }
    // None of it took effect: the conversation is there and no fault was loaded.
    auto fetched = emu_test::exchange(e.target(), "GET", "/v1/conversation/" + id + "/fetch",
                                      {{"Authorization", "Bearer sk-right"}});
    BOOST_TEST(fetched.status == 200);
    // With everything right, it works.
    BOOST_TEST(send_once(e, head("POST", "/_emulator/reset", local + token_line + "Content-Type: application/json\r\n", "{}"))
                   .status == 200);
    BOOST_TEST(emu_test::exchange(e.target(), "GET", "/v1/conversation/" + id + "/fetch",
                                  {{"Authorization", "Bearer sk-right"}})
                   .status == 404);
}

BOOST_AUTO_TEST_CASE(a_key_less_call_meets_the_401_not_the_fault, *boost::unit_test::timeout(30)) {
    auto o = plain_options();
    o.api_key = "sk-right";
    running_emulator e(o);
    auto set = emu_test::exchange(e.target(), "POST", "/_emulator/faults", e.admin(),
                                  R"([{"kind":"status","status":503},{"api":"vectorshift","kind":"reset_before_response"}])");
    BOOST_REQUIRE(set.status == 200);
    auto pb = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/a/chat", {}, R"({"message":"x"})");
    BOOST_TEST(pb.status == 401);
    BOOST_TEST(json::parse(pb.body).as_object().at("code").as_string() == "MISSING_AUTH_HEADER");
    auto cbk = emu_test::exchange(e.target(), "GET", "/v1/bot/list", {{"Authorization", "Bearer sk-wrong"}});
    BOOST_TEST(cbk.status == 401);
    auto vs = emu_test::exchange(e.target(), "POST", "/v1/chatbot/a/run", {}, R"({"text":"x"})");
    BOOST_TEST(vs.status == 401);  // answered, not reset
    BOOST_TEST(json::parse(vs.body).as_object().at("error").as_string() == "Missing authorization header");
    // The fault is there for callers with the key.
    BOOST_TEST(emu_test::exchange(e.target(), "GET", "/v1/bot/list", {{"Authorization", "Bearer sk-right"}}).status == 503);
}

BOOST_AUTO_TEST_SUITE_END()
