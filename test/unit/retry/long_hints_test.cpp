// Hints that parse but ask for longer than the policy's max_hint, up to
// values no integer type holds: each is a long wait (held at hint_ceiling),
// and the schedule ends the call at once with errc::rate_limited, instead of
// retrying as if the server had given no hint. Only what does not parse is
// ignored.
#include <boost/test/unit_test.hpp>

#include "fakes.hpp"
#include "provider_errors.hpp"

#include <chatwire/retry/hints.hpp>
#include <chatwire/retry/pacing.hpp>
#include <chatwire/retry/schedule.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace std::chrono;
using chatwire::errc;
using chatwire::hint_ceiling;
namespace json = boost::json;
namespace cd = chatwire::detail;

namespace {

const system_clock::time_point now = sys_days(2025y / March / 6) + 12h;
const std::int64_t now_unix = duration_cast<seconds>(now.time_since_epoch()).count();

// What a 429 with these headers and body ends with after the first attempt,
// under the default policy (3 attempts, max_hint 60 s), as the client runs it:
// the mappers' three steps, then the schedule.
struct outcome {
    std::optional<milliseconds> hint;
    std::optional<milliseconds> delay;
    chatwire::error_code ec;
    chatwire::retry_reason reason;
};

outcome first_429(const chatwire::http::fields& h, const json::value* body_retry_after = nullptr) {
    chatwire::diagnostics diag;
    diag.http_status = 429;
    cd::note_retry_after(h, diag);
    if (body_retry_after) cd::note_body_retry_after(*body_retry_after, diag);
    cd::note_ratelimit_reset(h, diag);
    chatwire::failure_info info;
    info.request_written = info.response_started = true;
    info.hint = diag.retry_after;
    chatwire::test::fake_clock clock;
    chatwire::test::fake_random random;
    chatwire::retry_schedule s(chatwire::retry_policy{}, static_cast<chatwire::retry_budget*>(nullptr),
                               chatwire::retry_schedule::clock::time_point::max(), clock.fn(), random.fn());
    outcome o;
    o.ec = errc::rate_limited;
    o.hint = info.hint;
    o.delay = s.next_delay(o.ec, info, diag);
    o.reason = s.last_reason();
    return o;
}

chatwire::http::fields one(std::string_view name, std::string_view value) {
    chatwire::http::fields h;
    h.set(name, value);
    return h;
}

void expect_fail_fast(const outcome& o, const std::string& what) {
    BOOST_TEST(o.hint.has_value(), what << ": the hint was dropped");
    BOOST_TEST(!o.delay.has_value(), what << ": retried after " << o.delay.value_or(0ms).count() << " ms");
    BOOST_TEST(o.ec == chatwire::error_code(errc::rate_limited), what);
    BOOST_TEST((o.reason == chatwire::retry_reason::hint_too_long), what << ": " << o.reason);
}

std::optional<std::int64_t> ms(std::optional<milliseconds> d) {
    if (!d) return std::nullopt;
    return d->count();
}

} // namespace

BOOST_AUTO_TEST_SUITE(long_hints)

BOOST_AUTO_TEST_CASE(huge_seconds_are_held_at_the_ceiling) {
    BOOST_TEST((ms(chatwire::parse_retry_after("1000000000", now)) == 1000000000LL * 1000));
    for (const std::string& v : std::vector<std::string>{"86401", "9223372036854775807", "18446744073709551616", "99999999999999999999999",
                          std::string(400, '9'), std::string(330, '1') + ".5"}) {
        auto d = chatwire::parse_retry_after(v, now);
        BOOST_TEST_REQUIRE(d.has_value(), v.substr(0, 30));
        BOOST_TEST(d->count() > 86400000, v.substr(0, 30));
        BOOST_TEST(d->count() <= hint_ceiling.count(), v.substr(0, 30));
    }
    BOOST_TEST((ms(chatwire::parse_retry_after(std::string(400, '9'), now)) == hint_ceiling.count()));
}

// Seconds that overflow int64 milliseconds (2^63 ms is 9.2e15 s), or int64
// itself, are a long wait, not a wrapped negative or small one.
BOOST_AUTO_TEST_CASE(overflow_of_int64_milliseconds) {
    BOOST_TEST((ms(chatwire::parse_retry_after("9223372036854776", now)) == hint_ceiling.count()));
    BOOST_TEST((ms(chatwire::parse_retry_after_ms("9223372036854775808")) == hint_ceiling.count()));
    BOOST_TEST((ms(chatwire::parse_json_retry_after(json::value(std::numeric_limits<std::int64_t>::max()))) ==
                hint_ceiling.count()));
    BOOST_TEST((ms(chatwire::parse_json_retry_after(json::value(std::numeric_limits<std::uint64_t>::max()))) ==
                hint_ceiling.count()));
    BOOST_TEST((ms(chatwire::parse_json_retry_after(json::value(1e300))) == hint_ceiling.count()));
    BOOST_TEST((ms(chatwire::parse_json_retry_after(json::value(std::numeric_limits<double>::infinity()))) ==
                hint_ceiling.count()));
    expect_fail_fast(first_429(one("Retry-After", "9223372036854775808")), "Retry-After 2^63");
    expect_fail_fast(first_429(one("retry-after-ms", "18446744073709551616")), "retry-after-ms 2^64");
}

