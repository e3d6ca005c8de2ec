#include "engine_helpers.hpp"

#include <chatwire/emulator/faults.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(emulator_faults)

BOOST_AUTO_TEST_CASE(parses_every_kind) {
    auto rules = emu::parse_fault_rules(R"([
      {"api":"pollybot","route":"POST /api/v1/chatbots/{id}/chat","times":2,"kind":"status","status":429,"retry_after":3},
      {"kind":"reset_before_response"},
      {"kind":"reset_after_events","reset_after_events":4},
      {"kind":"stall_ms","stall_ms":250},
      {"kind":"truncate_after_events","truncate_after_events":2},
      {"kind":"drip","bytes":3,"delay_ms":5},
      {"kind":"malformed_event","events":1},
      {"kind":"oversized_event","oversized_event":100000},
      {"api":"chatbotkit","kind":"in_stream_error","events":2,"message":"boom"}
    ])");
    BOOST_TEST_REQUIRE(rules.size() == 9u);
    BOOST_TEST((rules[0].target == emu::api::pollybot));
    BOOST_TEST(*rules[0].times == 2u);
    BOOST_TEST(rules[0].status == 429);
    BOOST_TEST(*rules[0].retry_after == 3u);
    BOOST_TEST(!rules[1].target.has_value());
    BOOST_TEST(rules[2].events == 4u);
    BOOST_TEST(rules[3].stall.count() == 250);
    BOOST_TEST(!rules[3].events_given);
    BOOST_TEST(rules[4].events == 2u);
    BOOST_TEST(rules[5].bytes == 3u);
    BOOST_TEST(rules[5].delay.count() == 5);
    BOOST_TEST(rules[7].bytes == 100000u);
    BOOST_TEST(rules[8].message == "boom");
}

BOOST_AUTO_TEST_CASE(rejects_bad_rules) {
    BOOST_CHECK_THROW(emu::parse_fault_rules("nope"), std::invalid_argument);
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"kind":"explode"}])"), std::invalid_argument);
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"api":"openai","kind":"status"}])"), std::invalid_argument);
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"kind":"status","status":42}])"), std::invalid_argument);
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"kind":"truncate_after_events"}])"), std::invalid_argument);
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"kind":"status","times":-1}])"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(matching_by_api_route_and_times) {
    emu::fault_script script;
    script.replace(emu::parse_fault_rules(R"([
      {"api":"pollybot","times":1,"kind":"status","status":500},
      {"api":"any","route":"/v1/conversation/list","kind":"stall_ms","stall_ms":1},
      {"route":"GET /api/v1/conversation/list","times":2,"kind":"drip"}])"));
    BOOST_TEST(script.match(emu::api::chatbotkit, "POST /api/v1/conversation/create").empty());
    BOOST_TEST(script.match(emu::api::pollybot, "POST /api/v1/chatbots/{id}/chat").size() == 1u);
    BOOST_TEST(script.match(emu::api::pollybot, "POST /api/v1/chatbots/{id}/chat").empty());  // spent
    BOOST_TEST(script.match(emu::api::chatbotkit, "GET /v1/conversation/list").size() == 1u);
    BOOST_TEST(script.match(emu::api::chatbotkit, "GET /api/v1/conversation/list").size() == 1u);
    BOOST_TEST(script.match(emu::api::chatbotkit, "GET /api/v1/conversation/list").size() == 1u);
    BOOST_TEST(script.match(emu::api::chatbotkit, "GET /api/v1/conversation/list").empty());
    BOOST_TEST(script.rules()[2].hits == 2u);
}

namespace {
emu::response_plan pollybot_stream(emu::engine& e) {
    return e.handle(make_request("POST", "/api/v1/chatbots/b/chat", bearer, R"({"message":"hi","stream":true})"));
}
} // namespace

BOOST_AUTO_TEST_CASE(status_fault_uses_the_api_error_body) {
    emu::options o;
    o.faults_json = R"([{"api":"pollybot","kind":"status","status":429,"retry_after":7,"ratelimit_reset":1700000000},
                        {"api":"chatbotkit","kind":"status","status":429,"code":"LIMITS_REACHED"},
                        {"api":"vectorshift","kind":"status","status":503}])";
    emu::engine e(o);
    auto p = pollybot_stream(e);
    BOOST_TEST(p.status == 429);
    BOOST_TEST(!p.streaming);
    auto b = body_of(p);
    BOOST_TEST(b.at("success").as_bool() == false);
    BOOST_TEST(b.at("code").as_string() == "RATE_LIMIT_EXCEEDED");
    BOOST_TEST(b.at("retryAfter").as_int64() == 7);
    BOOST_TEST(header_of(p, "Retry-After") == "7");
    BOOST_TEST(header_of(p, "X-RateLimit-Reset") == "1700000000");
    BOOST_TEST(!header_of(p, "X-RateLimit-Limit").empty());

    auto c = e.handle(make_request("GET", "/v1/conversation/list", bearer));
    BOOST_TEST(c.status == 429);
    BOOST_TEST(body_of(c).at("code").as_string() == "LIMITS_REACHED");

    auto v = e.handle(make_request("POST", "/api/chatbots/run", {{"api-key", "k"}}, R"({"input":"x","chatbot_id":"a"})"));
    BOOST_TEST(v.status == 503);
    BOOST_TEST(body_of(v).at("status").as_string() == "failed");
}

