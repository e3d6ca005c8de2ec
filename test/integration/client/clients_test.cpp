#define BOOST_TEST_MODULE integration_client
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/api_key.hpp>
#include <chatwire/chat_client.hpp>
#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/pollybot.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::api_kind;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct emulated : chatwire::testing::emulated {
    using chatwire::testing::emulated::emulated;

    chatwire::chat_options options_for(api_kind a, std::string key = "test-key") const {
        auto o = chat_options_for(a);
        o.api_key = std::move(key);
        o.retry = chatwire::retry_policy::none();  // these tests see one attempt; retries have their own
        return o;
    }
};

struct streamed {
    error_code end;
    std::string text;
    std::string conversation;
    chatwire::diagnostics diag;
    int tokens = 0;
};

asio::awaitable<streamed> stream_once(chatwire::chat_client& c, std::string msg, std::string conv) {
    streamed out;
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send(std::move(msg), std::move(conv), diag, tuple_awaitable);
    if (ec) {
        out.end = ec;
        out.diag = diag;
        co_return out;
    }
    for (;;) {
        auto [nec, ev] = co_await s.async_next(tuple_awaitable);
        if (nec) {
            out.end = nec;
            break;
        }
        if (ev.kind == chatwire::event_kind::token) {
            out.text.append(ev.text);
            ++out.tokens;
        }
    }
    BOOST_TEST(out.text == std::string(s.text_so_far()));
    out.conversation = s.conversation_id();
    out.diag = s.get_diagnostics();
    co_return out;
}

/// The streamed text equals the whole reply of the same turn, and passing the
/// conversation back continues it (the emulator's reply depends on history).
asio::awaitable<void> stream_equals_whole_and_continues(chatwire::chat_client& streaming,
                                                        chatwire::chat_client& whole) {
    auto first = co_await stream_once(streaming, "Where is my order?", "");
    BOOST_TEST_REQUIRE(first.end == error_code(errc::end_of_stream), first.end.message() << " " << first.diag.to_string());
    BOOST_TEST(first.tokens > 3);
    BOOST_TEST(!first.conversation.empty());

    chatwire::diagnostics diag;
    auto [ec, reply] = co_await whole.async_send_whole("Where is my order?", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(reply.text == first.text);  // same bot, same (empty) history, same message
    BOOST_TEST(!reply.conversation_id.empty());

    auto second = co_await stream_once(streaming, "Where is my order?", first.conversation);
    BOOST_TEST_REQUIRE(second.end == error_code(errc::end_of_stream), second.end.message());
    BOOST_TEST(second.conversation == first.conversation);
    BOOST_TEST(second.text != first.text);  // the history changed the reply

    auto [ec2, reply2] =
        co_await whole.async_send_whole("Where is my order?", reply.conversation_id, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec2, ec2.message());
    BOOST_TEST(reply2.text == second.text);
    BOOST_TEST(reply2.conversation_id == reply.conversation_id);
}

void check_api(api_kind a) {
    emulated emu;
    chatwire::chat_client streaming(emu.io.get_executor(), emu.options_for(a));
    chatwire::chat_client whole(emu.io.get_executor(), emu.options_for(a));
    run_coro(emu.io, stream_equals_whole_and_continues(streaming, whole));
}

} // namespace

BOOST_AUTO_TEST_CASE(vectorshift_stream_equals_reply_and_continues) { check_api(api_kind::vectorshift); }
BOOST_AUTO_TEST_CASE(chatbotkit_stream_equals_reply_and_continues) { check_api(api_kind::chatbotkit); }
BOOST_AUTO_TEST_CASE(pollybot_stream_equals_reply_and_continues) { check_api(api_kind::pollybot); }

// ---- errors ---------------------------------------------------------------------

namespace {

asio::awaitable<void> expect_send_error(chatwire::chat_client& c, errc expected, std::string provider_code,
                                        int status) {
    auto r = co_await stream_once(c, "hello", "");
    BOOST_TEST(r.end == error_code(expected), r.end.message() << " " << r.diag.to_string());
    BOOST_TEST(r.diag.http_status == status);
    BOOST_TEST(r.diag.provider_code == provider_code);
    BOOST_TEST(r.diag.to_string().find("wrong-key") == std::string::npos);  // the key never shows

    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(expected), ec.message());
    BOOST_TEST(diag.provider_code == provider_code);
}

} // namespace

