#define BOOST_TEST_MODULE unit_core
#include <boost/test/unit_test.hpp>

#include <chatwire/version.hpp>

#include <regex>
#include <string>

BOOST_AUTO_TEST_CASE(version_is_semver) {
    const std::string v(chatwire::version());
    BOOST_TEST(std::regex_match(v, std::regex(R"(\d+\.\d+\.\d+)")), v);
}