BOOST_AUTO_TEST_CASE(a_429s_hint_goes_where_hint_in_says) {
    for (std::string in : {"header", "body", "none"}) {
        emu::options o;
        o.faults_json = R"([{"api":"pollybot","kind":"status","status":429,"retry_after":2,"hint_in":")" + in + R"("}])";
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(p.status == 429);
        BOOST_TEST(header_of(p, "Retry-After") == (in == "header" ? "2" : ""), in);
        BOOST_TEST(body_of(p).contains("retryAfter") == (in == "body"), in);
        BOOST_TEST(body_of(p).at("code").as_string() == "RATE_LIMIT_EXCEEDED");
    }
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"kind":"status","status":429,"hint_in":"elsewhere"}])"),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(stream_shaping_faults) {
    emu::options o;
    emu::engine plain(o);
    const auto normal = pollybot_stream(plain);
    const auto n = normal.events.size();

    o.faults_json = R"([{"kind":"truncate_after_events","truncate_after_events":3}])";
    {
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(p.events.size() == 3u);
    }
    o.faults_json = R"([{"kind":"truncate_after_events","truncate_after_events":1000}])";
    {
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(p.events.size() == n - 2);  // without "done" and [DONE]
    }
    o.faults_json = R"([{"kind":"malformed_event","events":2}])";
    {
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(p.events.size() == n);
        auto bad = payloads(p)[2];
        boost::system::error_code ec;
        boost::json::parse(bad, ec);
        BOOST_TEST(ec.failed());
        BOOST_TEST(p.events[2].substr(0, 6) == "data: ");
    }
    o.faults_json = R"([{"kind":"oversized_event","oversized_event":70000,"events":1}])";
    {
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(p.events.size() == n + 1);
        BOOST_TEST(p.events[1].size() == 70000u);
        BOOST_TEST(boost::json::parse(payloads(p)[1]).as_object().at("type").as_string() == "token");
    }
    o.faults_json = R"([{"kind":"in_stream_error","events":2,"code":"MODEL_ERROR","message":"boom"}])";
    {
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(p.events.size() == 3u);
        auto err = boost::json::parse(payloads(p)[2]).as_object();
        BOOST_TEST(err.at("type").as_string() == "error");
        BOOST_TEST(err.at("error").as_string() == "boom");
        BOOST_TEST(err.at("code").as_string() == "MODEL_ERROR");
    }
    o.faults_json = R"([{"kind":"reset_after_events","reset_after_events":2},{"kind":"stall_ms","stall_ms":30},
                        {"kind":"drip","bytes":5,"delay_ms":1},{"kind":"reset_before_response"}])";
    {
        emu::engine e(o);
        auto p = pollybot_stream(e);
        BOOST_TEST(*p.reset_after_events == 2u);
        BOOST_TEST(p.stall_before.count() == 30);
        BOOST_TEST(p.drip_bytes == 5u);
        BOOST_TEST(p.reset_before_response);
    }
}

BOOST_AUTO_TEST_CASE(in_stream_error_of_chatbotkit_is_an_error_line) {
    emu::options o;
    o.faults_json = R"([{"kind":"in_stream_error","events":1}])";
    emu::engine e(o);
    auto id = body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer, "{}"))).at("id").as_string();
    auto hdr = bearer;
    hdr.emplace_back("accept", "application/jsonl");
    auto p = e.handle(make_request("POST", "/v1/conversation/" + std::string(id) + "/complete", hdr, R"({"text":"hi"})"));
    BOOST_TEST_REQUIRE(p.events.size() == 2u);
    BOOST_TEST(p.events[1].back() == '\n');
    auto err = boost::json::parse(p.events[1]).as_object();
    BOOST_TEST(err.at("type").as_string() == "error");
    BOOST_TEST(err.at("data").as_object().at("message").is_string());
}

BOOST_AUTO_TEST_CASE(in_stream_error_of_vectorshift_v1_names_the_conversation) {
    emu::options o;
    o.faults_json = R"([{"api":"vectorshift","kind":"in_stream_error","events":2}])";
    emu::engine e(o);
    auto p = e.handle(make_request("POST", "/v1/chatbot/c/run", bearer, R"({"text":"hi","stream":true})"));
    auto ev = payloads(p);
    BOOST_TEST_REQUIRE(ev.size() == 3u);
    auto last = boost::json::parse(ev[2]).as_object();
    BOOST_TEST(last.at("status").as_string() == "failed");
    BOOST_TEST(last.at("conversation_id").as_string().size() == 24u);
    BOOST_TEST(last.at("error").is_string());
}

BOOST_AUTO_TEST_SUITE_END()