BOOST_AUTO_TEST_CASE(wrong_keys_map_to_unauthorized_with_the_providers_code) {
    chatwire::emulator::options o;
    o.api_key = "right-key";
    emulated emu(o);
    chatwire::chat_client polly(emu.io.get_executor(), emu.options_for(api_kind::pollybot, "wrong-key"));
    run_coro(emu.io, expect_send_error(polly, errc::unauthorized, "INVALID_API_KEY", 401));
    chatwire::chat_client cbk(emu.io.get_executor(), emu.options_for(api_kind::chatbotkit, "wrong-key"));
    run_coro(emu.io, expect_send_error(cbk, errc::unauthorized, "NOT_AUTHENTICATED", 401));
    chatwire::chat_client vs(emu.io.get_executor(), emu.options_for(api_kind::vectorshift, "wrong-key"));
    run_coro(emu.io, expect_send_error(vs, errc::unauthorized, "", 401));
}

namespace {

asio::awaitable<void> rate_limited_pollybot(chatwire::pollybot::client& c) {
    chatwire::diagnostics diag;
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "support-bot";
    req.message = "hello";
    auto [ec, reply] = co_await c.async_chat(req, diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::rate_limited), ec.message());
    BOOST_TEST(diag.http_status == 429);
    BOOST_TEST(diag.provider_code == "RATE_LIMIT_EXCEEDED");
    BOOST_TEST_REQUIRE(diag.retry_after.has_value());
    BOOST_TEST(diag.retry_after->count() == 7000);
    BOOST_TEST(c.last_rate_limit().limit.has_value());
    // The rule is spent: the next call goes through, rate-limit headers and all.
    auto [ec2, reply2] = co_await c.async_chat(req, diag, tuple_awaitable);
    BOOST_TEST(!ec2, ec2.message());
    BOOST_TEST(!reply2.response.empty());
    BOOST_TEST(reply2.message_id.size() > 0u);
    BOOST_TEST(c.last_rate_limit().remaining.has_value());
}

asio::awaitable<void> quota_is_not_a_burst(chatwire::chatbotkit::client& c) {
    chatwire::diagnostics diag;
    chatwire::chatbotkit::complete_request req;
    req.messages.push_back({"user", "hello"});
    auto [ec, done] = co_await c.async_complete(req, diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::quota_exceeded), ec.message());
    BOOST_TEST(diag.provider_code == "LIMITS_REACHED");
    auto [ec2, done2] = co_await c.async_complete(req, diag, tuple_awaitable);
    BOOST_TEST(!ec2, ec2.message());
    BOOST_TEST(done2.id.empty());  // stateless
    BOOST_TEST(!done2.text.empty());
}

asio::awaitable<void> failed_run_with_200(chatwire::vectorshift::client& c) {
    chatwire::diagnostics diag;
    chatwire::vectorshift::run_request req;
    req.input = "hello";
    req.chatbot_name = "Support Bot";
    auto [ec, reply] = co_await c.async_run(req, diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::run_failed), ec.message() << " " << diag.to_string());
    BOOST_TEST(diag.http_status == 200);
    BOOST_TEST(diag.provider_message == "pipeline exploded");
}

asio::awaitable<void> truncated_keeps_text(chatwire::chat_client& c) {
    auto r = co_await stream_once(c, "Tell me a long story", "");
    BOOST_TEST(r.end == error_code(errc::truncated_stream), r.end.message() << " " << r.diag.to_string());
    BOOST_TEST(r.tokens >= 1);
    BOOST_TEST(!r.text.empty());
}

asio::awaitable<void> in_stream_error(chatwire::chat_client& c) {
    auto r = co_await stream_once(c, "hello", "");
    BOOST_TEST(r.end == error_code(errc::stream_error), r.end.message());
    BOOST_TEST(r.diag.provider_message == "model overloaded");
    BOOST_TEST(!r.text.empty());  // what came before the error is kept
}

} // namespace

BOOST_AUTO_TEST_CASE(pollybot_429_keeps_code_and_retry_after) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"pollybot","times":1,"kind":"status","status":429,"retry_after":7}])";
    emulated emu(o);
    chatwire::pollybot::client c(emu.io.get_executor(),
                                 {emu.server.base_url(), "sk-workspace_test", emu.options_for(api_kind::pollybot).http, chatwire::retry_policy::none(), {}, {}});
    run_coro(emu.io, rate_limited_pollybot(c));
}

namespace {

asio::awaitable<void> retry_hints_in_order(chatwire::pollybot::client& polly, chatwire::chatbotkit::client& cbk) {
    chatwire::diagnostics diag;
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "support-bot";
    req.message = "hello";
    auto [ec, s] = co_await polly.async_chat_stream(req, diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::rate_limited), ec.message());
    BOOST_TEST_REQUIRE(diag.retry_after.has_value());
    BOOST_TEST(diag.retry_after->count() == 60000);   // PollyBot's JSON retryAfter beats X-RateLimit-Reset
    BOOST_TEST(polly.last_rate_limit().reset.has_value());  // the refused stream's headers are kept

