// Retries end to end: each client (through chat_client), whole and streamed,
// against emulator faults with the retry policy on. Waits are checked in the
// call's diagnostics, never against the wall clock; the text must equal the
// fault-free reply, so no token is shown twice or lost.
#define BOOST_TEST_MODULE integration_retry
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "emulator_stats.hpp"
#include "run_coro.hpp"
#include "support.hpp"
#include "test_server.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/chatbotkit.hpp>
#include <chatwire/pollybot.hpp>
#include <chatwire/vectorshift.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <map>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using chatwire::api_kind;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view prompt = "Where is my order?";

/// The route of each API's chat turn (ChatBotKit's turn also creates its
/// conversation first: the faults aim at the completion).
std::string route(api_kind a) {
    switch (a) {
    case api_kind::vectorshift: return "POST /api/chatbots/run";
    case api_kind::chatbotkit: return "POST /api/v1/conversation/{id}/complete";
    case api_kind::pollybot: return "POST /api/v1/chatbots/{id}/chat";
    }
    return {};
}

struct emulated : chatwire::testing::emulated {
    using chatwire::testing::emulated::emulated;

    chatwire::chat_options options_for(api_kind a) const {
        auto o = chat_options_for(a);
        o.http.timeouts.first_byte = 500ms;
        o.retry.base_delay = 10ms;  // backoffs short; the servers' hints are honoured in full
        o.retry.max_delay = 40ms;
        return o;
    }
};

struct turn_result {
    error_code send_ec;  ///< the send's own outcome
    error_code end;      ///< streamed: how the stream ended; whole: the send's outcome
    std::string text;
    std::vector<std::string> tokens;
    chatwire::diagnostics diag;  ///< the send's: attempts, failed attempts, waits
};

asio::awaitable<void> one_turn(chatwire::chat_client& c, bool streamed, turn_result& out) {
    if (!streamed) {
        auto [ec, reply] = co_await c.async_send_whole(std::string(prompt), "", out.diag, tuple_awaitable);
        out.send_ec = out.end = ec;
        out.text = reply.text;
        co_return;
    }
    auto [ec, s] = co_await c.async_send(std::string(prompt), "", out.diag, tuple_awaitable);
    out.send_ec = out.end = ec;
    if (ec) co_return;
    for (;;) {
        auto [nec, ev] = co_await s.next();
        if (nec) {
            out.end = nec;
            break;
        }
        if (ev.kind == chatwire::event_kind::token) out.tokens.emplace_back(ev.text);
    }
    out.text = std::string(s.text_so_far());
}

turn_result run_turn(api_kind a, bool streamed, std::string faults, std::optional<chatwire::retry_policy> per_call = {},
                     chatwire::emulator::options o = {}) {
    o.faults_json = std::move(faults);
    emulated emu(o);
    chatwire::chat_client c(emu.io.get_executor(), emu.options_for(a));
    turn_result r;
    if (per_call) {
        auto once = c.with_retry(*per_call);
        run_coro(emu.io, one_turn(once, streamed, r));
    } else {
        run_coro(emu.io, one_turn(c, streamed, r));
    }
    return r;
}

/// The fault-free reply of each API, whole and as tokens.
const turn_result& reference(api_kind a) {
    static std::map<api_kind, turn_result> cache;
    auto it = cache.find(a);
    if (it == cache.end()) {
        auto r = run_turn(a, true, "");
        BOOST_TEST_REQUIRE((r.end == errc::end_of_stream), r.end.message());
        BOOST_TEST_REQUIRE(r.tokens.size() > 3u);
        it = cache.emplace(a, std::move(r)).first;
    }
    return it->second;
}

std::string rule(api_kind a, std::string body) { return "[{\"route\":\"" + route(a) + "\"," + body + "}]"; }

/// Requests a turn sends before its own: ChatBotKit's creates the conversation.
int before_turn(api_kind a) { return a == api_kind::chatbotkit ? 1 : 0; }

