// The providers' error mappers read hints in three steps (headers, body,
// rate-limit headers); together they must keep the parser's precedence.
#include <boost/test/unit_test.hpp>

#include "provider_errors.hpp"

#include <chatwire/retry/hints.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace cd = chatwire::detail;
namespace json = boost::json;

namespace {

// The order the mappers call them in.
chatwire::diagnostics map(const chatwire::http::fields& h, const json::value* body_retry_after) {
    chatwire::diagnostics diag;
    cd::note_retry_after(h, diag);
    if (body_retry_after) cd::note_body_retry_after(*body_retry_after, diag);
    cd::note_ratelimit_reset(h, diag);
    return diag;
}

std::string unix_in(std::chrono::seconds s) {
    using namespace std::chrono;
    return std::to_string(duration_cast<seconds>((system_clock::now() + s).time_since_epoch()).count());
}

} // namespace

BOOST_AUTO_TEST_SUITE(provider_hints)

BOOST_AUTO_TEST_CASE(header_then_body_then_ratelimit) {
    chatwire::http::fields h;
    h.set("X-RateLimit-Reset", unix_in(std::chrono::seconds(30)));
    const json::value body = 60;
    auto d = map(h, &body);
    BOOST_TEST_REQUIRE(d.retry_after.has_value());
    BOOST_TEST(d.retry_after->count() == 60000);  // PollyBot's retryAfter beats X-RateLimit-Reset
    h.set(chatwire::http::field::retry_after, "7");
    d = map(h, &body);
    BOOST_TEST_REQUIRE(d.retry_after.has_value());
    BOOST_TEST(d.retry_after->count() == 7000);
    h.set("retry-after-ms", "250");
    d = map(h, &body);
    BOOST_TEST_REQUIRE(d.retry_after.has_value());
    BOOST_TEST(d.retry_after->count() == 250);
    d = map(chatwire::http::fields{}, nullptr);
    BOOST_TEST(!d.retry_after.has_value());
}

BOOST_AUTO_TEST_CASE(only_ratelimit_reset) {
    chatwire::http::fields h;
    h.set("X-RateLimit-Reset", unix_in(std::chrono::seconds(30)));
    auto d = map(h, nullptr);
    BOOST_TEST_REQUIRE(d.retry_after.has_value());
    BOOST_TEST(d.retry_after->count() > 28000);
    BOOST_TEST(d.retry_after->count() <= 30000);
}

// Held at the ceiling, never dropped: the call then ends at once as
// rate_limited instead of retrying as if there were no hint.
BOOST_AUTO_TEST_CASE(absurd_values_are_long_hints) {
    chatwire::http::fields h;
    h.set(chatwire::http::field::retry_after, "Sat, 01 Jan 2300 00:00:00 GMT");
    const json::value body = std::numeric_limits<std::int64_t>::max();
    auto d = map(h, &body);
    BOOST_TEST_REQUIRE(d.retry_after.has_value());
    BOOST_TEST(d.retry_after->count() == chatwire::hint_ceiling.count());
    d = map(chatwire::http::fields{}, &body);
    BOOST_TEST_REQUIRE(d.retry_after.has_value());
    BOOST_TEST(d.retry_after->count() == chatwire::hint_ceiling.count());
}

BOOST_AUTO_TEST_SUITE_END()