    chatwire::chatbotkit::complete_request creq;
    creq.messages.push_back({"user", "hello"});
    auto [cec, done] = co_await cbk.async_complete(creq, diag, tuple_awaitable);
    BOOST_TEST(cec == error_code(errc::rate_limited), cec.message());
    BOOST_TEST_REQUIRE(diag.retry_after.has_value());  // only X-RateLimit-Reset was sent
    BOOST_TEST(diag.retry_after->count() > 0);
    BOOST_TEST(diag.retry_after->count() <= 30000);
}

} // namespace

BOOST_AUTO_TEST_CASE(retry_hints_most_specific_first) {
    chatwire::emulator::options o;
    const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() + 20;
    o.faults_json = R"([{"times":2,"kind":"status","status":429,"ratelimit_reset":)" + std::to_string(reset) + "}]";
    emulated emu(o);
    chatwire::pollybot::client polly(emu.io.get_executor(),
                                     {emu.server.base_url(), "sk-workspace_test", emu.options_for(api_kind::pollybot).http, chatwire::retry_policy::none(), {}, {}});
    chatwire::chatbotkit::options co;
    co.base_url = emu.server.base_url() + "/v1";
    co.secret = "secret";
    co.http = emu.options_for(api_kind::chatbotkit).http;
    co.retry = chatwire::retry_policy::none();
    chatwire::chatbotkit::client cbk(emu.io.get_executor(), co);
    run_coro(emu.io, retry_hints_in_order(polly, cbk));
}

BOOST_AUTO_TEST_CASE(chatbotkit_limits_reached_is_a_quota) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"chatbotkit","times":1,"kind":"status","status":429,"code":"LIMITS_REACHED","message":"limits"}])";
    emulated emu(o);
    chatwire::chatbotkit::options co;
    co.base_url = emu.server.base_url() + "/v1";
    co.secret = "secret";
    co.scheme = chatwire::chatbotkit::auth_scheme::token;
    co.http.tls.extra_ca_pem = emu.server.certificate_pem();
    chatwire::chatbotkit::client c(emu.io.get_executor(), co);
    run_coro(emu.io, quota_is_not_a_burst(c));
}

BOOST_AUTO_TEST_CASE(vectorshift_failed_status_is_an_error_even_with_200) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"vectorshift","times":1,"kind":"status","status":200,"message":"pipeline exploded"}])";
    emulated emu(o);
    chatwire::vectorshift::client c(emu.io.get_executor(),
                                    {emu.server.base_url(), "key", emu.options_for(api_kind::vectorshift).http, chatwire::retry_policy::none(), {}, {}});
    run_coro(emu.io, failed_run_with_200(c));
}

BOOST_AUTO_TEST_CASE(truncated_streams_are_errors_that_keep_the_text) {
    for (auto a : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot}) {
        BOOST_TEST_CONTEXT(chatwire::to_string(a)) {
            chatwire::emulator::options o;
            // A legacy VectorShift stream ends with its body, so only a broken
            // connection shows; the others lose their terminal event.
            o.faults_json = a == api_kind::vectorshift
                                ? R"([{"kind":"reset_after_events","reset_after_events":4}])"
                                : R"([{"kind":"truncate_after_events","truncate_after_events":4}])";
            emulated emu(o);
            chatwire::chat_client c(emu.io.get_executor(), emu.options_for(a));
            run_coro(emu.io, truncated_keeps_text(c));
        }
    }
}

BOOST_AUTO_TEST_CASE(in_stream_errors_keep_the_providers_message) {
    for (auto a : {api_kind::chatbotkit, api_kind::pollybot}) {
        BOOST_TEST_CONTEXT(chatwire::to_string(a)) {
            chatwire::emulator::options o;
            o.faults_json = R"([{"kind":"in_stream_error","events":3,"code":"OVERLOADED","message":"model overloaded"}])";
            emulated emu(o);
            chatwire::chat_client c(emu.io.get_executor(), emu.options_for(a));
            run_coro(emu.io, in_stream_error(c));
        }
    }
}

namespace {

asio::awaitable<void> failed_turn_keeps_its_conversation(chatwire::chat_client& c) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send("first words", "", diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::server_error), ec.message());
    BOOST_TEST_REQUIRE(diag.conversation_id.rfind("cnv_", 0) == 0u, diag.conversation_id);
    // Retrying in that conversation works and does not make a second one.
    auto r = co_await stream_once(c, "first words", diag.conversation_id);
    BOOST_TEST(r.end == error_code(errc::end_of_stream), r.end.message());
    BOOST_TEST(r.conversation == diag.conversation_id);
}

} // namespace

