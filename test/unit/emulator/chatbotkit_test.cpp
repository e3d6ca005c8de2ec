#include "engine_helpers.hpp"

#include <boost/test/unit_test.hpp>

namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(emulator_chatbotkit)

namespace {
std::string create(emu::engine& e, const std::string& body = "{}", const std::string& prefix = "/api/v1") {
    auto p = e.handle(make_request("POST", prefix + "/conversation/create", bearer, body));
    BOOST_TEST_REQUIRE(p.status == 200);
    return std::string(body_of(p).at("id").as_string());
}
emu::header_list jsonl_headers() {
    auto h = bearer;
    h.emplace_back("accept", "application/jsonl");
    return h;
}
} // namespace

BOOST_AUTO_TEST_CASE(crud_under_both_prefixes) {
    emu::engine e(emu::options{});
    auto id = create(e, R"({"name":"First","description":"d","botId":"bot_x","meta":{"a":1,"b":2}})", "/v1");
    BOOST_TEST(id.rfind("cnv_", 0) == 0u);
    auto f = e.handle(make_request("GET", "/api/v1/conversation/" + id + "/fetch", {{"authorization", "Token t"}}));
    auto item = body_of(f);
    BOOST_TEST(item.at("id").as_string() == id);
    BOOST_TEST(item.at("name").as_string() == "First");
    BOOST_TEST(item.at("botId").as_string() == "bot_x");
    BOOST_TEST(item.at("createdAt").is_int64());

    // $update merges, meta replaces.
    e.handle(make_request("POST", "/v1/conversation/" + id + "/update", bearer, R"({"$update":{"b":3,"c":4}})"));
    auto meta = body_of(e.handle(make_request("GET", "/v1/conversation/" + id + "/fetch", bearer))).at("meta").as_object();
    BOOST_TEST(meta.at("a").as_int64() == 1);
    BOOST_TEST(meta.at("b").as_int64() == 3);
    BOOST_TEST(meta.at("c").as_int64() == 4);
    auto up = e.handle(make_request("POST", "/v1/conversation/" + id + "/update", bearer, R"({"name":"Renamed","meta":{"z":true}})"));
    BOOST_TEST(body_of(up).at("id").as_string() == id);
    auto after = body_of(e.handle(make_request("GET", "/v1/conversation/" + id + "/fetch", bearer)));
    BOOST_TEST(after.at("name").as_string() == "Renamed");
    BOOST_TEST(after.at("meta").as_object().size() == 1u);

    auto del = e.handle(make_request("POST", "/v1/conversation/" + id + "/delete", bearer, "{}"));
    BOOST_TEST(body_of(del).at("id").as_string() == id);
    auto gone = e.handle(make_request("GET", "/v1/conversation/" + id + "/fetch", bearer));
    BOOST_TEST(gone.status == 404);
    BOOST_TEST(body_of(gone).at("code").as_string() == "NOT_FOUND");
    BOOST_TEST(body_of(gone).at("message").is_string());
}

BOOST_AUTO_TEST_CASE(cursor_pages_newest_first) {
    emu::engine e(emu::options{});
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(create(e));
    std::vector<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        auto p = e.handle(make_request("GET", "/api/v1/conversation/list?take=2" + (cursor.empty() ? "" : "&cursor=" + cursor), bearer));
        auto b = body_of(p);
        auto& items = b.at("items").as_array();
        if (items.empty()) {
            BOOST_TEST(!b.contains("cursor"));
            break;
        }
        BOOST_TEST(items.size() <= 2u);
        for (auto& i : items) seen.emplace_back(i.as_object().at("id").as_string());
        cursor = std::string(b.at("cursor").as_string());
        BOOST_TEST(cursor == seen.back());
    }
    std::vector<std::string> expected(ids.rbegin(), ids.rend());
    BOOST_TEST(seen == expected);

    auto asc = body_of(e.handle(make_request("GET", "/v1/conversation/list?order=asc&take=3", bearer)));
    BOOST_TEST(asc.at("items").as_array()[0].as_object().at("id").as_string() == ids[0]);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/list?take=abc", bearer)).status == 400);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/list?order=sideways", bearer)).status == 400);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/list?cursor=cnv_unknown", bearer)).status == 400);
}

BOOST_AUTO_TEST_CASE(list_streams_every_item_as_jsonl) {
    emu::engine e(emu::options{});
    for (int i = 0; i < 30; ++i) create(e);
    auto p = e.handle(make_request("GET", "/v1/conversation/list", jsonl_headers()));
    BOOST_TEST(p.streaming);
    BOOST_TEST(p.content_type == "application/jsonl");
    BOOST_TEST(p.events.size() == 30u);  // more than one page: every item
    for (const auto& line : p.events) {
        BOOST_TEST(line.back() == '\n');
        BOOST_TEST(line.find('\n') == line.size() - 1);
        auto o = json::parse(line).as_object();
        BOOST_TEST(o.at("type").as_string() == "item");
        BOOST_TEST(o.at("data").as_object().contains("id"));
    }
}

