#include "fixture.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
namespace emu = chatwire::emulator;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(emulator_server)

BOOST_AUTO_TEST_CASE(tls_with_the_generated_certificate) {
    running_emulator e;
    BOOST_TEST(e.srv->base_url() == "https://127.0.0.1:" + std::to_string(e.srv->port()));
    BOOST_TEST(e.srv->certificate_pem().find("BEGIN CERTIFICATE") != std::string::npos);
    auto r = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/b1/chat", bearer, R"({"message":"Hi"})");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.complete);
    BOOST_TEST(json::parse(r.body).as_object().at("success").as_bool());
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(!r.header("x-ratelimit-remaining").empty());

    // A stream over TLS: chunked, one SSE event per token, [DONE] last.
    auto s = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/b1/chat", bearer, R"({"message":"Hi","stream":true})");
    BOOST_TEST(s.chunked);
    BOOST_TEST(s.complete);
    BOOST_TEST(s.header("content-type") == "text/event-stream");
    BOOST_TEST(s.body.substr(s.body.size() - 14) == "data: [DONE]\n\n");
}

BOOST_AUTO_TEST_CASE(plain_http_serves_all_three_apis_exactly) {
    running_emulator e(plain_options());
    BOOST_TEST(e.srv->base_url().rfind("http://127.0.0.1:", 0) == 0u);
    BOOST_TEST(e.srv->certificate_pem().empty());
    auto t = e.target();

    auto vs = emu_test::exchange(t, "POST", "/api/chatbots/run", {{"Api-Key", "k"}},
                                 R"({"input":"Where is my order?","chatbot_id":"c1","stream":true})");
    BOOST_TEST(vs.header("content-type") == "text/event-stream");
    auto vs_events = emu_test::sse_payloads(vs.body);
    BOOST_TEST(vs_events.size() > 5u);
    BOOST_TEST(vs.body.find("[DONE]") == std::string::npos);

    auto id = json::parse(emu_test::exchange(t, "POST", "/api/v1/conversation/create", bearer, "{}").body)
                  .as_object().at("id").as_string();
    auto hdr = bearer;
    hdr.emplace_back("Accept", "application/jsonl");
    auto cbk = emu_test::exchange(t, "POST", "/api/v1/conversation/" + std::string(id) + "/complete", hdr, R"({"text":"hello"})");
    BOOST_TEST(cbk.header("content-type") == "application/jsonl");
    BOOST_TEST(cbk.body.find("\n\n") == std::string::npos);  // never a blank line
    BOOST_TEST(cbk.body.back() == '\n');
    auto lines = emu_test::json_lines(cbk.body);
    BOOST_TEST(json::parse(lines.back()).as_object().at("type").as_string() == "result");
}

BOOST_AUTO_TEST_CASE(streamed_text_equals_the_json_reply_and_is_deterministic) {
    auto o = plain_options();
    o.seed = 42;
    running_emulator a(o), b(o);
    auto body = R"({"message":"Tell me about \"quotes\" and \\ backslashes","stream":false})";
    auto ra = emu_test::exchange(a.target(), "POST", "/api/v1/chatbots/x/chat", bearer, body);
    auto rb = emu_test::exchange(b.target(), "POST", "/api/v1/chatbots/x/chat", bearer, body);
    BOOST_TEST(ra.body == rb.body);  // same seed, same history, same ids

    auto stream = emu_test::exchange(b.target(), "POST", "/api/v1/chatbots/x/chat", bearer,
                                     R"({"message":"Tell me about \"quotes\" and \\ backslashes","stream":true})");
    std::string text;
    for (const auto& p : emu_test::sse_payloads(stream.body)) {
        if (p == "[DONE]") continue;
        auto o2 = json::parse(p).as_object();
        if (o2.at("type").as_string() == "token") text += o2.at("content").as_string();
    }
    BOOST_TEST(text == std::string(json::parse(ra.body).as_object().at("data").as_object().at("response").as_string()));

    auto other = plain_options();
    other.seed = 43;
    running_emulator c(other);
    auto rc = emu_test::exchange(c.target(), "POST", "/api/v1/chatbots/x/chat", bearer, body);
    BOOST_TEST(rc.body != ra.body);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
    running_emulator e(plain_options());
    std::string body = R"({"message":"x"})";
    std::string one = "POST /api/v1/chatbots/a/chat HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer k\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string two = "GET /_emulator/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n" + e.admin_line() + "Connection: close\r\n\r\n";
    auto r = emu_test::send_raw(e.target(), one + two);
    BOOST_TEST(r.status == 200);
    auto second = r.raw.find("HTTP/1.1 200", 10);
    BOOST_TEST_REQUIRE(second != std::string::npos);
    auto stats = emu_test::parse_response(r.raw.substr(second));
    BOOST_TEST(json::parse(stats.body).as_object().at("requests").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_answered) {
    running_emulator e(plain_options());
    std::string body = R"({"files":[{"type":"file","raw_bytes":"aGVsbG8="}]})";
    std::string req = "POST /v1/chatbot/c/upload HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer k\r\n"
                      "Expect: 100-continue\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n";
    // Headers first; the body only after the interim response, as curl does.
    auto r = emu_test::send_raw_expect(e.target(), req, body);
    BOOST_TEST(r.raw.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0u);
    auto final_response = emu_test::parse_response(r.raw.substr(25));
    BOOST_TEST(final_response.status == 200);
    BOOST_TEST(json::parse(final_response.body).as_object().at("status").as_string() == "success");
}

