// Bounds on what clients can make the engine keep or compute: conversations,
// the cost of a turn, rate windows, refusals on the head, fault sizes.
#include "engine_helpers.hpp"

#include "../../../src/emulator/rate_limit.hpp"

#include <chatwire/emulator/reply.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <stdexcept>

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// This thread's CPU time (not the wall clock): what a computation costs.
std::chrono::nanoseconds thread_cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

const std::string pb_chat = "/api/v1/chatbots/b/chat";

std::string pb_new(emu::engine& e) {
    auto p = e.handle(make_request("POST", pb_chat, bearer, R"({"message":"hi"})"));
    return std::string(body_of(p).at("data").as_object().at("conversationId").as_string());
}

int pb_continue(emu::engine& e, const std::string& id) {
    return e.handle(make_request("POST", pb_chat, bearer, R"({"message":"again","conversationId":")" + id + "\"}"))
        .status;
}

} // namespace

BOOST_AUTO_TEST_SUITE(emulator_limits)

BOOST_AUTO_TEST_CASE(running_reply_context_equals_the_whole_history) {
    std::vector<emu::turn> history;
    emu::reply_context ctx(9, "bot_1");
    for (int i = 0; i < 20; ++i) {
        const auto msg = "message " + std::to_string(i) + " ünïcode";
        BOOST_TEST(ctx.reply(msg) == emu::make_reply(9, "bot_1", history, msg));
        auto reply = ctx.reply(msg);
        ctx.add("user", msg);
        ctx.add("bot", reply);
        history.push_back({"user", msg});
        history.push_back({"bot", reply});
    }
    // A long chatbot name is quoted as before (its first 32 bytes).
    const std::string long_bot(100, 'b');
    BOOST_TEST(emu::reply_context(1, long_bot).reply("x") == emu::make_reply(1, long_bot, {}, "x"));
}