/// The turn's request succeeded after exactly `attempts`, with the fault-free text.
void check_recovered(api_kind a, bool streamed, const turn_result& r, int attempts) {
    const auto& ref = reference(a);
    BOOST_TEST(!r.send_ec, r.send_ec.message() << " " << r.diag.to_string());
    if (streamed) {
        BOOST_TEST((r.end == errc::end_of_stream), r.end.message());
        auto check = chatwire::faults_test::compare_tokens(r.tokens, ref.tokens);
        BOOST_TEST(check.duplicated == 0u);
        BOOST_TEST(check.lost == 0u);
        BOOST_TEST(check.matched == ref.tokens.size());
    }
    BOOST_TEST(r.text == ref.text);
    BOOST_TEST(r.diag.attempts == before_turn(a) + attempts, r.diag.to_string());
    BOOST_TEST(r.diag.failed_attempts.size() == static_cast<std::size_t>(attempts - 1));
}

/// The first attempt failed with `status` and the call waited at least `wait` before the next.
void check_waited(const turn_result& r, int status, std::string_view reason, std::chrono::milliseconds wait,
                  api_kind a) {
    BOOST_TEST_REQUIRE(!r.diag.failed_attempts.empty());
    const auto& f = r.diag.failed_attempts.front();
    BOOST_TEST(f.http_status == status);
    BOOST_TEST(f.reason == reason);
    BOOST_TEST(f.delay.count() >= wait.count(), f.delay.count() << " ms");
    BOOST_TEST(f.delay.count() < wait.count() + 1000, f.delay.count() << " ms");  // the hint, not the cap
    BOOST_TEST(f.method == "POST");
    BOOST_TEST(f.url.find("://127.0.0.1:") != std::string::npos, f.url);
    BOOST_TEST(f.url.find("test-key") == std::string::npos);  // never the key
    if (a == api_kind::pollybot) BOOST_TEST(f.url.find("/api/v1/chatbots/support-bot/chat") != std::string::npos);
}

constexpr api_kind all_apis[] = {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot};

} // namespace

BOOST_AUTO_TEST_CASE(a_429_with_retry_after_is_waited_for_then_retried) {
    for (auto a : all_apis)
        for (bool streamed : {false, true}) {
            BOOST_TEST_CONTEXT(chatwire::to_string(a) << (streamed ? " streamed" : " whole")) {
                auto r = run_turn(a, streamed,
                                  rule(a, R"("times":1,"kind":"status","status":429,"retry_after":1,"hint_in":"header")"));
                check_recovered(a, streamed, r, 2);
                check_waited(r, 429, "rate_limited", 1000ms, a);
            }
        }
}

