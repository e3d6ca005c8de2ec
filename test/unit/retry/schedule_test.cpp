#include <boost/test/unit_test.hpp>

#include "fakes.hpp"

#include <chatwire/retry/schedule.hpp>

#include <boost/asio/error.hpp>

#include <random>

using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::retry_reason;
using chatwire::retry_schedule;

namespace {

constexpr auto no_deadline = retry_schedule::clock::time_point::max();

chatwire::failure_info answered() {
    chatwire::failure_info info;
    info.request_written = info.response_started = true;
    return info;
}

struct fixture {
    chatwire::test::fake_clock clock;
    chatwire::test::fake_random random;
    chatwire::retry_policy policy;
    chatwire::diagnostics diag;

    // A 429 with an optional hint, through `s`.
    std::optional<std::chrono::milliseconds> fail_429(retry_schedule& s, std::optional<std::chrono::milliseconds> hint,
                                                      chatwire::error_code& ec) {
        ec = errc::rate_limited;
        diag.http_status = 429;
        auto info = answered();
        info.hint = hint;
        return s.next_delay(ec, info, diag);
    }
    std::optional<std::chrono::milliseconds> fail_429(retry_schedule& s,
                                                      std::optional<std::chrono::milliseconds> hint = {}) {
        chatwire::error_code ec;
        return fail_429(s, hint, ec);
    }
    retry_schedule make(retry_schedule::clock::time_point deadline = no_deadline,
                        chatwire::retry_budget* budget = nullptr) {
        return retry_schedule(policy, budget, deadline, clock.fn(), random.fn());
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(schedule, fixture)

BOOST_AUTO_TEST_CASE(backoff_sequence_up_to_the_cap) {
    policy.max_attempts = 8;
    // The draw is value % (ceiling + 1): replaying the ceilings draws each one.
    const long ceilings[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
    random.values.clear();
    for (long c : ceilings) random.values.push_back(static_cast<std::uint64_t>(c));
    auto s = make();
    for (long c : ceilings) {
        auto d = fail_429(s);
        BOOST_TEST_REQUIRE(d.has_value());
        BOOST_TEST(d->count() == c);
    }
    BOOST_TEST(!fail_429(s).has_value());  // the eighth failure ends it
    BOOST_TEST(s.last_reason() == retry_reason::attempts_exhausted);
}

BOOST_AUTO_TEST_CASE(full_jitter_spans_zero_to_the_ceiling) {
    policy.max_attempts = 1 << 20;
    std::mt19937_64 engine(42);
    auto s = retry_schedule(policy, nullptr, no_deadline, clock.fn(), [&engine] { return engine(); });
    long lo = 1 << 30, hi = -1;
    double sum = 0;
    constexpr int n = 20000;
    for (int i = 0; i < 4; ++i) fail_429(s);  // from the fifth retry on, the ceiling is the 8 s cap
    for (int i = 0; i < n; ++i) {
        auto d = fail_429(s);
        BOOST_TEST_REQUIRE(d.has_value());
        lo = std::min<long>(lo, d->count());
        hi = std::max<long>(hi, d->count());
        sum += static_cast<double>(d->count());
    }
    BOOST_TEST(lo >= 0);
    BOOST_TEST(hi <= 8000);
    BOOST_TEST(lo < 50);     // reaches down to about 0...
    BOOST_TEST(hi > 7950);   // ...and up to about the cap
    BOOST_TEST(sum / n > 3800);  // uniform: the mean is half the cap
    BOOST_TEST(sum / n < 4200);
}

BOOST_AUTO_TEST_CASE(the_first_retry_draws_below_the_base) {
    random.values = {123456789};
    auto s = make();
    auto d = fail_429(s);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 123456789 % 501);
}

BOOST_AUTO_TEST_CASE(a_hint_wins_over_a_shorter_backoff_unjittered) {
    random.values = {500};  // the largest first draw
    auto s = make();
    auto d = fail_429(s, 5s);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 5000);
    BOOST_TEST(diag.retry_after.has_value());
    BOOST_TEST(diag.retry_after->count() == 5000);
    BOOST_TEST(s.last_reason() == retry_reason::rate_limited);
}

BOOST_AUTO_TEST_CASE(a_shorter_hint_does_not_undercut_the_backoff) {
    random.values = {400};
    auto s = make();
    auto d = fail_429(s, 100ms);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 400);
    auto s2 = make();
    d = fail_429(s2, 0ms);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 400);
}