// Quadratic re-hashing would hash ~40 GB here: the last turns would each cost
// about thirty times the first ones. Compared on this thread's CPU time, which
// neither a busy machine nor a sanitizer's uniform slowdown changes the ratio of.
BOOST_AUTO_TEST_CASE(a_turn_costs_the_same_however_long_the_conversation, *boost::unit_test::timeout(600)) {
    emu::engine e(emu::options{});
    const std::string big(32 * 1024, 'q');
    auto id = pb_new(e);
    std::string body = R"({"message":")" + big + R"(","conversationId":")" + id + "\"}";
    std::string last;
    constexpr int turns = 1500, window = 100;
    std::chrono::nanoseconds first{}, final{};
    for (int i = 0; i < turns; ++i) {
        const auto before = thread_cpu_now();
        auto p = e.handle(make_request("POST", pb_chat, bearer, body));
        const auto cost = thread_cpu_now() - before;
        if (i < window) first += cost;
        if (i >= turns - window) final += cost;
        BOOST_REQUIRE(p.status == 200);
        if (i == turns - 1) last = std::string(body_of(p).at("data").as_object().at("response").as_string());
    }
    BOOST_TEST_MESSAGE("CPU of the first " << window << " turns: " << first.count() / 1000 << " us, of the last: "
                                           << final.count() / 1000 << " us");
    BOOST_TEST(final.count() < 4 * first.count());
    BOOST_TEST(last.find("Turn 1501") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_oldest_conversation_goes_when_full) {
    emu::options o;
    o.max_conversations = 3;
    emu::engine e(o);
    // PollyBot
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(pb_new(e));
    BOOST_TEST(pb_continue(e, ids[0]) == 404);
    for (int i = 1; i < 4; ++i) BOOST_TEST(pb_continue(e, ids[i]) == 200);

    // VectorShift
    const emu::header_list vs_key{{"api-key", "k"}};
    std::vector<std::string> vs;
    for (int i = 0; i < 4; ++i)
        vs.push_back(std::string(body_of(e.handle(make_request("POST", "/api/chatbots/run", vs_key,
                                                               R"({"input":"q","chatbot_id":"c"})")))
                                     .at("conversation_id")
                                     .as_string()));
    auto vs_turn = [&](const std::string& id, std::string_view bot) {
        return e.handle(make_request("POST", "/api/chatbots/run", vs_key,
                                     R"({"input":"q","chatbot_id":")" + std::string(bot) + R"(","conversation_id":")" +
                                         id + "\"}"))
            .status;
    };
    BOOST_TEST(vs_turn(vs[0], "c") == 404);
    BOOST_TEST(vs_turn(vs[3], "c") == 200);
    BOOST_TEST(vs_turn(vs[3], "other") == 404);  // a conversation belongs to its chatbot

    // ChatBotKit: list shows the newest three; a gone conversation's id still works as a cursor.
    std::vector<std::string> cbk;
    for (int i = 0; i < 4; ++i)
        cbk.push_back(std::string(
            body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer, R"({"messages":[{"type":"user","text":"m"}]})")))
                .at("id")
                .as_string()));
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/" + cbk[0] + "/fetch", bearer)).status == 404);
    BOOST_TEST(e.handle(make_request("GET", "/v1/conversation/" + cbk[3] + "/fetch", bearer)).status == 200);
    auto list = body_of(e.handle(make_request("GET", "/v1/conversation/list", bearer)));
    BOOST_TEST(list.at("items").as_array().size() == 3u);
    auto after_gone = e.handle(make_request("GET", "/v1/conversation/list?order=asc&cursor=" + cbk[0], bearer));
    BOOST_TEST(after_gone.status == 200);
    BOOST_TEST(body_of(after_gone).at("items").as_array().size() == 3u);

    // Chatbots made on first use, and bots, are capped the same way.
    const emu::header_list vs_bearer{{"authorization", "Bearer k"}};
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(e.handle(make_request("GET", "/v1/chatbot?id=bot" + std::to_string(i), vs_bearer)).status == 200);
    auto listed = body_of(e.handle(make_request("GET", "/v1/chatbots", vs_bearer))).at("object_ids").as_array();
    BOOST_TEST(listed.size() == 3u);
    BOOST_TEST(listed.back().as_string() == "bot4");
    for (int i = 0; i < 5; ++i) e.handle(make_request("POST", "/v1/bot/create", bearer, R"({"name":"n"})"));
    BOOST_TEST(body_of(e.handle(make_request("GET", "/v1/bot/list", bearer))).at("items").as_array().size() == 3u);
}

BOOST_AUTO_TEST_CASE(chatbotkit_usage_and_replies_survive_running_state) {
    emu::engine e(emu::options{});
    auto id = std::string(body_of(e.handle(make_request("POST", "/v1/conversation/create", bearer,
                                                        R"({"botId":"b1","messages":[{"type":"user","text":"one two"}]})")))
                              .at("id")
                              .as_string());
    auto complete = [&](std::string_view text) {
        return body_of(e.handle(make_request("POST", "/v1/conversation/" + id + "/complete", bearer,
                                             R"({"text":")" + std::string(text) + "\"}")));
    };
    auto first = complete("three");
    std::vector<emu::turn> history{{"user", "one two"}};
    BOOST_TEST(first.at("text").as_string() == emu::make_reply(0, "b1", history, "three"));
    history.push_back({"user", "three"});
    history.push_back({"bot", std::string(first.at("text").as_string())});
    // Changing the bot refolds the history for the new one.
    e.handle(make_request("POST", "/v1/conversation/" + id + "/update", bearer, R"({"botId":"b2"})"));
    auto second = complete("four");
    BOOST_TEST(second.at("text").as_string() == emu::make_reply(0, "b2", history, "four"));
    std::size_t tokens = emu::tokenize("four").size() + emu::tokenize(second.at("text").as_string()).size();
    for (const auto& t : history) tokens += emu::tokenize(t.text).size();
    BOOST_TEST(second.at("usage").as_object().at("token").as_int64() == static_cast<std::int64_t>(tokens));
}