BOOST_AUTO_TEST_CASE(token_delay_paces_the_stream) {
    auto o = plain_options();
    o.token_delay = 10ms;
    running_emulator e(o);
    auto r = emu_test::exchange(e.target(), "POST", "/v1/chatbot/c/run", bearer, R"({"text":"hi","stream":true})");
    auto events = emu_test::sse_payloads(r.body).size();
    BOOST_TEST(events > 20u);
    BOOST_TEST(r.elapsed.count() >= static_cast<long>((events - 1) * 10));
    BOOST_TEST(r.first_byte.count() < r.elapsed.count() / 2);  // the head goes out at once
}

BOOST_AUTO_TEST_CASE(api_key_checked_per_api) {
    auto o = plain_options();
    o.api_key = "sk-right";
    running_emulator e(o);
    auto t = e.target();
    auto cbk = emu_test::exchange(t, "GET", "/v1/conversation/list", {{"Authorization", "Bearer sk-wrong"}});
    BOOST_TEST(cbk.status == 401);
    BOOST_TEST(json::parse(cbk.body).as_object().at("code").as_string() == "NOT_AUTHENTICATED");
    auto pb = emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", {}, R"({"message":"x"})");
    BOOST_TEST(pb.status == 401);
    BOOST_TEST(json::parse(pb.body).as_object().at("code").as_string() == "MISSING_AUTH_HEADER");
    auto vs = emu_test::exchange(t, "POST", "/v1/chatbot/a/run", {{"Authorization", "Bearer nope"}}, R"({"text":"x"})");
    BOOST_TEST(json::parse(vs.body).as_object().at("error").as_string() == "Invalid API key");
    auto ok = emu_test::exchange(t, "GET", "/v1/conversation/list", {{"Authorization", "Token sk-right"}});
    BOOST_TEST(ok.status == 200);
    // The admin API's token is the API key when no other is given.
    BOOST_TEST(e.srv->admin_token() == "sk-right");
    auto admin = emu_test::exchange(t, "GET", "/_emulator/stats", {{"X-Emulator-Admin-Token", "sk-right"}});
    BOOST_TEST(admin.status == 200);
}

BOOST_AUTO_TEST_CASE(admin_api_over_http) {
    running_emulator e(plain_options());
    auto t = e.target();
    emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x"})");
    emu_test::exchange(t, "POST", "/api/v1/chatbots/b/chat", bearer, R"({"message":"x"})");
    auto stats = json::parse(emu_test::exchange(t, "GET", "/_emulator/stats", e.admin()).body).as_object();
    BOOST_TEST(stats.at("requests").as_int64() == 2);
    BOOST_TEST(stats.at("routes").as_object().at("POST /api/v1/chatbots/{id}/chat").as_int64() == 2);
    BOOST_TEST(stats.at("open_connections").as_int64() == 1);  // the stats request's own

    auto set = emu_test::exchange(t, "POST", "/_emulator/faults", e.admin(), R"([{"api":"pollybot","kind":"status","status":402}])");
    BOOST_TEST(set.status == 200);
    auto hit = emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x"})");
    BOOST_TEST(hit.status == 402);
    BOOST_TEST(json::parse(hit.body).as_object().at("code").as_string() == "INSUFFICIENT_CREDITS");
    BOOST_TEST(emu_test::exchange(t, "DELETE", "/_emulator/faults", e.admin()).status == 200);
    BOOST_TEST(emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x"})").status == 200);
    BOOST_TEST(emu_test::exchange(t, "POST", "/_emulator/reset", e.admin()).status == 200);
    stats = json::parse(emu_test::exchange(t, "GET", "/_emulator/stats", e.admin()).body).as_object();
    BOOST_TEST(stats.at("requests").as_int64() == 0);
    BOOST_TEST(emu_test::exchange(t, "POST", "/_emulator/faults", e.admin(), "{not json").status == 400);
}

BOOST_AUTO_TEST_CASE(garbage_and_oversized_requests) {
    auto o = plain_options();
    o.max_body_bytes = 1024;
    running_emulator e(o);
    auto garbage = emu_test::send_raw(e.target(), "\x16\x03\x01 not http at all\r\n\r\n");
    BOOST_TEST(garbage.status == 0);  // closed without an answer
    auto big = emu_test::exchange(e.target(), "POST", "/api/v1/chatbots/a/chat", bearer, std::string(4096, 'x'));
    BOOST_TEST(big.status == 413);
    // Plain HTTP sent to a TLS listener is refused, and the server lives on.
    running_emulator tls;
    auto plain_to_tls = emu_test::send_raw({tls.srv->port(), ""}, "GET /_emulator/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    BOOST_TEST(plain_to_tls.status == 0);
    BOOST_TEST(emu_test::exchange(tls.target(), "GET", "/_emulator/stats", tls.admin()).status == 200);
}

BOOST_AUTO_TEST_CASE(stop_ends_open_streams) {
    auto o = plain_options();
    o.token_delay = 1000ms;  // a stream that would take a minute
    running_emulator e(o);
    auto t = e.target();
    std::thread stopper([&e] {
        std::this_thread::sleep_for(200ms);
        e.srv->stop();
    });
    auto r = emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x","stream":true})");
    stopper.join();
    BOOST_TEST(!r.complete);
    BOOST_TEST(r.elapsed.count() < 5000);
}

BOOST_AUTO_TEST_SUITE_END()
