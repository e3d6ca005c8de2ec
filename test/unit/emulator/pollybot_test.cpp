#include "engine_helpers.hpp"

#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(emulator_pollybot)

const std::string chat = "/api/v1/chatbots/bot_7/chat";

BOOST_AUTO_TEST_CASE(json_reply_and_conversation) {
    emu::engine e(emu::options{});
    auto p = e.handle(make_request("POST", chat, bearer, R"({"message":"Hello","metadata":{"source":"t"}})"));
    BOOST_TEST(p.status == 200);
    auto b = body_of(p);
    BOOST_TEST(b.at("success").as_bool());
    auto d = b.at("data").as_object();
    std::string cid(d.at("conversationId").as_string());
    BOOST_TEST(cid.size() == 25u);
    BOOST_TEST(cid.rfind("cm", 0) == 0u);
    BOOST_TEST(d.at("messageId").as_string().size() == 25u);
    auto next = e.handle(make_request("POST", chat, bearer, R"({"message":"More","conversationId":")" + cid + "\"}"));
    BOOST_TEST(body_of(next).at("data").as_object().at("response").as_string().find("Turn 2") != json::string::npos);
    auto missing = e.handle(make_request("POST", chat, bearer, R"({"message":"x","conversationId":"cmnope"})"));
    BOOST_TEST(missing.status == 404);
    BOOST_TEST(body_of(missing).at("code").as_string() == "CONVERSATION_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(stream_events_and_done) {
    emu::engine a(emu::options{}), b(emu::options{});
    auto whole = body_of(a.handle(make_request("POST", chat, bearer, R"({"message":"Hi"})"))).at("data").as_object();
    auto s = b.handle(make_request("POST", chat, bearer, R"({"message":"Hi","stream":true})"));
    BOOST_TEST(s.content_type == "text/event-stream");
    auto ev = payloads(s);
    BOOST_TEST(json::parse(ev.front()).as_object().at("type").as_string() == "start");
    BOOST_TEST(ev.back() == "[DONE]");
    auto done = json::parse(ev[ev.size() - 2]).as_object();
    BOOST_TEST(done.at("type").as_string() == "done");
    std::string text;
    for (std::size_t i = 1; i + 2 < ev.size(); ++i) text += json::parse(ev[i]).as_object().at("content").as_string();
    BOOST_TEST(text == std::string(whole.at("response").as_string()));
    BOOST_TEST(done.at("data").as_object().at("response").as_string() == whole.at("response").as_string());
}

BOOST_AUTO_TEST_CASE(errors) {
    emu::options o;
    o.api_key = "sk-workspace_good";
    emu::engine e(o);
    auto none = e.handle(make_request("POST", chat, {}, R"({"message":"x"})"));
    BOOST_TEST(none.status == 401);
    BOOST_TEST(body_of(none).at("code").as_string() == "MISSING_AUTH_HEADER");
    BOOST_TEST(body_of(none).at("success").as_bool() == false);
    auto wrong = e.handle(make_request("POST", chat, bearer, R"({"message":"x"})"));
    BOOST_TEST(body_of(wrong).at("code").as_string() == "INVALID_API_KEY");
    const emu::header_list good{{"authorization", "Bearer sk-workspace_good"}};
    auto invalid = e.handle(make_request("POST", chat, good, R"({"stream":true})"));
    BOOST_TEST(invalid.status == 400);
    BOOST_TEST(body_of(invalid).at("code").as_string() == "VALIDATION_ERROR");
    BOOST_TEST(e.handle(make_request("POST", chat, good, "not json")).status == 400);
}

BOOST_AUTO_TEST_CASE(sliding_window_per_key) {
    emu::options o;
    o.rate_limit = 2;
    o.rate_window = 10s;
    emu::engine e(o);
    const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    auto send = [&](std::chrono::system_clock::time_point t, std::string key = "a") {
        return e.handle(make_request("POST", chat, {{"authorization", "Bearer " + key}}, R"({"message":"x"})"), t);
    };
    auto r1 = send(t0);
    BOOST_TEST(header_of(r1, "X-RateLimit-Limit") == "2");
    BOOST_TEST(header_of(r1, "X-RateLimit-Remaining") == "1");
    BOOST_TEST(header_of(r1, "X-RateLimit-Used") == "1");
    BOOST_TEST(header_of(r1, "X-RateLimit-Reset") == "1700000010");
    auto r2 = send(t0 + 4s);
    BOOST_TEST(header_of(r2, "X-RateLimit-Remaining") == "0");
    auto r3 = send(t0 + 5s);
    BOOST_TEST(r3.status == 429);
    BOOST_TEST(body_of(r3).at("code").as_string() == "RATE_LIMIT_EXCEEDED");
    BOOST_TEST(body_of(r3).at("retryAfter").as_int64() == 5);
    BOOST_TEST(header_of(r3, "Retry-After") == "5");
    BOOST_TEST(send(t0 + 5s, "b").status == 200);  // another key has its own window
    // The first request slides out of the window at t0+10s; the second stays until t0+14s.
    auto r4 = send(t0 + 10s);
    BOOST_TEST(r4.status == 200);
    BOOST_TEST(header_of(r4, "X-RateLimit-Reset") == "1700000014");
    BOOST_TEST(send(t0 + 11s).status == 429);
}

BOOST_AUTO_TEST_CASE(default_headers_without_a_limit) {
    emu::engine e(emu::options{});
    for (int i = 0; i < 3; ++i) e.handle(make_request("POST", chat, bearer, R"({"message":"x"})"));
    auto p = e.handle(make_request("POST", chat, bearer, R"({"message":"x"})"));
    BOOST_TEST(header_of(p, "X-RateLimit-Limit") == "1000");
    BOOST_TEST(header_of(p, "X-RateLimit-Used") == "4");
    BOOST_TEST(header_of(p, "X-RateLimit-Remaining") == "996");
}

BOOST_AUTO_TEST_SUITE_END()