BOOST_AUTO_TEST_CASE(complete_json_and_stream_agree) {
    emu::engine a(emu::options{}), b(emu::options{});
    auto ia = create(a, R"({"botId":"bot_1"})");
    auto ib = create(b, R"({"botId":"bot_1"})");
    BOOST_TEST(ia == ib);  // ids are deterministic too
    auto r = body_of(a.handle(make_request("POST", "/v1/conversation/" + ia + "/complete", bearer, R"({"text":"Hi \"there\""})")));
    BOOST_TEST(std::string(r.at("id").as_string()).rfind("msg_", 0) == 0u);
    BOOST_TEST(r.at("usage").as_object().at("token").as_int64() > 0);
    BOOST_TEST(r.at("end").as_object().at("reason").as_string() == "stop");

    auto s = b.handle(make_request("POST", "/v1/conversation/" + ib + "/complete", jsonl_headers(), R"({"text":"Hi \"there\""})"));
    std::vector<std::string> types;
    std::string text;
    json::object result;
    for (const auto& line : s.events) {
        auto o = json::parse(line).as_object();
        types.emplace_back(o.at("type").as_string());
        if (types.back() == "token") text += o.at("data").as_object().at("token").as_string();
        if (types.back() == "result") result = o.at("data").as_object();
    }
    BOOST_TEST(types.front() == "completeBegin");
    BOOST_TEST(types[types.size() - 4] == "message");
    BOOST_TEST(types[types.size() - 3] == "usage");
    BOOST_TEST(types[types.size() - 2] == "completeEnd");
    BOOST_TEST(types.back() == "result");
    BOOST_TEST(text == std::string(r.at("text").as_string()));
    BOOST_TEST(result.at("text").as_string() == r.at("text").as_string());

    auto msgs = body_of(a.handle(make_request("GET", "/v1/conversation/" + ia + "/message/list?order=asc", bearer)));
    auto& items = msgs.at("items").as_array();
    BOOST_TEST_REQUIRE(items.size() == 2u);
    BOOST_TEST(items[0].as_object().at("type").as_string() == "user");
    BOOST_TEST(items[1].as_object().at("type").as_string() == "bot");
    BOOST_TEST(items[1].as_object().at("text").as_string() == r.at("text").as_string());

    BOOST_TEST(a.handle(make_request("POST", "/v1/conversation/cnv_x/complete", bearer, R"({"text":"x"})")).status == 404);
    BOOST_TEST(a.handle(make_request("POST", "/v1/conversation/" + ia + "/complete", bearer, "{}")).status == 400);
}

BOOST_AUTO_TEST_CASE(stateless_complete_and_messages) {
    emu::engine e(emu::options{});
    auto r = body_of(e.handle(make_request("POST", "/api/v1/conversation/complete", bearer,
                                           R"({"messages":[{"type":"user","text":"Hello"}],"model":"gpt-4o"})")));
    BOOST_TEST(!r.contains("id"));
    BOOST_TEST(r.at("text").as_string().find("Hello") != json::string::npos);
    BOOST_TEST(e.handle(make_request("POST", "/api/v1/conversation/complete", bearer, R"({"messages":[]})")).status == 400);

    auto id = create(e, R"({"messages":[{"type":"user","text":"a"},{"type":"bot","text":"b"}]})");
    auto m = e.handle(make_request("POST", "/v1/conversation/" + id + "/message/create", bearer, R"({"type":"user","text":"c"})"));
    BOOST_TEST(std::string(body_of(m).at("id").as_string()).rfind("msg_", 0) == 0u);
    auto list = body_of(e.handle(make_request("GET", "/v1/conversation/" + id + "/message/list", bearer)));
    BOOST_TEST(list.at("items").as_array().size() == 3u);
    BOOST_TEST(list.at("items").as_array()[0].as_object().at("text").as_string() == "c");  // newest first
}

BOOST_AUTO_TEST_CASE(bots_auth_and_run_as) {
    emu::engine e(emu::options{});
    auto b = e.handle(make_request("POST", "/v1/bot/create", bearer, R"({"name":"Helper"})"));
    BOOST_TEST(std::string(body_of(b).at("id").as_string()).rfind("bot_", 0) == 0u);
    create(e, R"({"botId":"bot_named"})");
    auto bots = body_of(e.handle(make_request("GET", "/v1/bot/list", bearer)));
    BOOST_TEST(bots.at("items").as_array().size() == 2u);

    auto none = e.handle(make_request("GET", "/v1/conversation/list", {}));
    BOOST_TEST(none.status == 401);
    BOOST_TEST(body_of(none).at("code").as_string() == "NOT_AUTHENTICATED");

    auto child = bearer;
    child.emplace_back("x-runas-userid", "child_1");
    auto mine = create(e);
    BOOST_TEST(body_of(e.handle(make_request("GET", "/v1/conversation/list", child))).at("items").as_array().empty());
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/" + mine + "/fetch", child)).status == 404);

    emu::options o;
    o.api_key = "secret";
    emu::engine strict(o);
    auto wrong = strict.handle(make_request("GET", "/v1/conversation/list", bearer));
    BOOST_TEST(wrong.status == 401);
    BOOST_TEST(strict.handle(make_request("GET", "/v1/conversation/list", {{"authorization", "Token secret"}})).status == 200);
}

BOOST_AUTO_TEST_CASE(list_filters_by_meta) {
    emu::engine e(emu::options{});
    create(e, R"({"meta":{"team":"red"}})");
    auto blue = create(e, R"({"meta":{"team":"blue"}})");
    create(e);
    auto only = body_of(e.handle(make_request("GET", "/v1/conversation/list?meta.team=blue", bearer)));
    BOOST_TEST_REQUIRE(only.at("items").as_array().size() == 1u);
    BOOST_TEST(only.at("items").as_array()[0].as_object().at("id").as_string() == blue);
}

BOOST_AUTO_TEST_CASE(unknown_routes_and_methods) {
    emu::engine e(emu::options{});
    auto nf = e.handle(make_request("GET", "/v1/nothing/here", bearer));
    BOOST_TEST(nf.status == 404);
    BOOST_TEST(body_of(nf).at("code").as_string() == "NOT_FOUND");
    auto wrong = e.handle(make_request("GET", "/v1/conversation/create", bearer));
    BOOST_TEST(wrong.status == 405);
    BOOST_TEST(body_of(wrong).at("code").as_string() == "METHOD_NOT_ALLOWED");
}

BOOST_AUTO_TEST_SUITE_END()