BOOST_AUTO_TEST_CASE(a_pollybot_429_with_only_its_json_retry_after_is_waited_for) {
    for (bool streamed : {false, true}) {
        BOOST_TEST_CONTEXT((streamed ? "streamed" : "whole")) {
            const auto only_json = R"("times":1,"kind":"status","status":429,"retry_after":1,"hint_in":"body")";
            auto r = run_turn(api_kind::pollybot, streamed, rule(api_kind::pollybot, only_json));
            check_recovered(api_kind::pollybot, streamed, r, 2);
            check_waited(r, 429, "rate_limited", 1000ms, api_kind::pollybot);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_429_with_only_x_ratelimit_reset_is_waited_for) {
    for (auto a : all_apis)
        for (bool streamed : {false, true}) {
            BOOST_TEST_CONTEXT(chatwire::to_string(a) << (streamed ? " streamed" : " whole")) {
                const auto only_reset = R"("times":1,"kind":"status","status":429,"ratelimit_reset":1,"hint_in":"none")";
                auto r = run_turn(a, streamed, rule(a, only_reset));
                check_recovered(a, streamed, r, 2);
                check_waited(r, 429, "rate_limited", 1000ms, a);
            }
        }
}

BOOST_AUTO_TEST_CASE(a_503_is_retried_after_a_backoff) {
    for (auto a : all_apis)
        for (bool streamed : {false, true}) {
            BOOST_TEST_CONTEXT(chatwire::to_string(a) << (streamed ? " streamed" : " whole")) {
                auto r = run_turn(a, streamed, rule(a, R"("times":2,"kind":"status","status":503)"));
                check_recovered(a, streamed, r, 3);
                BOOST_TEST_REQUIRE(r.diag.failed_attempts.size() == 2u);
                for (const auto& f : r.diag.failed_attempts) {
                    BOOST_TEST(f.http_status == 503);
                    BOOST_TEST(f.reason == "unavailable");
                    BOOST_TEST(f.delay.count() <= 40);  // within the policy's jittered backoff
                }
            }
        }
}

namespace {

/// The server read the request, then failed without an answer: it may have
/// acted, so a chat turn is not resent by default (a typed transport error
/// after one attempt), and is when the call opts in.
void check_ambiguous_fault(const std::string& body, std::optional<errc> code) {
    auto ambiguous = chatwire::retry_policy{};
    ambiguous.base_delay = 10ms;
    ambiguous.max_delay = 40ms;
    ambiguous.retry_ambiguous = true;
    for (auto a : all_apis)
        for (bool streamed : {false, true}) {
            BOOST_TEST_CONTEXT(chatwire::to_string(a) << (streamed ? " streamed" : " whole")) {
                auto refused = run_turn(a, streamed, rule(a, body));
                BOOST_TEST(refused.send_ec);
                if (code) BOOST_TEST((refused.send_ec == *code), refused.send_ec.message());
                else BOOST_TEST((refused.send_ec == chatwire::condition::transport), refused.send_ec.message());
                BOOST_TEST(refused.diag.attempts == before_turn(a) + 1, refused.diag.to_string());
                BOOST_TEST_REQUIRE(!refused.diag.failed_attempts.empty());
                BOOST_TEST(refused.diag.failed_attempts.back().reason == "ambiguous");

                auto allowed = run_turn(a, streamed, rule(a, body), ambiguous);  // the per-call override
                BOOST_TEST_REQUIRE(!allowed.diag.failed_attempts.empty());
                BOOST_TEST(allowed.diag.failed_attempts.back().reason == "ambiguous_allowed");
                if (a != api_kind::chatbotkit) {
                    check_recovered(a, streamed, allowed, 2);  // each attempt starts a new conversation
                } else {
                    // The server did act: the conversation already holds the first
                    // try's turn, and the resend is answered as a second turn. The
                    // reason a chat turn is not resent unless the caller says so.
                    BOOST_TEST(!allowed.send_ec, allowed.send_ec.message());
                    BOOST_TEST(allowed.diag.attempts == before_turn(a) + 2, allowed.diag.to_string());
                    BOOST_TEST(!allowed.text.empty());
                    BOOST_TEST(allowed.text != reference(a).text);
                }
            }
        }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_reset_before_the_response_is_resent_only_when_the_call_allows) {
    check_ambiguous_fault(R"("times":1,"kind":"reset_before_response")", std::nullopt);
}

BOOST_AUTO_TEST_CASE(a_stall_before_the_first_byte_is_resent_only_when_the_call_allows) {
    check_ambiguous_fault(R"("times":1,"kind":"stall","stall_ms":2000)", errc::first_byte_timeout);
}

BOOST_AUTO_TEST_CASE(a_reset_after_the_first_events_is_not_retried_and_keeps_the_text) {
    for (auto a : all_apis) {
        BOOST_TEST_CONTEXT(chatwire::to_string(a)) {
            // Three events (PollyBot's first is `start`, with no text), then a
            // pause that lets them surely arrive, then the reset.
            const auto head = "{\"route\":\"" + route(a) + "\",\"times\":1,";
            auto r = run_turn(a, true,
                              "[" + head + R"("kind":"stall","events":3,"stall_ms":300},)" + head +
                                  R"("kind":"reset_after_events","reset_after_events":3}])");
            BOOST_TEST_REQUIRE(!r.send_ec, r.send_ec.message());
            BOOST_TEST(r.end != error_code(errc::end_of_stream));
            BOOST_TEST((r.end == chatwire::condition::transport), r.end.message());
            BOOST_TEST(r.diag.attempts == before_turn(a) + 1, r.diag.to_string());
            const auto& ref = reference(a);
            BOOST_TEST(!r.text.empty());
            BOOST_TEST(r.text.size() < ref.text.size());
            BOOST_TEST(chatwire::faults_test::is_prefix(r.text, ref.text), r.text);  // kept, and nothing twice
        }
    }
}

// ---- proactive pacing ----------------------------------------------------------

namespace {

struct pacing_run {
    int ok = 0;
    int rate_limited = 0;
    std::chrono::milliseconds paced{0};
    json::value stats;
};

asio::awaitable<void> sequential_turns(emulated& emu, chatwire::chat_client& c, int n, pacing_run& out) {
    for (int i = 0; i < n; ++i) {
        chatwire::diagnostics diag;
        auto [ec, reply] = co_await c.async_send_whole(std::string(prompt), "", diag, tuple_awaitable);
        if (!ec) ++out.ok;
        else if (ec == errc::rate_limited) ++out.rate_limited;
        else BOOST_TEST(!ec, ec.message() << " " << diag.to_string());
        out.paced += diag.paced;
    }
    out.stats = co_await chatwire::testing::emulator_stats(emu.server.base_url(), emu.server.certificate_pem(), emu.server.admin_token());
}

constexpr std::size_t window = 5;  // K requests in 3 s

pacing_run k_plus_five_turns(bool pace, std::vector<std::chrono::milliseconds>* observed = nullptr) {
    chatwire::emulator::options o;
    o.rate_limit = window;
    o.rate_window = 3s;  // wide enough that K calls surely fall in one window, even on a loaded machine
    emulated emu(o);
    auto opts = emu.options_for(api_kind::pollybot);
    opts.retry = chatwire::retry_policy::none();  // a 429 would show, not be retried away
    opts.retry.pace = pace;
    if (observed)
        opts.on_attempt = [observed](const chatwire::attempt_report& r) { observed->push_back(r.paced); };
    chatwire::chat_client c(emu.io.get_executor(), opts);
    pacing_run run;
    run_coro(emu.io, sequential_turns(emu, c, static_cast<int>(window) + 5, run));
    return run;
}

} // namespace

BOOST_AUTO_TEST_CASE(pacing_keeps_a_pollybot_key_inside_its_window) {
    std::vector<std::chrono::milliseconds> observed;
    auto paced = k_plus_five_turns(true, &observed);
    BOOST_TEST(paced.ok == static_cast<int>(window) + 5);
    BOOST_TEST(chatwire::testing::stat(paced.stats, "statuses", "429") == 0u);
    BOOST_TEST(chatwire::testing::stat(paced.stats, "statuses", "200") == window + 5);
    BOOST_TEST(paced.paced.count() > 0);  // it waited, and diagnostics say so
    BOOST_TEST(std::any_of(observed.begin(), observed.end(), [](auto d) { return d.count() > 0; }));

    // The same calls without pacing earn the 429s pacing avoided.
    auto unpaced = k_plus_five_turns(false);
    BOOST_TEST(unpaced.rate_limited > 0);
    BOOST_TEST(chatwire::testing::stat(unpaced.stats, "statuses", "429") > 0u);
    BOOST_TEST(unpaced.paced.count() == 0);
}

namespace {

asio::awaitable<void> third_turn_refused(emulated& emu, chatwire::chat_client& c) {
    for (int i = 0; i < 2; ++i) {
        chatwire::diagnostics diag;
        auto [ec, reply] = co_await c.async_send_whole(std::string(prompt), "", diag, tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message());
    }
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole(std::string(prompt), "", diag, tuple_awaitable);
    BOOST_TEST((ec == errc::rate_limited), ec.message());
    BOOST_TEST(diag.attempts == 0);  // nothing sent
    BOOST_TEST_REQUIRE(diag.retry_after.has_value());
    BOOST_TEST((*diag.retry_after > 10s));  // the reset it would have waited for, kept for the caller
    auto stats = co_await chatwire::testing::emulator_stats(emu.server.base_url(), emu.server.certificate_pem(), emu.server.admin_token());
    BOOST_TEST(chatwire::testing::stat(stats, "statuses", "200") == 2u);
    BOOST_TEST(chatwire::testing::stat(stats, "statuses", "429") == 0u);
}

asio::awaitable<void> cancelled_while_paced(emulated& emu, chatwire::chat_client& c) {
    for (int i = 0; i < 2; ++i) {
        chatwire::diagnostics diag;
        auto [ec, reply] = co_await c.async_send_whole(std::string(prompt), "", diag, tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message());
    }
    asio::cancellation_signal cancel;
    asio::steady_timer later(co_await asio::this_coro::executor, 100ms);
    later.async_wait([&cancel](error_code) { cancel.emit(asio::cancellation_type::terminal); });
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole(std::string(prompt), "", diag,
                                                   asio::bind_cancellation_slot(cancel.slot(), tuple_awaitable));
    BOOST_TEST((ec == errc::cancelled), ec.message());
    BOOST_TEST(diag.attempts == 0);
    auto stats = co_await chatwire::testing::emulator_stats(emu.server.base_url(), emu.server.certificate_pem(), emu.server.admin_token());
    BOOST_TEST(chatwire::testing::stat(stats, "routes", route(api_kind::pollybot)) == 2u);
}

} // namespace

BOOST_AUTO_TEST_CASE(pacing_fails_at_once_when_the_reset_is_beyond_max_hint) {
    chatwire::emulator::options o;
    o.rate_limit = 2;
    o.rate_window = 3600s;
    emulated emu(o);
    auto opts = emu.options_for(api_kind::pollybot);
    opts.retry.max_hint = 10s;
    chatwire::chat_client c(emu.io.get_executor(), opts);
    run_coro(emu.io, third_turn_refused(emu, c));
}

BOOST_AUTO_TEST_CASE(a_paced_wait_is_cancellable) {
    chatwire::emulator::options o;
    o.rate_limit = 2;
    o.rate_window = 5s;
    emulated emu(o);
    chatwire::chat_client c(emu.io.get_executor(), emu.options_for(api_kind::pollybot));
    run_coro(emu.io, cancelled_while_paced(emu, c));
}

// ---- a policy per call ------------------------------------------------------------

namespace {

chatwire::retry_policy quick(int attempts) {
    chatwire::retry_policy p;
    p.max_attempts = attempts;
    p.base_delay = 10ms;
    p.max_delay = 40ms;
    return p;
}

/// Two 503s for `route`: the call through with_retry(none()) meets the first
/// and stops; the same call on the client itself meets the second and retries.
std::string two_503s(std::string_view route) {
    return "[{\"route\":\"" + std::string(route) + R"(","times":2,"kind":"status","status":503}])";
}

// The same call through with_retry(none()), then on the client itself.
// (Named coroutines, not capturing lambdas: GCC 12 may free those twice.)
void check_counts(error_code once_ec, const chatwire::diagnostics& once, error_code retried_ec,
                  const chatwire::diagnostics& retried) {
    BOOST_TEST((once_ec == errc::server_error), once_ec.message());
    BOOST_TEST(once.attempts == 1, once.to_string());
    BOOST_TEST(!retried_ec, retried_ec.message() << " " << retried.to_string());
    BOOST_TEST(retried.attempts == 2, retried.to_string());
}

asio::awaitable<void> vectorshift_lists(chatwire::vectorshift::client c) {
    chatwire::diagnostics once, retried;
    auto once_only = c.with_retry(chatwire::retry_policy::none());
    auto [ec1, l1] = co_await once_only.async_list_chatbots(false, false, once, tuple_awaitable);
    auto [ec2, l2] = co_await c.async_list_chatbots(false, false, retried, tuple_awaitable);
    check_counts(ec1, once, ec2, retried);
}

asio::awaitable<void> chatbotkit_creates(chatwire::chatbotkit::client c) {
    chatwire::diagnostics once, retried;
    chatwire::chatbotkit::conversation_fields fields;
    auto once_only = c.with_retry(chatwire::retry_policy::none());
    auto [ec1, id1] = co_await once_only.async_create_conversation(fields, once, tuple_awaitable);
    auto [ec2, id2] = co_await c.async_create_conversation(fields, retried, tuple_awaitable);
    check_counts(ec1, once, ec2, retried);
}

asio::awaitable<void> pollybot_chats(chatwire::pollybot::client c) {
    chatwire::diagnostics once, retried;
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "support-bot";
    req.message = std::string(prompt);
    auto once_only = c.with_retry(chatwire::retry_policy::none());
    auto [ec1, r1] = co_await once_only.async_chat(req, once, tuple_awaitable);
    auto [ec2, r2] = co_await c.async_chat(req, retried, tuple_awaitable);
    check_counts(ec1, once, ec2, retried);
}

asio::awaitable<void> budget_shared(chatwire::chat_client c, chatwire::chat_client copy) {
    chatwire::diagnostics first, second;
    auto [ec1, r1] = co_await copy.async_send_whole("hi", "", first, tuple_awaitable);
    BOOST_TEST((ec1 == errc::server_error), ec1.message());
    BOOST_TEST(first.attempts == 2);  // the one token
    auto [ec2, r2] = co_await c.async_send_whole("hi", "", second, tuple_awaitable);
    BOOST_TEST((ec2 == errc::retry_budget_exhausted), ec2.message());
    BOOST_TEST(second.attempts == 1);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_client_takes_a_policy_per_call) {
    {
        chatwire::emulator::options o;
        o.faults_json = two_503s("GET /v1/chatbots");
        emulated emu(o);
        chatwire::vectorshift::options vo;
        vo.base_url = emu.server.base_url();
        vo.api_key = "test-key";
        vo.http.tls.extra_ca_pem = emu.server.certificate_pem();
        vo.retry = quick(3);
        run_coro(emu.io, vectorshift_lists(chatwire::vectorshift::client(emu.io.get_executor(), vo)));
    }
    {
        chatwire::emulator::options o;
        o.faults_json = two_503s("POST /api/v1/conversation/create");
        emulated emu(o);
        chatwire::chatbotkit::options co;
        co.base_url = emu.server.base_url() + "/api/v1";
        co.secret = "test-key";
        co.http.tls.extra_ca_pem = emu.server.certificate_pem();
        co.retry = quick(3);
        run_coro(emu.io, chatbotkit_creates(chatwire::chatbotkit::client(emu.io.get_executor(), co)));
    }
    {
        chatwire::emulator::options o;
        o.faults_json = two_503s(route(api_kind::pollybot));
        emulated emu(o);
        chatwire::pollybot::options po;
        po.base_url = emu.server.base_url();
        po.api_key = "test-key";
        po.http.tls.extra_ca_pem = emu.server.certificate_pem();
        po.retry = quick(3);
        chatwire::pollybot::client c(emu.io.get_executor(), po);
        run_coro(emu.io, pollybot_chats(c));
        // The copies share what the client learnt of its window.
        BOOST_TEST(c.last_rate_limit().remaining.has_value());
        BOOST_TEST((c.with_retry(quick(1)).last_rate_limit().remaining == c.last_rate_limit().remaining));
    }
}

BOOST_AUTO_TEST_CASE(a_copy_with_its_own_policy_shares_the_retry_budget) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"pollybot","kind":"status","status":503}])";  // never spent
    emulated emu(o);
    auto opts = emu.options_for(api_kind::pollybot);
    auto store = std::make_shared<chatwire::local_retry_store>(
        chatwire::retry_budget_options{.ratio = 0, .initial = 1, .max_balance = 1});  // one retry in all
    opts.retry_store = store;
    chatwire::chat_client c(emu.io.get_executor(), opts);
    run_coro(emu.io, budget_shared(c, c.with_retry(quick(2))));
    BOOST_TEST(store->budget().balance() == 0.0);
}