BOOST_AUTO_TEST_CASE(chatbotkit_conversation_created_before_a_failure_is_reported) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"chatbotkit","route":"/api/v1/conversation/{id}/complete","times":1,"kind":"status","status":500}])";
    emulated emu(o);
    chatwire::chat_client c(emu.io.get_executor(), emu.options_for(api_kind::chatbotkit));
    run_coro(emu.io, failed_turn_keeps_its_conversation(c));
}

// ---- input checks -----------------------------------------------------------------

namespace {

asio::awaitable<void> refused_inputs(emulated& emu) {
    chatwire::diagnostics diag;
    chatwire::chat_client c(emu.io.get_executor(), emu.options_for(api_kind::pollybot));
    auto [ec, s] = co_await c.async_send("", "", diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::invalid_argument));
    BOOST_TEST(diag.detail.find("message") != std::string::npos);

    chatwire::chat_client bad_key(emu.io.get_executor(), emu.options_for(api_kind::pollybot, "key\r\nX-Evil: 1"));
    auto [ec2, s2] = co_await bad_key.async_send("hi", "", diag, tuple_awaitable);
    BOOST_TEST(ec2 == error_code(errc::invalid_argument));
    BOOST_TEST(diag.detail.find("control character (0x0d)") != std::string::npos, diag.detail);
    BOOST_TEST(diag.to_string().find("X-Evil") == std::string::npos);

    // A chatbot id with path characters is percent-encoded: it names one
    // chatbot and cannot reach another route.
    auto opts = emu.options_for(api_kind::pollybot);
    opts.chatbot_id = "../../_emulator/reset?x=#y";
    chatwire::chat_client odd(emu.io.get_executor(), opts);
    auto [ec3, reply] = co_await odd.async_send_whole("hi", "", diag, tuple_awaitable);
    BOOST_TEST(!ec3, ec3.message() << " " << diag.to_string());
    BOOST_TEST(reply.text.find("../../_emulator/reset?x=#y") != std::string::npos, reply.text);

    // A bare ".." is a path step, not a name: it is encoded too.
    opts.chatbot_id = "..";
    chatwire::chat_client dots(emu.io.get_executor(), opts);
    auto [ec4, reply4] = co_await dots.async_send_whole("hi", "", diag, tuple_awaitable);
    BOOST_TEST(!ec4, ec4.message() << " " << diag.to_string());
    BOOST_TEST(reply4.text.find("with ..") != std::string::npos, reply4.text);
}

} // namespace

BOOST_AUTO_TEST_CASE(inputs_are_checked_before_any_request) {
    emulated emu;
    run_coro(emu.io, refused_inputs(emu));
}

namespace {

asio::awaitable<void> bad_base_urls(emulated& emu) {
    // Refused at construction, reported by every call before anything is sent.
    for (auto url : {"ftp://127.0.0.1/", "https://127.0.0.1:1/v1?x=1", "https://user:pw@127.0.0.1/", "not a url"}) {
        auto opts = emu.options_for(api_kind::pollybot);
        opts.base_url = url;
        chatwire::chat_client c(emu.io.get_executor(), opts);
        chatwire::diagnostics diag;
        auto [ec, s] = co_await c.async_send("hi", "", diag, tuple_awaitable);
        BOOST_TEST(ec == error_code(errc::invalid_url), url << ": " << ec.message());
        BOOST_TEST(diag.attempts == 0);
    }
}

// attempts counts the requests a call sent: ChatBotKit's first turn creates
// its conversation, then completes it.
asio::awaitable<void> counted_turn(chatwire::chat_client& c, int requests) {
    chatwire::diagnostics diag;
    diag.attempts = 41;  // a call starts its diagnostics afresh
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(diag.attempts == requests);
    BOOST_TEST(diag.http_status == 200);
}

// Two turns at once on a client allowed one connection: the second waits for
// the first, and says how long in its diagnostics.
asio::awaitable<void> queued_turn(chatwire::chat_client& c, chatwire::diagnostics& diag, error_code& out) {
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    out = ec;
}

} // namespace

BOOST_AUTO_TEST_CASE(base_urls_are_checked_once_at_construction) {
    emulated emu;
    run_coro(emu.io, bad_base_urls(emu));
}

