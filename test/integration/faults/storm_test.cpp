// A 429 storm: N concurrent calls through one client meet nothing but 429s
// (a fault rule that is never spent, with a short hint). The client's retry
// budget keeps the requests the emulator sees within 1.1 x N plus the budget's
// floor, where max_attempts alone would allow 3 x N. Bounded: every call ends
// after at most two short waits. CHATWIRE_STORM_CALLS sets N (default 200).
#define BOOST_TEST_MODULE stress_retry_storm
#include <boost/test/unit_test.hpp>

#include "emulator_stats.hpp"
#include "emulated.hpp"
#include "run_coro.hpp"

#include <chatwire/emulator/server.hpp>
#include <chatwire/pollybot.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdlib>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct tally {
    int done = 0, rate_limited = 0, budget_exhausted = 0, other = 0;
    int attempts = 0;
};

asio::awaitable<void> one_call(chatwire::pollybot::client& c, tally& t) {
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "support-bot";
    req.message = "hello";
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_chat(std::move(req), diag, tuple_awaitable);
    if (ec == errc::rate_limited) ++t.rate_limited;
    else if (ec == errc::retry_budget_exhausted) ++t.budget_exhausted;
    else ++t.other;
    t.attempts += diag.attempts;
    ++t.done;
}

asio::awaitable<void> storm(chatwire::emulator::server& emu, chatwire::pollybot::client& c, int n, tally& t,
                            boost::json::value& stats) {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < n; ++i) asio::co_spawn(ex, one_call(c, t), asio::detached);
    asio::steady_timer tick(ex);
    while (t.done < n) {
        tick.expires_after(20ms);
        co_await tick.async_wait(tuple_awaitable);
    }
    stats = co_await chatwire::testing::emulator_stats(emu.base_url(), emu.certificate_pem(), emu.admin_token());
}

} // namespace

BOOST_AUTO_TEST_CASE(a_429_storm_is_not_multiplied) {
    int n = 200;
    if (const char* v = std::getenv("CHATWIRE_STORM_CALLS")) n = std::max(1, std::atoi(v));
    asio::io_context io;
    chatwire::emulator::options eo;
    eo.faults_json = R"([{"api":"pollybot","kind":"status","status":429,"retry_after":1}])";  // never spent
    chatwire::emulator::server emu(io.get_executor(), chatwire::testing::with_test_protocol(eo));
    emu.start();

    chatwire::pollybot::options o;
    o.base_url = emu.base_url();
    o.api_key = "sk-workspace_storm";
    o.http.tls.extra_ca_pem = emu.certificate_pem();
    o.http.max_connections_per_origin = 64;
    o.retry.max_attempts = 3;  // the default: without a budget, up to 3 x N requests
    chatwire::pollybot::client c(io.get_executor(), o);

    tally t;
    boost::json::value stats;
    run_coro(io, storm(emu, c, n, t, stats), 60s);

    const chatwire::retry_budget_options budget;  // the client's default budget
    const double bound = 1.1 * n + budget.initial;
    const auto seen = chatwire::testing::stat(stats, "routes", "POST /api/v1/chatbots/{id}/chat");
    BOOST_TEST_MESSAGE(n << " calls: the emulator saw " << seen << " requests (bound " << bound << "), "
                         << t.budget_exhausted << " calls stopped by the budget");
    BOOST_TEST(t.done == n);
    BOOST_TEST(t.other == 0);
    BOOST_TEST(t.rate_limited + t.budget_exhausted == n);
    BOOST_TEST(seen >= static_cast<std::uint64_t>(n));
    BOOST_TEST(static_cast<double>(seen) <= bound);
    BOOST_TEST(static_cast<std::uint64_t>(t.attempts) == seen);  // diagnostics count what went out
    BOOST_TEST(chatwire::testing::stat(stats, "statuses", "429") == seen);
    BOOST_TEST(t.budget_exhausted > 0);
}