// ---- the transport's own resend ---------------------------------------------------

namespace {

asio::awaitable<void> two_chats(chatwire::pollybot::client c, chatwire::diagnostics& second) {
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "bot";
    req.message = "hi";
    chatwire::diagnostics first;
    auto [ec1, r1] = co_await c.async_chat(req, first, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec1, ec1.message() << " " << first.to_string());
    BOOST_TEST(first.attempts == 1);
    auto [ec2, r2] = co_await c.async_chat(req, second, tuple_awaitable);
    BOOST_TEST(!ec2, ec2.message() << " " << second.to_string());
    BOOST_TEST(r2.response == "hello");
}

} // namespace

BOOST_AUTO_TEST_CASE(a_resend_after_a_stale_pooled_connection_counts_as_an_attempt) {
    asio::io_context io;
    chatwire::testing::test_server server(io, chatwire::testing::test_server::plain());
    chatwire::pollybot::options po;
    po.base_url = server.url("/arm-close");  // the server closes the pooled connection as the next request comes
    po.api_key = "test-key";
    po.http.probe_idle_after = 10s;
    chatwire::diagnostics second;
    run_coro(io, two_chats(chatwire::pollybot::client(io.get_executor(), po), second));
    BOOST_TEST(second.attempts == 2, second.to_string());
    BOOST_TEST_REQUIRE(second.failed_attempts.size() == 1u);
    BOOST_TEST(second.failed_attempts[0].reason == "stale_connection");
    BOOST_TEST(second.failed_attempts[0].http_status == 0);
    BOOST_TEST(second.failed_attempts[0].url == server.url("/arm-close/api/v1/chatbots/bot/chat"));
    BOOST_TEST(server.counters().accepted == 2);
}