BOOST_AUTO_TEST_CASE(diagnostics_count_attempts_and_the_wait_for_a_connection) {
    chatwire::emulator::options eo;
    eo.token_delay = 20ms;  // a whole reply takes a while, so the second turn queues
    emulated emu(eo);
    for (auto a : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot}) {
        chatwire::chat_client c(emu.io.get_executor(), emu.options_for(a));
        run_coro(emu.io, counted_turn(c, a == api_kind::chatbotkit ? 2 : 1));
    }
    auto opts = emu.options_for(api_kind::pollybot);
    opts.http.max_connections_per_origin = 1;
    chatwire::chat_client c(emu.io.get_executor(), opts);
    chatwire::diagnostics d1, d2;
    error_code e1 = errc::cancelled, e2 = errc::cancelled;
    asio::co_spawn(emu.io, queued_turn(c, d1, e1), asio::detached);
    asio::co_spawn(emu.io, queued_turn(c, d2, e2), asio::detached);
    const auto until = std::chrono::steady_clock::now() + 20s;
    while ((e1 == errc::cancelled || e2 == errc::cancelled) && std::chrono::steady_clock::now() < until)
        emu.io.run_one_for(100ms);
    BOOST_TEST(!e1, e1.message());
    BOOST_TEST(!e2, e2.message());
    BOOST_TEST((d1.connection_wait.count() == 0) != (d2.connection_wait.count() == 0));
    BOOST_TEST(std::max(d1.connection_wait, d2.connection_wait) > std::chrono::microseconds(0));
}

namespace {

// A reply is bounded by limits.max_reply_bytes: it ends with reply_too_large,
// keeping the text that fitted (a prefix of the whole reply).
asio::awaitable<void> bounded_reply(emulated& emu, api_kind a) {
    chatwire::chat_client whole(emu.io.get_executor(), emu.options_for(a));
    auto full = co_await stream_once(whole, "tell me a long story", "");
    BOOST_TEST_REQUIRE(full.end == error_code(errc::end_of_stream), full.end.message());
    BOOST_TEST_REQUIRE(full.text.size() > 24u);

    auto opts = emu.options_for(a);
    opts.http.limits.max_reply_bytes = 24;
    chatwire::chat_client bounded(emu.io.get_executor(), opts);
    chatwire::diagnostics diag;
    auto [ec, s] = co_await bounded.async_send("tell me a long story", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    error_code end;
    for (;;) {
        auto [nec, ev] = co_await s.next();
        if (nec) {
            end = nec;
            break;
        }
    }
    BOOST_TEST(end == error_code(errc::reply_too_large), chatwire::to_string(a) << ": " << end.message());
    const std::string kept(s.text_so_far());
    BOOST_TEST(kept.size() <= 24u);
    BOOST_TEST(full.text.compare(0, kept.size(), kept) == 0, kept << " | " << full.text);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_reply_is_bounded_by_max_reply_bytes) {
    emulated emu;
    for (auto a : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot}) run_coro(emu.io, bounded_reply(emu, a));
}

// ---- retries at the choke point ------------------------------------------------

namespace {

chatwire::retry_policy quick_retries(int attempts) {
    chatwire::retry_policy p;
    p.max_attempts = attempts;
    p.base_delay = 10ms;
    p.max_delay = 40ms;
    return p;
}

asio::awaitable<void> turn_with_retries(chatwire::chat_client& c, bool streamed, error_code expected, int attempts,
                                        std::string expected_text) {
    chatwire::diagnostics diag;
    std::string text;
    error_code ec;
    if (streamed) {
        auto [sec, s] = co_await c.async_send("hello", "", diag, tuple_awaitable);
        ec = sec;
        while (!ec) {
            auto [nec, ev] = co_await s.next();
            if (nec == errc::end_of_stream) break;
            ec = nec;
        }
        if (!sec) text = std::string(s.text_so_far());
    } else {
        auto [wec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
        ec = wec;
        text = reply.text;
    }
    BOOST_TEST(ec == expected, ec.message() << " " << diag.to_string());
    BOOST_TEST(diag.attempts == attempts, diag.to_string());
    if (!expected) BOOST_TEST(text == expected_text);  // no token replayed, none lost
}

asio::awaitable<void> whole_text(chatwire::chat_client& c, std::string& out) {
    chatwire::diagnostics d;
    auto [ec, reply] = co_await c.async_send_whole("hello", "", d, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    out = reply.text;
}

} // namespace

BOOST_AUTO_TEST_CASE(failures_the_policy_allows_are_retried_to_success) {
    for (bool streamed : {false, true}) {
        // The fault-free reply, for the same prompt and seed.
        std::string expected;
        {
            emulated clean;
            chatwire::chat_client c(clean.io.get_executor(), clean.options_for(api_kind::pollybot));
            run_coro(clean.io, whole_text(c, expected));
        }
        chatwire::emulator::options o;
        o.faults_json = R"([{"api":"pollybot","times":2,"kind":"status","status":503}])";
        emulated emu(o);
        auto opts = emu.options_for(api_kind::pollybot);
        opts.retry = quick_retries(3);
        chatwire::chat_client c(emu.io.get_executor(), opts);
        run_coro(emu.io, turn_with_retries(c, streamed, {}, 3, expected));
    }
}

BOOST_AUTO_TEST_CASE(retries_stop_at_max_attempts_and_never_for_what_waiting_cannot_fix) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"pollybot","kind":"status","status":503}])";
    emulated emu(o);
    auto opts = emu.options_for(api_kind::pollybot);
    opts.retry = quick_retries(2);
    chatwire::chat_client c(emu.io.get_executor(), opts);
    run_coro(emu.io, turn_with_retries(c, false, errc::server_error, 2, ""));

    chatwire::emulator::options wrong;
    wrong.api_key = "right-key";
    emulated emu2(wrong);
    auto bad = emu2.options_for(api_kind::pollybot, "wrong-key");
    bad.retry = quick_retries(3);
    chatwire::chat_client unauthorized(emu2.io.get_executor(), bad);
    run_coro(emu2.io, turn_with_retries(unauthorized, true, errc::unauthorized, 1, ""));
}

