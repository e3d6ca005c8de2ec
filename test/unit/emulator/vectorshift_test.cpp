#include "engine_helpers.hpp"

#include <boost/test/unit_test.hpp>

namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(emulator_vectorshift)

const emu::header_list api_key{{"api-key", "k"}, {"content-type", "application/json"}};

BOOST_AUTO_TEST_CASE(legacy_run_json_and_conversation) {
    emu::engine e(emu::options{});
    auto p = e.handle(make_request("POST", "/api/chatbots/run", api_key, R"({"input":"Where is it?","chatbot_id":"cb1"})"));
    BOOST_TEST(p.status == 200);
    auto b = body_of(p);
    BOOST_TEST(b.at("status").as_string() == "success");
    BOOST_TEST(b.at("output").as_string().find("Where is it?") != json::string::npos);
    const auto cid = b.at("conversation_id").as_string();
    BOOST_TEST(cid.size() == 24u);

    auto again = e.handle(make_request("POST", "/api/chatbots/run", api_key,
                                       R"({"input":"And now?","chatbot_id":"cb1","conversation_id":")" +
                                           std::string(cid) + "\"}"));
    BOOST_TEST(body_of(again).at("conversation_id").as_string() == cid);
    BOOST_TEST(body_of(again).at("output").as_string().find("Turn 2") != json::string::npos);

    auto by_name = e.handle(make_request("POST", "/api/chatbots/run", api_key, R"({"input":"x","chatbot_name":"Support"})"));
    BOOST_TEST(by_name.status == 200);
}

BOOST_AUTO_TEST_CASE(legacy_run_stream_is_cumulative_and_ends_with_the_reply) {
    emu::engine e(emu::options{});
    auto whole = body_of(e.handle(make_request("POST", "/api/chatbots/run", api_key, R"({"input":"q","chatbot_id":"c"})")))
                     .at("output").as_string();
    emu::engine f(emu::options{});
    auto p = f.handle(make_request("POST", "/api/chatbots/run", api_key, R"({"input":"q","chatbot_id":"c","stream":true})"));
    BOOST_TEST(p.streaming);
    BOOST_TEST(p.content_type == "text/event-stream");
    std::string prev;
    for (const auto& payload : payloads(p)) {
        auto o = json::parse(payload).as_object();
        std::string out(o.at("output").as_string());
        BOOST_TEST(out.rfind(prev, 0) == 0u);
        prev = out;
        BOOST_TEST(o.contains("conversation_id"));
    }
    BOOST_TEST(prev == std::string(whole));
    for (const auto& ev : p.events) BOOST_TEST(ev.substr(ev.size() - 2) == "\n\n");
}

BOOST_AUTO_TEST_CASE(legacy_errors) {
    emu::engine e(emu::options{});
    auto missing = e.handle(make_request("POST", "/api/chatbots/run", {}, R"({"input":"q","chatbot_id":"c"})"));
    BOOST_TEST(missing.status == 401);
    BOOST_TEST(body_of(missing).at("error").as_string() == "Missing authorization header");
    auto no_input = e.handle(make_request("POST", "/api/chatbots/run", api_key, R"({"chatbot_id":"c"})"));
    BOOST_TEST(no_input.status == 400);
    BOOST_TEST(body_of(no_input).at("status").as_string() == "failed");
    auto no_bot = e.handle(make_request("POST", "/api/chatbots/run", api_key, R"({"input":"q"})"));
    BOOST_TEST(no_bot.status == 400);
    auto bad_conv = e.handle(make_request("POST", "/api/chatbots/run", api_key,
                                          R"({"input":"q","chatbot_id":"c","conversation_id":"nope"})"));
    BOOST_TEST(bad_conv.status == 404);
    BOOST_TEST(body_of(bad_conv).at("error").as_string() == "Conversation not found");

    emu::options o;
    o.api_key = "right";
    emu::engine strict(o);
    auto wrong = strict.handle(make_request("POST", "/api/chatbots/run", {{"api-key", "wrong"}}, R"({"input":"q","chatbot_id":"c"})"));
    BOOST_TEST(wrong.status == 401);
    BOOST_TEST(body_of(wrong).at("error").as_string() == "Invalid API key");
    auto right = strict.handle(make_request("POST", "/api/chatbots/run", {{"api-key", "right"}}, R"({"input":"q","chatbot_id":"c"})"));
    BOOST_TEST(right.status == 200);
}

