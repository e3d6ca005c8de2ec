#define BOOST_TEST_MODULE unit_json_body
// A request body written member by member must be the JSON the DOM would
// have written: every string escaped, whatever it holds.
#include <boost/test/unit_test.hpp>

#include "../../src/client/json_body.hpp"

#include <boost/json/parse.hpp>

#include <string>

namespace json = boost::json;
using chatwire::detail::json_body;

namespace {

std::string every_byte_once() {
    std::string s;
    for (int c = 1; c < 128; ++c) s.push_back(static_cast<char>(c));
    return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(members_round_trip_through_a_parser) {
    const std::string controls(1000, '\x01');  // each becomes \u0001: six times as long
    const std::string quoted = "say \"hi\" \\ back/slash\n\ttab";
    const std::string utf8 = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
    json_body body;
    body.add("plain", "Where is my order?")
        .add("controls", controls)
        .add("quoted", quoted)
        .add("utf8", utf8)
        .add("ascii", every_byte_once())
        .add("empty", std::string_view{})
        .add_bool("yes", true)
        .add_bool("no", false)
        .add_json("meta", R"({"a":[1,2],"b":null})");
    const auto text = std::move(body).take();
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message() << ": " << text.substr(0, 200));
    const auto& o = v.as_object();
    BOOST_TEST(o.size() == 9u);
    BOOST_TEST(o.at("plain").as_string() == "Where is my order?");
    BOOST_TEST(std::string(o.at("controls").as_string()) == controls);
    BOOST_TEST(std::string(o.at("quoted").as_string()) == quoted);
    BOOST_TEST(std::string(o.at("utf8").as_string()) == utf8);
    BOOST_TEST(std::string(o.at("ascii").as_string()) == every_byte_once());
    BOOST_TEST(o.at("empty").as_string().empty());
    BOOST_TEST(o.at("yes").as_bool());
    BOOST_TEST(!o.at("no").as_bool());
    BOOST_TEST(o.at("meta").as_object().at("a").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_empty_body_is_an_empty_object) {
    BOOST_TEST(json_body{}.take() == "{}");
}
