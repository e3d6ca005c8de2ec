#include <boost/test/unit_test.hpp>

#include <chatwire/retry/hints.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

using namespace std::chrono;
using chatwire::hint_source;
namespace json = boost::json;

namespace {

const system_clock::time_point now = sys_days(2025y / March / 6) + 12h;
const std::int64_t now_unix = duration_cast<seconds>(now.time_since_epoch()).count();

std::optional<long> ms(std::optional<milliseconds> d) {
    if (!d) return std::nullopt;
    return d->count();
}

} // namespace

BOOST_AUTO_TEST_SUITE(hints)

BOOST_AUTO_TEST_CASE(retry_after_delay_seconds) {
    BOOST_TEST((ms(chatwire::parse_retry_after("120", now)) == 120000));
    BOOST_TEST((ms(chatwire::parse_retry_after("0", now)) == 0));
    BOOST_TEST((ms(chatwire::parse_retry_after(" 7 ", now)) == 7000));
    BOOST_TEST((ms(chatwire::parse_retry_after("1.5", now)) == 1500));
    BOOST_TEST((ms(chatwire::parse_retry_after("86400", now)) == 86400000));
    BOOST_TEST((ms(chatwire::parse_retry_after("86401", now)) == 86401000));
    for (std::string v : {"", " ", "-5", "+5", "1e3", "12abc", "0x10", "1.", ".5", "inf", "nan", "5 5"})
        BOOST_TEST(!chatwire::parse_retry_after(v, now).has_value(), '"' << v << '"');
}

BOOST_AUTO_TEST_CASE(retry_after_ms) {
    BOOST_TEST((ms(chatwire::parse_retry_after_ms("1500")) == 1500));
    BOOST_TEST((ms(chatwire::parse_retry_after_ms("2.1")) == 3));  // rounded up: never earlier than asked
    BOOST_TEST((ms(chatwire::parse_retry_after_ms("0")) == 0));
    BOOST_TEST((ms(chatwire::parse_retry_after_ms("86400001")) == 86400001));
    for (std::string v : {"-1", "abc", "1e400"}) BOOST_TEST(!chatwire::parse_retry_after_ms(v).has_value(), v);
}

BOOST_AUTO_TEST_CASE(json_retry_after) {
    auto parse = [](std::string_view text) { return ms(chatwire::parse_json_retry_after(json::parse(text))); };
    BOOST_TEST((parse("60") == 60000));
    BOOST_TEST((parse("0") == 0));
    BOOST_TEST((parse("1.5") == 1500));
    BOOST_TEST((parse("\"30\"") == 30000));
    BOOST_TEST((parse("86401") == 86401000));
    for (std::string v : {"-1", "-0.5", "true", "null", "\"soon\"", "\"-3\"", "[]", "{}"})
        BOOST_TEST(!parse(v).has_value(), v);
}

BOOST_AUTO_TEST_CASE(x_ratelimit_reset_epoch_or_delay) {
    BOOST_TEST((ms(chatwire::parse_ratelimit_reset(std::to_string(now_unix + 30), now)) == 30000));
    BOOST_TEST((ms(chatwire::parse_ratelimit_reset("45", now)) == 45000));
    BOOST_TEST((ms(chatwire::parse_ratelimit_reset(std::to_string(now_unix - 3600), now)) == 0));  // past: now
    BOOST_TEST((ms(chatwire::parse_ratelimit_reset("1000000000", now)) == 0));                      // 2001
    BOOST_TEST((ms(chatwire::parse_ratelimit_reset(std::to_string(now_unix + 2 * 86400), now)) == 2 * 86400000L));
    for (std::string v : {"", "-1", "soon", "1e10"}) BOOST_TEST(!chatwire::parse_ratelimit_reset(v, now).has_value(), v);
}

BOOST_AUTO_TEST_CASE(ietf_ratelimit_field) {
    BOOST_TEST((ms(chatwire::parse_ratelimit("\"default\";r=0;t=30")) == 30000));
    BOOST_TEST((ms(chatwire::parse_ratelimit("limit=100, remaining=0, reset=50")) == 50000));  // the earlier drafts
    // Of several policies, the exhausted one tells when a request may pass.
    BOOST_TEST((ms(chatwire::parse_ratelimit("\"burst\";r=5;t=1, \"hour\";r=0;t=600")) == 600000));
    BOOST_TEST((ms(chatwire::parse_ratelimit("\"a\";r=3;t=10, \"b\";r=2;t=20")) == 20000));
    BOOST_TEST((ms(chatwire::parse_ratelimit("\"x;y,z\";r=0;t=5")) == 5000));  // separators inside a quoted name
    BOOST_TEST((ms(chatwire::parse_ratelimit("\"a\";t=90000")) == 90000000));
    for (std::string v : {"", "\"a\";r=0", "\"a\";t=soon", "\"a\";t=-1", "\"a\";t=5, \"b\";t=x"})
        BOOST_TEST(!chatwire::parse_ratelimit(v).has_value(), v);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hint_precedence)

