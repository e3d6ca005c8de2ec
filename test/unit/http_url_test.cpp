#include <boost/test/unit_test.hpp>

#include <chatwire/http/origin.hpp>

using chatwire::errc;
using chatwire::error_code;
using chatwire::http::parse_url;

BOOST_AUTO_TEST_CASE(parses_origins_and_targets) {
    error_code ec;
    auto u = parse_url("https://api.vectorshift.ai/v1/chatbot/abc/run?x=1&y=%2F", ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(u.origin.tls);
    BOOST_TEST(u.origin.host == "api.vectorshift.ai");
    BOOST_TEST(u.origin.port == 443);
    BOOST_TEST(!u.origin.host_is_ip);
    BOOST_TEST(u.target == "/v1/chatbot/abc/run?x=1&y=%2F");
    BOOST_TEST(u.origin.host_header() == "api.vectorshift.ai");
    BOOST_TEST(u.origin.key() == "https://api.vectorshift.ai:443");

    u = parse_url("http://127.0.0.1:8080", ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(!u.origin.tls);
    BOOST_TEST(u.origin.host_is_ip);
    BOOST_TEST(u.origin.port == 8080);
    BOOST_TEST(u.target == "/");
    BOOST_TEST(u.origin.host_header() == "127.0.0.1:8080");

    u = parse_url("https://[::1]:8443/a", ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(u.origin.host == "::1");
    BOOST_TEST(u.origin.host_header() == "[::1]:8443");
}

BOOST_AUTO_TEST_CASE(rejects_what_a_client_must_not_send) {
    for (auto bad : {"ftp://host/x", "https://user:pw@host/x", "https://host/x#frag", "/relative",
                     "https://host:0/", "https://host:99999/", "https:///path", ""}) {
        error_code ec;
        parse_url(bad, ec);
        BOOST_TEST(ec == error_code(errc::invalid_url), bad);
    }
}
