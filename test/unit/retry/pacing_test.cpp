#include <boost/test/unit_test.hpp>

#include "fakes.hpp"

#include <chatwire/retry/pacing.hpp>
#include <chatwire/retry/store.hpp>

using namespace std::chrono_literals;
using chatwire::pace;
using chatwire::pacing_action;
using chatwire::rate_window;
using sys = std::chrono::system_clock;

namespace {

// A virtual wall clock: pacing reads no clock of its own.
const sys::time_point t0 = sys::time_point(std::chrono::seconds(1'800'000'000));
constexpr auto no_deadline = std::chrono::steady_clock::duration::max();

chatwire::http::fields window_headers(std::string remaining, std::string reset) {
    chatwire::http::fields h;
    h.set("X-RateLimit-Remaining", remaining);
    h.set("X-RateLimit-Reset", reset);
    return h;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pacing)

BOOST_AUTO_TEST_CASE(reads_remaining_and_an_epoch_or_delay_reset) {
    auto w = chatwire::read_rate_window(window_headers("0", "1800000005"), t0);
    BOOST_TEST_REQUIRE(w.has_value());
    BOOST_TEST(w->remaining == 0u);
    BOOST_TEST((w->reset == t0 + 5s));
    auto d = chatwire::read_rate_window(window_headers(" 7 ", "30"), t0);  // small: a delay
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->remaining == 7u);
    BOOST_TEST((d->reset == t0 + 30s));
}

BOOST_AUTO_TEST_CASE(ignores_a_window_it_cannot_read) {
    BOOST_TEST(!chatwire::read_rate_window({}, t0));
    BOOST_TEST(!chatwire::read_rate_window(window_headers("-1", "1800000005"), t0));
    BOOST_TEST(!chatwire::read_rate_window(window_headers("x", "1800000005"), t0));
    BOOST_TEST(!chatwire::read_rate_window(window_headers("0", "soon"), t0));
    chatwire::http::fields only_remaining;
    only_remaining.set("X-RateLimit-Remaining", "0");
    BOOST_TEST(!chatwire::read_rate_window(only_remaining, t0));
}

BOOST_AUTO_TEST_CASE(goes_while_requests_are_left_or_the_reset_passed) {
    chatwire::retry_policy policy;
    BOOST_TEST((pace(std::nullopt, t0, no_deadline, policy).action == pacing_action::go));
    BOOST_TEST((pace(rate_window{3, t0 + 10s}, t0, no_deadline, policy).action == pacing_action::go));
    BOOST_TEST((pace(rate_window{0, t0}, t0, no_deadline, policy).action == pacing_action::go));
    BOOST_TEST((pace(rate_window{0, t0 - 1s}, t0, no_deadline, policy).action == pacing_action::go));
}

BOOST_AUTO_TEST_CASE(waits_for_the_reset_of_a_used_up_window) {
    chatwire::retry_policy policy;
    auto v = pace(rate_window{0, t0 + 1500ms}, t0, no_deadline, policy);
    BOOST_TEST((v.action == pacing_action::wait));
    BOOST_TEST(v.delay.count() == (1500ms + chatwire::pacing_margin).count());
    // The clock moves on: the wait shrinks, then the window lets the request go.
    auto later = pace(rate_window{0, t0 + 1500ms}, t0 + 1s, no_deadline, policy);
    BOOST_TEST(later.delay.count() == (500ms + chatwire::pacing_margin).count());
    BOOST_TEST((pace(rate_window{0, t0 + 1500ms}, t0 + 1500ms, no_deadline, policy).action == pacing_action::go));
}

BOOST_AUTO_TEST_CASE(refuses_a_reset_beyond_max_hint_or_the_deadline) {
    chatwire::retry_policy policy;
    policy.max_hint = 10s;
    auto far = pace(rate_window{0, t0 + 20s}, t0, no_deadline, policy);
    BOOST_TEST((far.action == pacing_action::refuse));
    BOOST_TEST(far.delay.count() == (20s + chatwire::pacing_margin).count());  // the wait it would have been
    BOOST_TEST((pace(rate_window{0, t0 + 2s}, t0, 2s, policy).action == pacing_action::refuse));
    BOOST_TEST((pace(rate_window{0, t0 + 2s}, t0, 3s, policy).action == pacing_action::wait));
}

BOOST_AUTO_TEST_CASE(turned_off_it_always_goes) {
    chatwire::retry_policy policy;
    policy.pace = false;
    BOOST_TEST((pace(rate_window{0, t0 + 2s}, t0, no_deadline, policy).action == pacing_action::go));
}

BOOST_AUTO_TEST_CASE(the_local_store_keeps_a_window_per_key_and_the_budget) {
    chatwire::local_retry_store store({.ratio = 0.5, .initial = 1, .max_balance = 1});
    BOOST_TEST(!store.window("a"));
    store.note_window("a", rate_window{0, t0 + 1s});
    store.note_window("b", rate_window{4, t0 + 2s});
    store.note_window("a", rate_window{2, t0 + 3s});  // the latest answer wins
    BOOST_TEST_REQUIRE(store.window("a").has_value());
    BOOST_TEST(store.window("a")->remaining == 2u);
    BOOST_TEST((store.window("a")->reset == t0 + 3s));
    BOOST_TEST(store.window("b")->remaining == 4u);
    BOOST_TEST(store.try_withdraw());
    BOOST_TEST(!store.try_withdraw());
    store.deposit();
    store.deposit();
    BOOST_TEST(store.try_withdraw());
}

BOOST_AUTO_TEST_CASE(a_schedule_spends_the_stores_budget) {
    chatwire::local_retry_store store({.ratio = 0, .initial = 1, .max_balance = 1});
    chatwire::test::fake_clock clock;
    chatwire::test::fake_random random;
    chatwire::retry_policy policy;
    chatwire::diagnostics diag;
    chatwire::failure_info info;
    info.request_written = info.response_started = true;
    diag.http_status = 503;
    chatwire::retry_schedule first(policy, &store, chatwire::retry_schedule::clock::time_point::max(), clock.fn(),
                                   random.fn());
    chatwire::error_code ec = chatwire::errc::server_error;
    BOOST_TEST(first.next_delay(ec, info, diag).has_value());
    chatwire::retry_schedule second(policy, &store, chatwire::retry_schedule::clock::time_point::max(), clock.fn(),
                                    random.fn());
    ec = chatwire::errc::server_error;
    BOOST_TEST(!second.next_delay(ec, info, diag).has_value());
    BOOST_TEST((ec == chatwire::errc::retry_budget_exhausted));
}

BOOST_AUTO_TEST_SUITE_END()
