#include <boost/test/unit_test.hpp>

#include <chatwire/retry/policy.hpp>

#include <chrono>
#include <limits>

using namespace std::chrono_literals;
using chatwire::retry_policy;

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(defaults_are_two_retries_from_half_a_second_to_eight) {
    retry_policy p;
    BOOST_TEST(p.max_attempts == 3);
    BOOST_TEST(p.enabled());
    BOOST_TEST(p.base_delay.count() == 500);
    BOOST_TEST(p.max_delay.count() == 8000);
    BOOST_TEST(p.max_hint.count() == 60000);
    BOOST_TEST(!p.retry_ambiguous);
    BOOST_TEST(!retry_policy::none().enabled());
    BOOST_TEST(retry_policy::none().max_attempts == 1);
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_the_cap) {
    retry_policy p;
    const long expected[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
    for (int n = 1; n <= 7; ++n) BOOST_TEST(chatwire::backoff_ceiling(p, n).count() == expected[n - 1], "retry " << n);
    BOOST_TEST(chatwire::backoff_ceiling(p, 1000).count() == 8000);
    BOOST_TEST(chatwire::backoff_ceiling(p, std::numeric_limits<int>::max()).count() == 8000);
}

BOOST_AUTO_TEST_CASE(backoff_never_overflows_or_goes_negative) {
    retry_policy p;
    p.base_delay = std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max() / 3);
    p.max_delay = std::chrono::milliseconds::max();
    for (int n = 1; n < 100; ++n) BOOST_TEST(chatwire::backoff_ceiling(p, n).count() > 0);
    p.base_delay = -5s;
    BOOST_TEST(chatwire::backoff_ceiling(p, 3).count() == 0);
    p.base_delay = 2s;
    p.max_delay = 1s;  // a cap below the base wins
    BOOST_TEST(chatwire::backoff_ceiling(p, 1).count() == 1000);
}

BOOST_AUTO_TEST_SUITE_END()
