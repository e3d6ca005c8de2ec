#include <boost/test/unit_test.hpp>

#include <chatwire/retry/hints.hpp>

#include <chrono>
#include <string>

using namespace std::chrono;
using chatwire::parse_http_date;
using chatwire::parse_retry_after;

namespace {

// Thursday 6 March 2025, 12:00:00 UTC.
const system_clock::time_point now = sys_days(2025y / March / 6) + 12h;

sys_seconds at(year_month_day d, hours h, minutes m, seconds s) { return sys_days(d) + h + m + s; }

} // namespace

BOOST_AUTO_TEST_SUITE(http_date)

BOOST_AUTO_TEST_CASE(all_three_rfc9110_formats) {
    const auto expected = at(1994y / November / 6, 8h, 49min, 37s);
    BOOST_TEST((parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", now) == expected));   // IMF-fixdate
    BOOST_TEST((parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == expected));  // RFC 850
    BOOST_TEST((parse_http_date("Sun Nov  6 08:49:37 1994", now) == expected));        // asctime
}

BOOST_AUTO_TEST_CASE(each_format_as_a_delay) {
    for (std::string v : {"Thu, 06 Mar 2025 12:00:30 GMT", "Thursday, 06-Mar-25 12:00:30 GMT", "Thu Mar  6 12:00:30 2025"}) {
        auto d = parse_retry_after(v, now);
        BOOST_TEST_REQUIRE(d.has_value(), v);
        BOOST_TEST(d->count() == 30000, v);
    }
}

BOOST_AUTO_TEST_CASE(tolerated_variations) {
    const auto expected = at(2025y / March / 6, 12h, 0min, 30s);
    // Case, a weekday that does not match the date, extra spaces, UTC, a four-digit RFC 850 year.
    for (std::string v : {"thu, 06 mar 2025 12:00:30 gmt", "Mon, 06 Mar 2025 12:00:30 GMT", "  Thu,  6 Mar 2025 12:00:30 GMT ",
                          "Thu, 06 Mar 2025 12:00:30 UTC", "Thursday, 06-Mar-2025 12:00:30 GMT", "Thu Mar 06 12:00:30 2025"})
        BOOST_TEST((parse_http_date(v, now) == expected), v);
}

BOOST_AUTO_TEST_CASE(two_digit_years_stay_within_fifty_years) {
    BOOST_TEST((parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == at(1994y / November / 6, 8h, 49min, 37s)));
    BOOST_TEST((parse_http_date("Wednesday, 06-Mar-30 00:00:00 GMT", now) == at(2030y / March / 6, 0h, 0min, 0s)));
    BOOST_TEST((parse_http_date("Friday, 01-Jan-76 00:00:00 GMT", now) == at(1976y / January / 1, 0h, 0min, 0s)));
}

BOOST_AUTO_TEST_CASE(invalid_dates_are_refused) {
    for (std::string v : {"", "tomorrow", "Thu, 32 Mar 2025 12:00:00 GMT", "Sat, 29 Feb 2025 12:00:00 GMT",
                          "Thu, 06 Mar 2025 24:00:00 GMT", "Thu, 06 Mar 2025 12:60:00 GMT", "Thu, 06 Mar 2025 12:00:00 PST",
                          "Thu, 06 Mar 2025 12:00:00", "Thu, 06 Mar 2025 12:00:00 GMT junk", "Thu, 06 Foo 2025 12:00:00 GMT",
                          "Xyz, 06 Mar 2025 12:00:00 GMT", "Thu, 06 Mar 25 12:00:00 GMT", "Thu, 06 Mar 20255 12:00:00 GMT",
                          "Thursday, 06-Mar-202 12:00:00 GMT", "Thu, 006 Mar 2025 12:00:00 GMT", "Thu, 06 Mar 2025 1:00:00 GMT",
                          "Thu Mar  6 12:00:30", "Thu, -6 Mar 2025 12:00:00 GMT", "Thu, 06 Mar 2025 12:00:00 GMT\r\nX: y"})
        BOOST_TEST(!parse_http_date(v, now).has_value(), '"' << v << '"');
}

BOOST_AUTO_TEST_CASE(a_leap_day_and_a_leap_second) {
    BOOST_TEST((parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT", now) == at(2024y / February / 29, 0h, 0min, 0s)));
    BOOST_TEST((parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT", now) == at(2017y / January / 1, 0h, 0min, 0s)));
}

BOOST_AUTO_TEST_CASE(a_date_in_the_past_means_now) {
    auto d = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 0);
    d = parse_retry_after("Thu, 06 Mar 2025 11:59:59 GMT", now);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 0);
}

// system_clock counts nanoseconds in 64 bits, which end in April 2262: a date
// converted through it wrapped, and a far date became "now". It is a long
// wait instead, held at hint_ceiling.
BOOST_AUTO_TEST_CASE(a_date_after_2262_is_a_long_wait) {
    const auto far = parse_http_date("Sat, 01 Jan 2300 00:00:00 GMT", now);
    BOOST_TEST_REQUIRE(far.has_value());  // parsed right, in seconds
    BOOST_TEST((*far == at(2300y / January / 1, 0h, 0min, 0s)));
    for (const char* v : {"Sat, 01 Jan 2300 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
        auto d = parse_retry_after(v, now);
        BOOST_TEST_REQUIRE(d.has_value(), v);
        BOOST_TEST(d->count() == chatwire::hint_ceiling.count(), v);
    }
}

BOOST_AUTO_TEST_CASE(more_than_a_day_ahead_is_kept_as_it_is) {
    auto two = parse_retry_after("Sat, 08 Mar 2025 12:00:00 GMT", now);
    BOOST_TEST_REQUIRE(two.has_value());
    BOOST_TEST(two->count() == 2 * 86400000L);
    auto d = parse_retry_after("Fri, 07 Mar 2025 12:00:00 GMT", now);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 86400000);
}

BOOST_AUTO_TEST_SUITE_END()
