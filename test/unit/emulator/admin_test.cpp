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
    auto stats = json::parse(e.handle(admin_request(e, "GET", "/_emulator/stats")).body).as_object();
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
    auto set = e.handle(admin_request(e, "POST", "/_emulator/faults", R"([{"api":"chatbotkit","kind":"status","status":500,"times":1}])"));
    BOOST_TEST(set.status == 200);
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 500);
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 200);  // spent after one

    auto listed = json::parse(e.handle(admin_request(e, "GET", "/_emulator/faults")).body).as_array();
    BOOST_TEST(listed[0].as_object().at("hits").as_int64() == 1);

    BOOST_TEST(e.handle(admin_request(e, "POST", "/_emulator/faults", "[{\"kind\":\"nope\"}]")).status == 400);
    e.handle(admin_request(e, "POST", "/_emulator/faults", R"([{"kind":"status","status":503}])"));
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 503);
    e.handle(admin_request(e, "DELETE", "/_emulator/faults"));
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 200);

    auto id = body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer, "{}"))).at("id").as_string();
    e.handle(admin_request(e, "POST", "/_emulator/faults", R"([{"kind":"status","status":503}])"));
    BOOST_TEST(e.handle(admin_request(e, "POST", "/_emulator/reset")).status == 200);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/" + std::string(id) + "/fetch", bearer)).status == 404);
    auto stats = json::parse(e.stats_json()).as_object();
    BOOST_TEST(stats.at("requests").as_int64() == 1);  // only the fetch after the reset
    // After a reset the same requests give the same ids again.
    auto again = body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer, "{}"))).at("id").as_string();
    BOOST_TEST(again == id);
}

namespace {

emu::request with_headers(emu::request r, emu::header_list replace) {
    for (auto& [name, value] : replace) {
        std::erase_if(r.headers, [&](const auto& h) { return h.first == name; });
        if (!value.empty()) r.headers.emplace_back(name, value);
    }
    return r;
}

std::string error_of(const emu::response_plan& p) { return std::string(body_of(p).at("error").as_string()); }

} // namespace

