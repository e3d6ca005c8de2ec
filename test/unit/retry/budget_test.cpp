#include <boost/test/unit_test.hpp>

#include "fakes.hpp"

#include <chatwire/retry/budget.hpp>
#include <chatwire/retry/schedule.hpp>

#include <limits>

using chatwire::errc;
using chatwire::retry_budget;

BOOST_AUTO_TEST_SUITE(budget)

BOOST_AUTO_TEST_CASE(starts_with_its_initial_balance) {
    retry_budget b;  // 10 tokens
    for (int i = 0; i < 10; ++i) BOOST_TEST(b.try_withdraw(), "withdrawal " << i);
    BOOST_TEST(!b.try_withdraw());
    BOOST_TEST(b.balance() == 0.0);
}

BOOST_AUTO_TEST_CASE(ten_calls_pay_for_one_retry) {
    retry_budget b({.ratio = 0.1, .initial = 0, .max_balance = 10});
    for (int i = 0; i < 9; ++i) b.deposit();
    BOOST_TEST(!b.try_withdraw());  // 0.9 of a token
    b.deposit();
    BOOST_TEST(b.try_withdraw());   // exactly 1: thousandths add up without rounding error
    BOOST_TEST(!b.try_withdraw());
}

BOOST_AUTO_TEST_CASE(the_balance_is_capped) {
    retry_budget b;
    for (int i = 0; i < 100000; ++i) b.deposit();
    BOOST_TEST(b.balance() == 10.0);
}

BOOST_AUTO_TEST_CASE(odd_options_are_clamped) {
    retry_budget none({.ratio = -1, .initial = -5, .max_balance = -1});
    none.deposit();
    BOOST_TEST(!none.try_withdraw());
    retry_budget nan({.ratio = std::numeric_limits<double>::quiet_NaN(), .initial = 1, .max_balance = 1});
    nan.deposit();
    BOOST_TEST(nan.balance() == 1.0);
    retry_budget huge({.ratio = 1e300, .initial = 1e300, .max_balance = 1e300});
    BOOST_TEST(huge.try_withdraw());
}

// A storm: every call fails with 429 on every attempt. Without a budget 3
// attempts each would triple the load; with it, attempts stay within
// 1.1 x calls + the initial balance.
BOOST_AUTO_TEST_CASE(amplification_is_bounded_in_a_429_storm) {
    retry_budget b;
    chatwire::test::fake_clock clock;
    chatwire::test::fake_random random;
    const chatwire::retry_policy policy;  // 3 attempts
    constexpr int calls = 10000;
    long attempts = 0, refused = 0;
    for (int c = 0; c < calls; ++c) {
        chatwire::retry_schedule sched(policy, &b, chatwire::retry_schedule::clock::time_point::max(), clock.fn(),
                                       random.fn());
        for (;;) {
            ++attempts;
            chatwire::error_code ec = errc::rate_limited;
            chatwire::diagnostics diag;
            diag.http_status = 429;
            chatwire::failure_info info;
            info.request_written = info.response_started = true;
            if (!sched.next_delay(ec, info, diag)) {
                if (ec == errc::retry_budget_exhausted) ++refused;
                break;
            }
        }
    }
    BOOST_TEST(attempts <= static_cast<long>(1.1 * calls) + 10);
    BOOST_TEST(attempts >= calls + calls / 10);  // the budget is spent, not hoarded
    BOOST_TEST(refused > calls / 2);              // most calls were told why they stopped
}

BOOST_AUTO_TEST_SUITE_END()