namespace {

asio::awaitable<void> hint_too_long(chatwire::chat_client& c) {
    chatwire::diagnostics diag;
    const auto start = std::chrono::steady_clock::now();
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::rate_limited), ec.message());
    BOOST_TEST(diag.attempts == 1);
    BOOST_TEST_REQUIRE(diag.retry_after.has_value());
    BOOST_TEST(diag.retry_after->count() == 120000);
    // Not waited for: a wait would have lasted the hint (two minutes).
    BOOST_TEST((std::chrono::steady_clock::now() - start < *diag.retry_after / 2));
}

asio::awaitable<void> hint_honoured(chatwire::chat_client& c) {
    chatwire::diagnostics diag;
    const auto start = std::chrono::steady_clock::now();
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(diag.attempts == 2);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 1s));  // the server asked for a second
}

} // namespace

BOOST_AUTO_TEST_CASE(a_servers_retry_hint_is_honoured_up_to_max_hint) {
    {
        chatwire::emulator::options o;
        o.faults_json = R"([{"api":"pollybot","times":1,"kind":"status","status":429,"retry_after":120}])";
        emulated emu(o);
        auto opts = emu.options_for(api_kind::pollybot);
        opts.retry = quick_retries(3);
        chatwire::chat_client c(emu.io.get_executor(), opts);
        run_coro(emu.io, hint_too_long(c));
    }
    {
        chatwire::emulator::options o;
        o.faults_json = R"([{"api":"pollybot","times":1,"kind":"status","status":429,"retry_after":1}])";
        emulated emu(o);
        auto opts = emu.options_for(api_kind::pollybot);
        opts.retry = quick_retries(3);
        chatwire::chat_client c(emu.io.get_executor(), opts);
        run_coro(emu.io, hint_honoured(c));
    }
}

namespace {

asio::awaitable<void> observed_turn(chatwire::chat_client& c, const std::vector<chatwire::attempt_report>& seen) {
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST_REQUIRE(diag.failed_attempts.size() == 2u);
    BOOST_TEST(diag.failed_attempts[0].http_status == 503);
    BOOST_TEST(diag.failed_attempts[0].reason == "unavailable");
    BOOST_TEST(diag.to_string().find("attempt=503 INTERNAL_ERROR -> unavailable") != std::string::npos, diag.to_string());
    BOOST_TEST_REQUIRE(seen.size() == 3u);
    for (int i = 0; i < 3; ++i) BOOST_TEST(seen[i].attempt == i + 1);
    BOOST_TEST(seen[0].will_retry);
    BOOST_TEST(seen[0].http_status == 503);
    BOOST_TEST((seen[0].ec == chatwire::errc::server_error));
    BOOST_TEST(seen[0].target.empty());  // views are only valid during the callback: copied out below
    BOOST_TEST(!seen[2].will_retry);
    BOOST_TEST(!seen[2].ec);
    BOOST_TEST(seen[2].http_status == 200);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_attempt_is_reported_and_failed_ones_kept_in_diagnostics) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"pollybot","times":2,"kind":"status","status":503}])";
    emulated emu(o);
    auto opts = emu.options_for(api_kind::pollybot);
    opts.retry = quick_retries(3);
    std::vector<chatwire::attempt_report> seen;
    std::vector<std::string> targets;
    opts.on_attempt = [&seen, &targets](const chatwire::attempt_report& r) {
        targets.emplace_back(r.target);
        seen.push_back(r);
        seen.back().target = {};
        seen.back().provider_code = {};
    };
    chatwire::chat_client c(emu.io.get_executor(), opts);
    run_coro(emu.io, observed_turn(c, seen));
    for (const auto& t : targets) BOOST_TEST(t == "/api/v1/chatbots/support-bot/chat");
}

