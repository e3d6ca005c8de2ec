// The clients' text encodings, without a socket.
#include <boost/test/unit_test.hpp>

#include "../../src/client/encoding.hpp"

#include <string>

namespace cd = chatwire::detail;

BOOST_AUTO_TEST_CASE(a_segment_keeps_unreserved_bytes_and_encodes_the_rest) {
    BOOST_TEST(cd::encode_segment("bot-1_a.b~C9") == "bot-1_a.b~C9");
    BOOST_TEST(cd::encode_segment("a/b?c#d e") == "a%2Fb%3Fc%23d%20e");
    BOOST_TEST(cd::encode_segment("%") == "%25");
    BOOST_TEST(cd::encode_segment(std::string("\0\xff", 2)) == "%00%FF");
    BOOST_TEST(cd::encode_segment("\xc3\xa9") == "%C3%A9");  // UTF-8 bytes one by one
    BOOST_TEST(cd::encode_segment("") == "");
}

BOOST_AUTO_TEST_CASE(dot_segments_never_become_path_steps) {
    BOOST_TEST(cd::encode_segment(".") == "%2E");
    BOOST_TEST(cd::encode_segment("..") == "%2E%2E");
    BOOST_TEST(cd::encode_segment("...") == "...");
    BOOST_TEST(cd::encode_segment("../x") == "..%2Fx");
}

BOOST_AUTO_TEST_CASE(a_query_value_encodes_its_delimiters) {
    BOOST_TEST(cd::encode_query("a&b=c+d") == "a%26b%3Dc%2Bd");
    BOOST_TEST(cd::encode_query("..") == "..");  // no path step in a query
}

BOOST_AUTO_TEST_CASE(base64_pads_to_whole_quads) {
    // RFC 4648 §10's test vectors.
    BOOST_TEST(cd::base64("") == "");
    BOOST_TEST(cd::base64("f") == "Zg==");
    BOOST_TEST(cd::base64("fo") == "Zm8=");
    BOOST_TEST(cd::base64("foo") == "Zm9v");
    BOOST_TEST(cd::base64("foob") == "Zm9vYg==");
    BOOST_TEST(cd::base64("fooba") == "Zm9vYmE=");
    BOOST_TEST(cd::base64("foobar") == "Zm9vYmFy");
    BOOST_TEST(cd::base64(std::string("\xff\xfe\x00", 3)) == "//4A");
}