BOOST_AUTO_TEST_CASE(refused_requests_do_not_count_against_a_window) {
    emu::options o;
    o.api_key = "right";
    o.rate_limit = 2;
    emu::engine e(o);
    for (int i = 0; i < 3; ++i) {
        auto p = e.handle(make_request("POST", pb_chat, {{"authorization", "Bearer wrong"}}, R"({"message":"x"})"));
        BOOST_TEST(p.status == 401);
        BOOST_TEST(header_of(p, "X-RateLimit-Used") == "0");
        BOOST_TEST(header_of(p, "X-RateLimit-Remaining") == "2");
    }
    auto ok = e.handle(make_request("POST", pb_chat, {{"authorization", "Bearer right"}}, R"({"message":"x"})"));
    BOOST_TEST(ok.status == 200);
    BOOST_TEST(header_of(ok, "X-RateLimit-Used") == "1");
}

BOOST_AUTO_TEST_CASE(rate_windows_hold_digests_and_are_swept) {
    namespace d = chatwire::emulator::detail;
    d::sliding_window w;
    const auto t0 = std::chrono::system_clock::time_point(std::chrono::hours(500000));
    const std::string big_key(60'000, 'k');
    for (int i = 0; i < 5000; ++i) w.hit(big_key + std::to_string(i), t0, 1000, 60s, false);
    BOOST_TEST(w.keys() == 5000u);
    // Still inside the window: each key's count is its own.
    auto v = w.hit(big_key + "7", t0 + 1s, 1000, 60s, true);
    BOOST_TEST(v.used == 2u);
    // Once the window has passed, the next growth sweeps the empty ones out.
    for (int i = 0; i < 20; ++i) w.hit("late" + std::to_string(i), t0 + 61s, 1000, 60s, false);
    BOOST_TEST(w.keys() < 100u);
    BOOST_TEST(w.peek(big_key + "7", t0 + 61s, 1000, 60s).used == 0u);
    // The table never grows past its cap, even with every key live.
    d::sliding_window full;
    for (std::size_t i = 0; i < d::sliding_window::max_keys + 10; ++i) full.hit(std::to_string(i), t0, 1000, 60s, false);
    BOOST_TEST(full.keys() <= d::sliding_window::max_keys);
}

BOOST_AUTO_TEST_CASE(screen_refuses_on_the_head) {
    emu::options o;
    o.api_key = "right";
    emu::engine e(o);
    auto wrong = e.screen(make_request("POST", pb_chat, {{"authorization", "Bearer wrong"}}));
    BOOST_REQUIRE(wrong.has_value());
    BOOST_TEST(wrong->status == 401);
    BOOST_TEST(wrong->close);
    BOOST_TEST(body_of(*wrong).at("code").as_string() == "INVALID_API_KEY");
    auto missing = e.screen(make_request("POST", "/v1/chatbot/x/run", {}));
    BOOST_REQUIRE(missing.has_value());
    BOOST_TEST(body_of(*missing).at("error").as_string() == "Missing authorization header");
    BOOST_TEST(!e.screen(make_request("POST", pb_chat, {{"authorization", "Bearer right"}})).has_value());
    BOOST_TEST(!e.screen(admin_request(e, "POST", "/_emulator/faults", "[]")).has_value());
    BOOST_TEST(!e.screen(make_request("GET", "/nowhere", {})).has_value());
    auto stats = json::parse(e.stats_json()).as_object();
    BOOST_TEST(stats.at("requests").as_int64() == 2);  // the two refusals, counted once each
}

BOOST_AUTO_TEST_CASE(fault_event_sizes_are_bounded) {
    const auto at_bound = std::to_string(emu::max_fault_event_bytes);
    const auto over = std::to_string(emu::max_fault_event_bytes + 1);
    BOOST_TEST(emu::parse_fault_rules(R"([{"kind":"oversized_event","oversized_event":)" + at_bound + "}]")[0].bytes ==
               emu::max_fault_event_bytes);
    try {
        emu::parse_fault_rules(R"([{"kind":"oversized_event","bytes":)" + over + "}]");
        BOOST_FAIL("accepted an oversized_event over the bound");
    } catch (const std::invalid_argument& ex) {
        BOOST_TEST(std::string(ex.what()).find("at most") != std::string::npos);
    }
    BOOST_CHECK_THROW(emu::parse_fault_rules(R"([{"kind":"oversized_event","bytes":1e30}])"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