namespace {

// The completion goes out on the connection that created the conversation;
// the server reads it and resets. It may have acted: a POST is not resent.
asio::awaitable<void> reset_after_reading(chatwire::chat_client& c) {
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
    BOOST_TEST((ec == chatwire::condition::transport), ec.message());
    BOOST_TEST(diag.attempts == 2, diag.to_string());  // create, then one completion
}

} // namespace

BOOST_AUTO_TEST_CASE(a_post_the_server_may_have_acted_on_is_not_retried) {
    chatwire::emulator::options o;
    o.faults_json = R"([{"api":"chatbotkit","route":"POST /api/v1/conversation/{id}/complete","times":1,"kind":"reset_before_response"}])";
    emulated emu(o);
    auto opts = emu.options_for(api_kind::chatbotkit);
    opts.retry = quick_retries(3);
    chatwire::chat_client c(emu.io.get_executor(), opts);
    run_coro(emu.io, reset_after_reading(c));
}

// ---- API keys ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(api_key_problem_names_what_is_wrong) {
    using chatwire::api_key_problem;
    BOOST_TEST(api_key_problem("sk-workspace_abc123").empty());
    BOOST_TEST(api_key_problem("cl\xC3\xA9 \xE2\x82\xAC").empty());  // UTF-8 text with a space is a key
    BOOST_TEST(api_key_problem(std::string(chatwire::max_api_key_size, 'k')).empty());
    BOOST_TEST(api_key_problem("") == "is empty");
    BOOST_TEST(api_key_problem("   ") == "holds only spaces");
    BOOST_TEST(api_key_problem(std::string("ab\0c", 4)) == "holds a control character (0x00) at byte 3");
    BOOST_TEST(api_key_problem("k\n") == "holds a control character (0x0a) at byte 2");
    BOOST_TEST(api_key_problem("\tk") == "holds a control character (0x09) at byte 1");
    BOOST_TEST(api_key_problem("k\x7f") == "holds a control character (0x7f) at byte 2");
    BOOST_TEST(api_key_problem("k\xC2\x9B") == "holds a control character (U+009b) at byte 2");
    BOOST_TEST(api_key_problem("k\xFF") == "is not valid UTF-8 at byte 2");
    BOOST_TEST(api_key_problem("k\xC3") == "is not valid UTF-8 at byte 2");         // cut short
    BOOST_TEST(api_key_problem("\xC0\xAF") == "is not valid UTF-8 at byte 1");      // overlong '/'
    BOOST_TEST(api_key_problem("\xED\xA0\x80") == "is not valid UTF-8 at byte 1");  // a surrogate
    BOOST_TEST(api_key_problem(std::string(chatwire::max_api_key_size + 1, 'k')).find("more than 65536") !=
               std::string::npos);
}

namespace {

// Keys no client may send; each would reach the server if it were not refused.
std::vector<std::string> refused_keys() {
    return {"",
            "   ",
            std::string("sk\0nul", 6),
            "sk\x01soh",
            "sk\x1b[31m",
            "sk\x7f",
            "sk\xC2\x9B" "c1",
            "sk\xFF\xFE",
            "sk\r\nX-Injected: 1",
            std::string(chatwire::max_api_key_size + 1, 'k')};
}

// Every call of every client with a refused key fails with invalid_argument,
// says why in diagnostics (without the key), and sends nothing.
asio::awaitable<void> refused_everywhere(chatwire::testing::test_server& server, const chatwire::http::client_options& http) {
    const auto base = server.url("");
    for (const auto& key : refused_keys()) {
        auto check = [&key](const char* what, error_code ec, const chatwire::diagnostics& diag) {
            BOOST_TEST(ec == error_code(errc::invalid_argument), what << ": " << ec.message());
            BOOST_TEST((diag.detail.starts_with("the api key ") || diag.detail.starts_with("the secret ")),
                       what << ": " << diag.detail);
            BOOST_TEST(diag.attempts == 0, what);
            if (key.size() > 3) BOOST_TEST(diag.to_string().find(key) == std::string::npos, what);
        };
        for (auto api : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot}) {
            chatwire::chat_options o;
            o.api = api;
            o.base_url = base + (api == api_kind::chatbotkit ? "/v1" : "");
            o.api_key = key;
            o.chatbot_id = "bot";
            o.http = http;
            chatwire::chat_client c(co_await asio::this_coro::executor, o);
            chatwire::diagnostics diag;
            auto [ec, s] = co_await c.async_send("hello", "", diag, tuple_awaitable);
            check("chat_client stream", ec, diag);
            chatwire::diagnostics diag2;
            auto [ec2, reply] = co_await c.async_send_whole("hello", "", diag2, tuple_awaitable);
            check("chat_client whole", ec2, diag2);
        }
        {
            chatwire::vectorshift::options o;
            o.base_url = base;
            o.api_key = key;
            o.http = http;
            chatwire::vectorshift::client c(co_await asio::this_coro::executor, o);
            chatwire::vectorshift::run_request req;
            req.input = "hello";
            req.chatbot_id = "bot";
            chatwire::diagnostics diag;
            auto [ec, r] = co_await c.async_run(req, diag, tuple_awaitable);
            check("vectorshift", ec, diag);
        }
        {
            chatwire::chatbotkit::options o;
            o.base_url = base + "/v1";
            o.secret = key;
            o.http = http;
            chatwire::chatbotkit::client c(co_await asio::this_coro::executor, o);
            chatwire::chatbotkit::complete_request req;
            req.messages.push_back({"user", "hello"});
            chatwire::diagnostics diag;
            auto [ec, r] = co_await c.async_complete(req, diag, tuple_awaitable);
            check("chatbotkit", ec, diag);
        }
        {
            chatwire::pollybot::options o;
            o.base_url = base;
            o.api_key = key;
            o.http = http;
            chatwire::pollybot::client c(co_await asio::this_coro::executor, o);
            chatwire::pollybot::chat_request req;
            req.chatbot_id = "bot";
            req.message = "hello";
            chatwire::diagnostics diag;
            auto [ec, r] = co_await c.async_chat(req, diag, tuple_awaitable);
            check("pollybot", ec, diag);
        }
    }
    BOOST_TEST(server.counters().accepted == 0);
    BOOST_TEST(server.counters().requests == 0);