BOOST_AUTO_TEST_CASE(a_hint_beyond_max_hint_fails_at_once_as_rate_limited) {
    policy.max_hint = 60s;
    auto s = make();
    chatwire::error_code ec;
    BOOST_TEST(!fail_429(s, 61s, ec).has_value());
    BOOST_TEST(ec == errc::rate_limited);
    BOOST_TEST(s.last_reason() == retry_reason::hint_too_long);
    BOOST_TEST_REQUIRE(diag.retry_after.has_value());  // kept, so the caller can come back later
    BOOST_TEST(diag.retry_after->count() == 61000);
    // A 503 asking for too long ends the same way.
    auto s2 = make();
    ec = errc::server_error;
    diag.http_status = 503;
    auto info = answered();
    info.hint = 2min;
    BOOST_TEST(!s2.next_delay(ec, info, diag).has_value());
    BOOST_TEST(ec == errc::rate_limited);
    // Exactly max_hint is still honoured.
    auto s3 = make();
    auto d = fail_429(s3, 60s);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 60000);
}

BOOST_AUTO_TEST_CASE(max_attempts_counts_the_first) {
    auto s = make();  // 3 attempts
    chatwire::error_code ec;
    BOOST_TEST(fail_429(s, {}, ec).has_value());
    BOOST_TEST(fail_429(s, {}, ec).has_value());
    BOOST_TEST(!fail_429(s, {}, ec).has_value());
    BOOST_TEST(ec == errc::rate_limited);  // the last attempt's own code
    BOOST_TEST(s.failures() == 3);
    BOOST_TEST(s.last_reason() == retry_reason::attempts_exhausted);
}

BOOST_AUTO_TEST_CASE(none_never_retries) {
    policy = chatwire::retry_policy::none();
    auto s = make();
    chatwire::error_code ec;
    BOOST_TEST(!fail_429(s, {}, ec).has_value());
    BOOST_TEST(ec == errc::rate_limited);
    policy.max_attempts = 0;  // as good as 1
    auto s2 = make();
    BOOST_TEST(!fail_429(s2).has_value());
}

BOOST_AUTO_TEST_CASE(no_retry_past_the_deadline) {
    const auto deadline = clock.now + 3s;
    auto s = make(deadline);
    BOOST_TEST(!fail_429(s, 3s).has_value());  // would start at the deadline: pointless
    BOOST_TEST(s.last_reason() == retry_reason::deadline);
    random.values = {500};
    auto s2 = make(deadline);
    auto d = fail_429(s2, 2999ms);
    BOOST_TEST_REQUIRE(d.has_value());
    clock.now += *d;
    BOOST_TEST(!fail_429(s2).has_value());  // 1 ms left, a backoff of 500 ms
    clock.now = deadline + 1s;
    auto s3 = make(deadline);
    BOOST_TEST(!fail_429(s3).has_value());
    BOOST_TEST(s3.last_reason() == retry_reason::deadline);
}

BOOST_AUTO_TEST_CASE(a_refused_budget_ends_the_call_with_its_own_code) {
    chatwire::retry_budget empty({.ratio = 0, .initial = 0, .max_balance = 0});
    auto s = make(no_deadline, &empty);
    chatwire::error_code ec;
    BOOST_TEST(!fail_429(s, {}, ec).has_value());
    BOOST_TEST(ec == errc::retry_budget_exhausted);
    BOOST_TEST(s.last_reason() == retry_reason::budget_exhausted);
}

BOOST_AUTO_TEST_CASE(a_failure_not_worth_retrying_costs_no_token) {
    chatwire::retry_budget b({.ratio = 0, .initial = 1, .max_balance = 1});
    auto s = make(no_deadline, &b);
    chatwire::error_code ec = errc::unauthorized;
    diag.http_status = 401;
    BOOST_TEST(!s.next_delay(ec, answered(), diag).has_value());
    BOOST_TEST(ec == errc::unauthorized);
    BOOST_TEST(s.last_reason() == retry_reason::not_retryable);
    BOOST_TEST(b.balance() == 1.0);
    // Nor does a retry stopped by the deadline.
    auto s2 = make(clock.now + 1s, &b);
    BOOST_TEST(!fail_429(s2, 5s).has_value());
    BOOST_TEST(b.balance() == 1.0);
}

BOOST_AUTO_TEST_CASE(a_stale_hint_is_cleared) {
    auto s = make();
    fail_429(s, 2s);
    BOOST_TEST(diag.retry_after.has_value());
    chatwire::error_code ec = boost::asio::error::connection_refused;
    diag.http_status = 0;
    chatwire::failure_info info;  // not written: refused
    BOOST_TEST(s.next_delay(ec, info, diag).has_value());
    BOOST_TEST(!diag.retry_after.has_value());
    BOOST_TEST(s.last_reason() == retry_reason::not_sent);
}

BOOST_AUTO_TEST_CASE(default_clock_and_random_work) {
    retry_schedule s(policy, nullptr);
    auto d = fail_429(s);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() >= 0);
    BOOST_TEST(d->count() <= 500);
}

BOOST_AUTO_TEST_SUITE_END()