// A 429 whose hint is a billion seconds (31 years): far beyond max_hint, so
// one request and rate_limited at once, the hint kept for the caller. It was
// taken for garbage and the call retried at once, as if no hint had come.
BOOST_AUTO_TEST_CASE(a_hint_of_a_billion_seconds_fails_at_once_after_one_request) {
    for (auto a : all_apis)
        for (const char* in : {"header", "body"}) {
            if (std::string_view(in) == "body" && a != api_kind::pollybot) continue;  // only PollyBot's body has one
            BOOST_TEST_CONTEXT(chatwire::to_string(a) << ", hint in the " << in) {
                auto r = run_turn(a, false,
                                  rule(a, std::string(R"("times":1,"kind":"status","status":429,)") +
                                              R"("retry_after":1000000000,"hint_in":")" + in + "\""));
                BOOST_TEST((r.send_ec == errc::rate_limited), r.send_ec.message() << " " << r.diag.to_string());
                BOOST_TEST(r.diag.attempts == before_turn(a) + 1, r.diag.to_string());
                BOOST_TEST_REQUIRE(r.diag.retry_after.has_value());
                BOOST_TEST(r.diag.retry_after->count() == 1000000000LL * 1000);
                BOOST_TEST_REQUIRE(r.diag.failed_attempts.size() == 1u);
                BOOST_TEST(r.diag.failed_attempts.front().reason == "hint_too_long");
                BOOST_TEST(r.diag.failed_attempts.front().http_status == 429);
            }
        }
}
