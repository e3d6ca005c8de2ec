#include "engine_helpers.hpp"

#include <boost/test/unit_test.hpp>

namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(emulator_admin)

BOOST_AUTO_TEST_CASE(stats_count_route_templates) {
    emu::engine e(emu::options{});
    e.handle(make_request("POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x"})"));
    e.handle(make_request("POST", "/api/v1/chatbots/b/chat", bearer, R"({"message":"x"})"));
    e.handle(make_request("GET", "/v1/bot/list", bearer));
    e.connection_opened();
    auto stats = json::parse(e.handle(make_request("GET", "/_emulator/stats")).body).as_object();
    BOOST_TEST(stats.at("requests").as_int64() == 3);
    BOOST_TEST(stats.at("routes").as_object().at("POST /api/v1/chatbots/{id}/chat").as_int64() == 2);
    BOOST_TEST(stats.at("routes").as_object().at("GET /v1/bot/list").as_int64() == 1);
    BOOST_TEST(stats.at("open_connections").as_int64() == 1);
    BOOST_TEST(stats.at("statuses").as_object().at("200").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(an_unenforced_window_never_says_it_is_used_up) {
    emu::options o;  // no rate_limit: the headers say 1000 an hour, nothing is refused
    o.rate_window = std::chrono::seconds(3600);
    emu::engine e(o);
    emu::response_plan last;
    for (int i = 0; i < 1001; ++i) last = e.handle(make_request("POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"x"})"));
    BOOST_TEST(last.status == 200);
    BOOST_TEST(header_of(last, "X-RateLimit-Remaining") == "1");
}

BOOST_AUTO_TEST_CASE(faults_replace_clear_and_reset) {
    emu::engine e(emu::options{});
    auto set = e.handle(make_request("POST", "/_emulator/faults", {}, R"([{"api":"chatbotkit","kind":"status","status":500,"times":1}])"));
    BOOST_TEST(set.status == 200);
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 500);
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 200);  // spent after one

    auto listed = json::parse(e.handle(make_request("GET", "/_emulator/faults")).body).as_array();
    BOOST_TEST(listed[0].as_object().at("hits").as_int64() == 1);

    BOOST_TEST(e.handle(make_request("POST", "/_emulator/faults", {}, "[{\"kind\":\"nope\"}]")).status == 400);
    e.handle(make_request("POST", "/_emulator/faults", {}, R"([{"kind":"status","status":503}])"));
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 503);
    e.handle(make_request("DELETE", "/_emulator/faults"));
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 200);

    auto id = body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer, "{}"))).at("id").as_string();
    e.handle(make_request("POST", "/_emulator/faults", {}, R"([{"kind":"status","status":503}])"));
    BOOST_TEST(e.handle(make_request("POST", "/_emulator/reset")).status == 200);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/" + std::string(id) + "/fetch", bearer)).status == 404);
    auto stats = json::parse(e.stats_json()).as_object();
    BOOST_TEST(stats.at("requests").as_int64() == 1);  // only the fetch after the reset
    // After a reset the same requests give the same ids again.
    auto again = body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer, "{}"))).at("id").as_string();
    BOOST_TEST(again == id);
}

BOOST_AUTO_TEST_SUITE_END()
