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

// Boost.URL 1.81 alone reads these as the IPv4 host 127.0.0.1 with the rest
// of the authority as the path: the request (and its key) would go to
// 127.0.0.1 on the scheme's default port.
BOOST_AUTO_TEST_CASE(a_dotted_quad_prefix_is_part_of_a_host_name) {
    error_code ec;
    auto u = parse_url("http://127.0.0.1.attacker.invalid:18099", ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(u.origin.host == "127.0.0.1.attacker.invalid");
    BOOST_TEST(!u.origin.host_is_ip);
    BOOST_TEST(u.origin.port == 18099);
    BOOST_TEST(u.target == "/");
    BOOST_TEST(!u.origin.is_loopback());

    u = parse_url("https://127.0.0.1.attacker.invalid/api/v1?x=1", ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(u.origin.host == "127.0.0.1.attacker.invalid");
    BOOST_TEST(!u.origin.host_is_ip);
    BOOST_TEST(u.origin.port == 443);
    BOOST_TEST(u.target == "/api/v1?x=1");

    u = parse_url("HTTP://127.0.0.1:8080?q", ec);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST(u.origin.host_is_ip);
    BOOST_TEST(u.origin.host == "127.0.0.1");
    BOOST_TEST(u.target == "/?q");
}

BOOST_AUTO_TEST_CASE(rejects_authorities_that_are_not_host_and_port) {
    for (auto bad : {"http://127.0.0.1:80:81/", "http://127.0.0.1:/x", "http://127.0.0.1%2e.x/", "http://a b/",
                     "http://[::1/", "http://[::1]x/", "http://[::1]:/", "http://[fe80::1%25eth0]/",
                     "http://127.0.0.1\\@x/", "http://x/a b", "http://x:8080x/", "https://:443/"}) {
        error_code ec;
        parse_url(bad, ec);
        BOOST_TEST(ec == error_code(errc::invalid_url), bad);
    }
}

BOOST_AUTO_TEST_CASE(loopback_is_decided_from_the_parsed_host) {
    error_code ec;
    for (auto [url, loopback] : {std::pair{"http://127.0.0.1:1", true}, {"http://127.9.8.7", true},
                                 {"http://[::1]:8", true}, {"http://localhost:8", true}, {"http://LOCALHOST", true},
                                 {"http://127.attacker.invalid", false}, {"http://localhost.attacker.invalid", false},
                                 {"http://127.0.0.1.attacker.invalid", false}}) {
        auto u = parse_url(url, ec);
        BOOST_TEST_REQUIRE(!ec, url);
        BOOST_TEST(u.origin.is_loopback() == loopback, url);
    }
}