BOOST_AUTO_TEST_CASE(v1_run_json_and_stream) {
    emu::engine e(emu::options{});
    auto p = e.handle(make_request("POST", "/v1/chatbot/cb9/run", bearer, R"({"text":"hello"})"));
    auto b = body_of(p);
    BOOST_TEST(b.at("status").as_string() == "success");
    const std::string reply(b.at("output_message").as_string());

    emu::engine f(emu::options{});
    auto s = f.handle(make_request("POST", "/v1/chatbot/cb9/run", bearer, R"({"text":"hello","stream":true})"));
    auto events = payloads(s);
    std::string text;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        auto o = json::parse(events[i]).as_object();
        BOOST_TEST(o.at("type").as_string() == "stream");
        text += o.at("output_value").as_string();
    }
    BOOST_TEST(text == reply);
    auto last = json::parse(events.back()).as_object();
    BOOST_TEST(last.at("status").as_string() == "success");
    BOOST_TEST(last.at("output_message").as_string() == reply);
    BOOST_TEST(last.contains("conversation_id"));
}

BOOST_AUTO_TEST_CASE(v1_auth_errors) {
    emu::options o;
    o.api_key = "good";
    emu::engine e(o);
    auto body = R"({"text":"x"})";
    BOOST_TEST(body_of(e.handle(make_request("POST", "/v1/chatbot/a/run", {}, body))).at("error").as_string() ==
               "Missing authorization header");
    BOOST_TEST(body_of(e.handle(make_request("POST", "/v1/chatbot/a/run", {{"authorization", "good"}}, body)))
                   .at("error").as_string() == "Invalid authorization header format");
    BOOST_TEST(body_of(e.handle(make_request("POST", "/v1/chatbot/a/run", {{"authorization", "Bearer bad"}}, body)))
                   .at("error").as_string() == "Invalid API key");
    BOOST_TEST(e.handle(make_request("POST", "/v1/chatbot/a/run", {{"authorization", "Bearer good"}}, body)).status == 200);
}

BOOST_AUTO_TEST_CASE(v1_list_fetch_upload_terminate) {
    emu::engine e(emu::options{});
    e.handle(make_request("POST", "/v1/chatbot/one/run", bearer, R"({"text":"x"})"));
    auto list = body_of(e.handle(make_request("GET", "/v1/chatbots?include_shared=false&verbose=false", bearer)));
    BOOST_TEST(list.at("status").as_string() == "success");
    BOOST_TEST(list.at("object_ids").as_array().size() == 1u);
    BOOST_TEST(!list.contains("objects"));
    auto verbose = body_of(e.handle(make_request("GET", "/v1/chatbots?verbose=true", bearer)));
    BOOST_TEST(verbose.at("objects").as_array()[0].as_object().at("_id").as_string() == "one");

    auto fetched = body_of(e.handle(make_request("GET", "/v1/chatbot?id=one", bearer)));
    BOOST_TEST(fetched.at("object").as_object().at("_id").as_string() == "one");
    auto by_name = body_of(e.handle(make_request("GET", "/v1/chatbot?name=Sales%20Bot", bearer)));
    BOOST_TEST(by_name.at("object").as_object().at("name").as_string() == "Sales Bot");
    BOOST_TEST(e.handle(make_request("GET", "/v1/chatbot", bearer)).status == 400);

    auto up = e.handle(make_request("POST", "/v1/chatbot/one/upload", bearer,
                                    R"({"files":[{"type":"file","raw_bytes":"aGVsbG8="},{"type":"file","raw_bytes":"!!"}]})"));
    auto ub = body_of(up);
    BOOST_TEST(ub.at("status").as_string() == "success");
    BOOST_TEST(ub.at("uploaded_files").as_array().size() == 1u);
    BOOST_TEST(ub.at("errors").as_array().size() == 1u);
    BOOST_TEST(ub.at("knowledge_base_id").is_string());
    BOOST_TEST(ub.at("conversation_id").is_string());
    BOOST_TEST(e.handle(make_request("POST", "/v1/chatbot/one/upload", bearer, R"({"files":[]})")).status == 400);

    auto t = e.handle(make_request("POST", "/v1/chatbot/one/terminate", bearer, R"({"pipeline_run_id":"run1"})"));
    BOOST_TEST(body_of(t).at("status").as_string() == "success");
    auto bad = e.handle(make_request("POST", "/v1/chatbot/one/terminate", bearer, "{}"));
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(body_of(bad).at("status").as_string() == "failed");
}

BOOST_AUTO_TEST_SUITE_END()