    // The same server sees a good key's call: it would have seen the others.
    chatwire::pollybot::options o;
    o.base_url = base;
    o.api_key = "sk-workspace_good";
    o.http = http;
    o.retry = chatwire::retry_policy::none();
    chatwire::pollybot::client c(co_await asio::this_coro::executor, o);
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "bot";
    req.message = "hello";
    chatwire::diagnostics diag;
    auto [ec, r] = co_await c.async_chat(req, diag, tuple_awaitable);
    BOOST_TEST(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(server.counters().requests == 1);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_refused_key_fails_every_call_and_sends_nothing) {
    asio::io_context io;
    chatwire::testing::test_server server(io, chatwire::testing::test_server::plain());
    run_coro(io, refused_everywhere(server, {}));
}

namespace {

asio::awaitable<void> chatbotkit_not_found(const std::string& base_url, const chatwire::http::client_options& http,
                                           bool hint) {
    chatwire::chatbotkit::options o;
    o.base_url = base_url;
    o.secret = "test-key";
    o.http = http;
    o.retry = chatwire::retry_policy::none();
    chatwire::chatbotkit::client c(co_await asio::this_coro::executor, o);
    chatwire::chatbotkit::complete_request req;
    req.conversation_id = "cnv_missing";  // 404 whatever the base URL
    req.text = "hello";
    chatwire::diagnostics diag;
    auto [ec, r] = co_await c.async_complete(req, diag, tuple_awaitable);
    BOOST_TEST(ec == error_code(errc::not_found), ec.message());
    BOOST_TEST((diag.detail.find("version prefix /v1") != std::string::npos) == hint, diag.to_string());
}

} // namespace

BOOST_AUTO_TEST_CASE(chatbotkit_404_without_v1_hints_at_the_base_url) {
    emulated emu;
    const auto http = emu.options_for(api_kind::chatbotkit).http;
    run_coro(emu.io, chatbotkit_not_found(emu.server.base_url(), http, true));           // no version prefix
    run_coro(emu.io, chatbotkit_not_found(emu.server.base_url() + "/api", http, true));  // stops short of it
    run_coro(emu.io, chatbotkit_not_found(emu.server.base_url() + "/api/v1", http, false));
    run_coro(emu.io, chatbotkit_not_found(emu.server.base_url() + "/v1/", http, false));
}

// The suite runs twice in CI, the second time with CHATWIRE_TEST_PROTOCOL=h2:
// each run speaks the protocol it is there for.
BOOST_AUTO_TEST_CASE(the_suite_speaks_the_protocol_it_runs_for) {
    const char* p = std::getenv("CHATWIRE_TEST_PROTOCOL");
    const int expected = p && std::string_view(p) == "h2" ? 20 : 11;
    emulated emu;
    chatwire::chat_client c(emu.io.get_executor(), emu.options_for(api_kind::pollybot));
    run_coro(emu.io, [&]() -> asio::awaitable<void> {
        auto r = co_await stream_once(c, "hello", "");
        BOOST_TEST(r.end == error_code(errc::end_of_stream), r.end.message());
        chatwire::diagnostics diag;
        auto [ec, reply] = co_await c.async_send_whole("hello", "", diag, tuple_awaitable);
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(diag.http_version == expected);
    }());
}