BOOST_AUTO_TEST_CASE(the_token_is_chosen_given_or_generated) {
    emu::options given;
    given.admin_token = "admin-secret";
    given.api_key = "key";
    BOOST_TEST(emu::engine(given).admin_token() == "admin-secret");
    emu::options key_only;
    key_only.api_key = "key";
    BOOST_TEST(emu::engine(key_only).admin_token() == "key");
    // Neither: 128 random bits in hex, a new one for every engine.
    emu::engine a(emu::options{}), b(emu::options{});
    BOOST_TEST(a.admin_token().size() == 32u);
    BOOST_TEST(a.admin_token().find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(a.admin_token() != b.admin_token());
    emu::options empty_key;  // an empty key is no key: the token is still a secret
    empty_key.api_key = "";
    BOOST_TEST(emu::engine(empty_key).admin_token().size() == 32u);
}

BOOST_AUTO_TEST_CASE(no_token_wrong_token_right_token) {
    emu::engine e(emu::options{});
    const auto right = admin_request(e, "GET", "/_emulator/stats");
    auto none = e.handle(with_headers(right, {{"x-emulator-admin-token", ""}}));
    BOOST_TEST(none.status == 401);
    BOOST_TEST(none.content_type == "application/json");
    BOOST_TEST(error_of(none).find("X-Emulator-Admin-Token") != std::string::npos);
    auto wrong = e.handle(with_headers(right, {{"x-emulator-admin-token", e.admin_token() + "x"}}));
    BOOST_TEST(wrong.status == 401);
    BOOST_TEST(error_of(wrong) == "wrong admin token");
    BOOST_TEST(error_of(wrong).find(e.admin_token()) == std::string::npos);
    BOOST_TEST(e.handle(with_headers(right, {{"x-emulator-admin-token", e.admin_token().substr(1)}})).status == 401);
    // The API key is not the admin token when another one is given.
    emu::options o;
    o.api_key = "key";
    o.admin_token = "admin";
    emu::engine keyed(o);
    auto by_key = with_headers(admin_request(keyed, "GET", "/_emulator/stats"), {{"x-emulator-admin-token", "key"}});
    BOOST_TEST(keyed.handle(by_key).status == 401);
    BOOST_TEST(keyed.handle(admin_request(keyed, "GET", "/_emulator/stats")).status == 200);
    BOOST_TEST(e.handle(right).status == 200);
    // Every admin route asks, including the ones that do not exist.
    for (auto [method, target] : {std::pair{"POST", "/_emulator/reset"}, std::pair{"DELETE", "/_emulator/faults"},
                                  std::pair{"GET", "/_emulator/faults"}, std::pair{"OPTIONS", "/_emulator/faults"},
                                  std::pair{"GET", "/_emulator/nothing"}})
        BOOST_TEST(e.handle(make_request(method, target, {{"host", "127.0.0.1"}})).status == 401, method << " " << target);
}

BOOST_AUTO_TEST_CASE(cross_site_content_types_are_refused) {
    emu::engine e(emu::options{});
    e.handle(admin_request(e, "POST", "/_emulator/faults", R"([{"kind":"status","status":503}])"));
    const auto rules = R"([])";
    for (std::string type : {"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                             "multipart/form-data; boundary=x", "application/jsonp", ""}) {
        auto r = with_headers(admin_request(e, "POST", "/_emulator/faults", rules), {{"content-type", type}});
        auto refused = e.handle(r);
        BOOST_TEST(refused.status == 415, type);
        BOOST_TEST(error_of(refused) == "the admin API accepts only application/json");
    }
    // Nothing was replaced by the refused requests: the fault still applies.
    BOOST_TEST(e.handle(make_request("GET", "/v1/bot/list", bearer)).status == 503);
    // A declared type must be JSON even without a body.
    auto plain_reset = with_headers(admin_request(e, "POST", "/_emulator/reset"), {{"content-type", "text/plain"}});
    BOOST_TEST(e.handle(plain_reset).status == 415);
    auto with_charset = with_headers(admin_request(e, "POST", "/_emulator/faults", rules),
                                     {{"content-type", "Application/JSON; charset=utf-8"}});
    BOOST_TEST(e.handle(with_charset).status == 200);
    // GET stats has no body and needs no type, only the token.
    BOOST_TEST(e.handle(admin_request(e, "GET", "/_emulator/stats")).status == 200);
    BOOST_TEST(e.handle(admin_request(e, "POST", "/_emulator/reset")).status == 200);  // no body, no type
}

BOOST_AUTO_TEST_CASE(a_foreign_host_is_refused_even_with_the_token) {
    emu::options o;
    o.port = 8123;
    emu::engine e(o);
    const auto right = admin_request(e, "GET", "/_emulator/stats");
    for (std::string host : {"evil.example", "evil.example:8123", "127.0.0.1.evil.example", "localhost.evil.example",
                             "127.0.0.1:9999", "localhost:80", "[::1]:1", "127.0.0.1:", "127.0.0.1:8123x", "[::1",
                             "0.0.0.0:8123", ""}) {
        auto refused = e.handle(with_headers(right, {{"host", host}}));
        BOOST_TEST(refused.status == 421, host);
        BOOST_TEST(body_of(refused).contains("error"));
    }
    for (std::string host : {"127.0.0.1", "127.0.0.1:8123", "localhost", "LocalHost:8123", "[::1]", "[::1]:8123"})
        BOOST_TEST(e.handle(with_headers(right, {{"host", host}})).status == 200, host);
    // The address a connection was accepted on is the emulator's too (a wildcard listen).
    auto via_lan = with_headers(right, {{"host", "192.0.2.7:8123"}});
    BOOST_TEST(e.handle(via_lan).status == 421);
    via_lan.local_address = "192.0.2.7";
    via_lan.local_port = 8123;
    BOOST_TEST(e.handle(via_lan).status == 200);
    via_lan.local_address = "2001:db8::7";
    BOOST_TEST(e.handle(with_headers(via_lan, {{"host", "[2001:db8::7]:8123"}})).status == 200);
    BOOST_TEST(e.handle(with_headers(via_lan, {{"host", "2001:db8::7"}})).status == 421);
}

// The request an outside review sent: the API key set, no admin token, a
// foreign Host and text/plain, as a page on any site could.
BOOST_AUTO_TEST_CASE(the_cross_site_simple_request_changes_nothing) {
    emu::options o;
    o.api_key = "key";
    emu::engine e(o);
    const emu::header_list keyed{{"authorization", "Bearer key"}};
    auto id = body_of(e.handle(make_request("POST", "/v1/conversation/create", keyed, "{}"))).at("id").as_string();
    const emu::header_list simple{{"host", "evil.example"}, {"content-type", "text/plain"}};
    BOOST_TEST(e.handle(make_request("GET", "/_emulator/stats", simple)).status == 421);
    BOOST_TEST(e.handle(make_request("POST", "/_emulator/faults", simple, R"([{"kind":"status","status":503}])")).status == 421);
    BOOST_TEST(e.handle(make_request("POST", "/_emulator/reset", simple, "{}")).status == 421);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/" + std::string(id) + "/fetch", keyed)).status == 200);
    BOOST_TEST(json::parse(e.stats_json()).as_object().at("requests").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(screen_refuses_admin_requests_on_the_head) {
    emu::engine e(emu::options{});
    auto no_token = e.screen(make_request("POST", "/_emulator/faults", {{"host", "127.0.0.1"}}));
    BOOST_REQUIRE(no_token.has_value());
    BOOST_TEST(no_token->status == 401);
    BOOST_TEST(no_token->close);
    auto form = with_headers(admin_request(e, "POST", "/_emulator/reset"),
                             {{"content-type", "application/x-www-form-urlencoded"}, {"content-length", "3"}});
    auto refused = e.screen(form);
    BOOST_REQUIRE(refused.has_value());
    BOOST_TEST(refused->status == 415);
    BOOST_TEST(!e.screen(admin_request(e, "GET", "/_emulator/stats")).has_value());
}

BOOST_AUTO_TEST_CASE(the_key_is_checked_before_any_fault) {
    emu::options o;
    o.api_key = "key";
    emu::engine e(o);
    e.set_faults(R"([{"kind":"status","status":503,"times":3},{"kind":"reset_before_response"}])");
    struct probe {
        const char* method;
        const char* target;
        const char* body;
        const char* code_field;
        const char* code;
    };
    for (const auto& p : {probe{"POST", "/api/v1/chatbots/a/chat", R"({"message":"x"})", "code", "MISSING_AUTH_HEADER"},
                          probe{"GET", "/v1/bot/list", "", "code", "NOT_AUTHENTICATED"},
                          probe{"POST", "/v1/chatbot/a/run", R"({"text":"x"})", "error", "Missing authorization header"}}) {
        auto plan = e.handle(make_request(p.method, p.target, {}, p.body));
        BOOST_TEST(plan.status == 401, p.target);
        BOOST_TEST(!plan.reset_before_response, p.target);
        BOOST_TEST(body_of(plan).at(p.code_field).as_string() == p.code, p.target);
        // And through the head, as the server asks first.
        auto screened = e.screen(make_request(p.method, p.target, {{"authorization", "Bearer wrong"}}));
        BOOST_REQUIRE(screened.has_value());
        BOOST_TEST(screened->status == 401, p.target);
        BOOST_TEST(!screened->reset_before_response, p.target);
    }
    // The refused calls spent none of the fault's three times.
    auto listed = json::parse(e.handle(admin_request(e, "GET", "/_emulator/faults")).body).as_array();
    BOOST_TEST(listed[0].as_object().at("hits").as_int64() == 0);
    auto authorized = e.handle(make_request("GET", "/v1/bot/list", {{"authorization", "Bearer key"}}));
    BOOST_TEST(authorized.status == 503);
    BOOST_TEST(authorized.reset_before_response);
}

BOOST_AUTO_TEST_SUITE_END()