namespace {

struct all_hints {
    chatwire::http::fields h;
    json::value body = 40;  // PollyBot's retryAfter
    all_hints() {
        h.set("retry-after-ms", "1500");
        h.set(chatwire::http::field::retry_after, "20");
        h.set("RateLimit", "\"default\";r=0;t=50");
        h.set("RateLimit-Reset", "55");
        h.set("X-RateLimit-Reset", std::to_string(now_unix + 60));
    }
    std::optional<chatwire::server_hint> find(bool with_body = true) const {
        return chatwire::find_server_hint(h, with_body ? &body : nullptr, now);
    }
};

void expect(const std::optional<chatwire::server_hint>& got, long ms, hint_source from) {
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(got->delay.count() == ms);
    BOOST_TEST(static_cast<int>(got->source) == static_cast<int>(from));
}

} // namespace

BOOST_AUTO_TEST_CASE(each_source_alone) {
    auto only = [](std::string_view name, std::string_view value) {
        chatwire::http::fields h;
        h.set(name, value);
        return chatwire::find_server_hint(h, nullptr, now);
    };
    expect(only("retry-after-ms", "1500"), 1500, hint_source::retry_after_ms);
    expect(only("Retry-After", "20"), 20000, hint_source::retry_after);
    expect(only("retry-after", "Thu, 06 Mar 2025 12:00:25 GMT"), 25000, hint_source::retry_after);
    expect(only("RateLimit", "\"default\";r=0;t=50"), 50000, hint_source::ratelimit);
    expect(only("RateLimit-Reset", "55"), 55000, hint_source::ratelimit);
    expect(only("x-ratelimit-reset", std::to_string(now_unix + 60)), 60000, hint_source::x_ratelimit_reset);
    const json::value body = 40;
    expect(chatwire::find_server_hint({}, &body, now), 40000, hint_source::body_retry_after);
    BOOST_TEST(!chatwire::find_server_hint({}, nullptr, now).has_value());
}

BOOST_AUTO_TEST_CASE(together_the_most_specific_wins) {
    all_hints a;
    expect(a.find(), 1500, hint_source::retry_after_ms);
    a.h.erase("retry-after-ms");
    expect(a.find(), 20000, hint_source::retry_after);
    a.h.erase(chatwire::http::field::retry_after);
    expect(a.find(), 40000, hint_source::body_retry_after);
    expect(a.find(false), 50000, hint_source::ratelimit);
    a.h.erase("RateLimit");
    expect(a.find(false), 55000, hint_source::ratelimit);
    a.h.erase("RateLimit-Reset");
    expect(a.find(false), 60000, hint_source::x_ratelimit_reset);
}

BOOST_AUTO_TEST_CASE(garbage_falls_through_to_the_next_source) {
    all_hints a;
    a.h.set("retry-after-ms", "-3");
    a.h.set(chatwire::http::field::retry_after, "Thu, 06 Mar 20300 12:00:00 GMT");
    a.body = "forever";
    a.h.set("RateLimit", "\"default\";r=0;t=forever");
    a.h.set("RateLimit-Reset", "-1");
    expect(a.find(), 60000, hint_source::x_ratelimit_reset);
    a.h.set("X-RateLimit-Reset", "soon");
    BOOST_TEST(!a.find().has_value());
}

// A hint that parses is the server's word, however long: it is held at the
// ceiling, not skipped for a less specific source nor dropped.
BOOST_AUTO_TEST_CASE(a_long_hint_wins_over_less_specific_sources) {
    all_hints a;
    a.h.set("retry-after-ms", "99999999999999999999999");
    expect(a.find(), chatwire::hint_ceiling.count(), hint_source::retry_after_ms);
    a.h.erase("retry-after-ms");
    a.h.set(chatwire::http::field::retry_after, "Thu, 06 Mar 2300 12:00:00 GMT");
    expect(a.find(), chatwire::hint_ceiling.count(), hint_source::retry_after);
    a.h.erase(chatwire::http::field::retry_after);
    a.body = std::numeric_limits<std::int64_t>::max();
    expect(a.find(), chatwire::hint_ceiling.count(), hint_source::body_retry_after);
    expect(a.find(false), 50000, hint_source::ratelimit);
    a.h.erase("RateLimit");
    a.h.erase("RateLimit-Reset");
    a.h.set("X-RateLimit-Reset", "18446744073709551616");
    expect(a.find(false), chatwire::hint_ceiling.count(), hint_source::x_ratelimit_reset);
}

BOOST_AUTO_TEST_SUITE_END()