BOOST_AUTO_TEST_CASE(http_dates_far_in_the_future) {
    for (std::string v : {"Sat, 01 Jan 2300 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                          "Friday, 31-Dec-9999 23:59:59 GMT", "Fri Dec 31 23:59:59 9999",
                          "Sat, 08 Mar 2025 12:00:00 GMT"}) {
        auto d = chatwire::parse_retry_after(v, now);
        BOOST_TEST_REQUIRE(d.has_value(), v);
        BOOST_TEST(d->count() > 86400000, v);
        // Through the client's steps, on the wall clock: 2025 has passed there.
        if (v.find("2025") == std::string::npos) expect_fail_fast(first_429(one("Retry-After", v)), "Retry-After " + v);
    }
    BOOST_TEST((ms(chatwire::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now)) == hint_ceiling.count()));
}

// Negative values do not parse as a delay: ignored, and the usual backoff
// applies. A date in the past is "now".
BOOST_AUTO_TEST_CASE(negative_values_are_no_hint_and_past_dates_are_now) {
    for (std::string v : {"-1", "-1000000000", "-9223372036854775808"}) {
        BOOST_TEST(!chatwire::parse_retry_after(v, now).has_value(), v);
        BOOST_TEST(!chatwire::parse_retry_after_ms(v).has_value(), v);
        BOOST_TEST(!chatwire::parse_ratelimit_reset(v, now).has_value(), v);
        auto o = first_429(one("Retry-After", v));
        BOOST_TEST(!o.hint.has_value(), v);
        BOOST_TEST(o.delay.has_value(), v);  // retried after the backoff
    }
    BOOST_TEST(!chatwire::parse_json_retry_after(json::value(-1)).has_value());
    BOOST_TEST(!chatwire::parse_json_retry_after(json::value(std::numeric_limits<std::int64_t>::min())).has_value());
    BOOST_TEST(!chatwire::parse_json_retry_after(json::value(-1e300)).has_value());
    BOOST_TEST(!chatwire::parse_json_retry_after(json::value(std::numeric_limits<double>::quiet_NaN())).has_value());
    BOOST_TEST((ms(chatwire::parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now)) == 0));
}

BOOST_AUTO_TEST_CASE(json_retry_after_huge) {
    for (json::value v : {json::value(1000000000), json::value(86401), json::value(1e18),
                          json::value(std::numeric_limits<std::int64_t>::max()),
                          json::value(std::numeric_limits<std::uint64_t>::max()), json::value("1000000000"),
                          json::value(std::string(400, '9'))}) {
        expect_fail_fast(first_429({}, &v), "retryAfter " + json::serialize(v).substr(0, 30));
    }
    const json::value fine = 2;
    auto o = first_429({}, &fine);
    BOOST_TEST(o.delay.has_value());  // a short one is waited for
}

BOOST_AUTO_TEST_CASE(x_ratelimit_reset_huge) {
    for (const std::string& v : std::vector<std::string>{std::to_string(now_unix + 2 * 86400), "253402300800", "9223372036854775807",
                          "18446744073709551616", std::string(400, '9'), "999999999"}) {
        auto d = chatwire::parse_ratelimit_reset(v, now);
        BOOST_TEST_REQUIRE(d.has_value(), v.substr(0, 30));
        BOOST_TEST(d->count() > 60000, v.substr(0, 30));
    }
    // Through the client's steps (wall clock): a reset a year ahead, or after
    // year 9999, ends the call at once.
    const auto year_ahead =
        duration_cast<seconds>((system_clock::now() + hours(24 * 365)).time_since_epoch()).count();
    expect_fail_fast(first_429(one("X-RateLimit-Reset", std::to_string(year_ahead))), "X-RateLimit-Reset a year on");
    expect_fail_fast(first_429(one("X-RateLimit-Reset", "18446744073709551616")), "X-RateLimit-Reset 2^64");
    expect_fail_fast(first_429(one("RateLimit", "\"q\";r=0;t=1000000000")), "RateLimit t=1e9");
    expect_fail_fast(first_429(one("RateLimit-Reset", std::string(400, '9'))), "RateLimit-Reset 400 digits");
    // Pacing reads the same header: a window that resets that far off
    // refuses the next request instead of letting it go.
    chatwire::http::fields h = one("X-RateLimit-Reset", "18446744073709551616");
    h.set("X-RateLimit-Remaining", "0");
    auto w = chatwire::read_rate_window(h, now);
    BOOST_TEST_REQUIRE(w.has_value());
    chatwire::retry_policy huge_max;
    huge_max.max_hint = hours(24 * 365 * 1000);
    BOOST_TEST((chatwire::pace(w, now, steady_clock::duration::max(), huge_max).action ==
                chatwire::pacing_action::refuse));
}

// The policy's max_hint decides below a day; beyond a day nothing is waited
// for, whatever max_hint says.
BOOST_AUTO_TEST_CASE(the_policy_decides_up_to_a_day) {
    chatwire::test::fake_clock clock;
    chatwire::test::fake_random random;
    chatwire::retry_policy patient;
    patient.max_hint = hours(24 * 365);
    for (auto [hint, retried] : {std::pair{hours(2), true}, std::pair{hours(25), false}}) {
        chatwire::retry_schedule s(patient, static_cast<chatwire::retry_budget*>(nullptr),
                                   chatwire::retry_schedule::clock::time_point::max(), clock.fn(), random.fn());
        chatwire::diagnostics diag;
        diag.http_status = 429;
        chatwire::failure_info info;
        info.request_written = info.response_started = true;
        info.hint = hint;
        chatwire::error_code ec = errc::rate_limited;
        auto d = s.next_delay(ec, info, diag);
        BOOST_TEST(d.has_value() == retried, hint.count() << " h");
        if (!retried) BOOST_TEST(ec == chatwire::error_code(errc::rate_limited));
    }
}

BOOST_AUTO_TEST_SUITE_END()
