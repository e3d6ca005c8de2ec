#define BOOST_TEST_MODULE unit_cli
#include <boost/test/unit_test.hpp>

#include "terminal.hpp"

#include <string>

using chatwire::cli::escape_for_terminal;
using chatwire::cli::line_breaks;
using chatwire::cli::terminal_escaper;
using chatwire::cli::valid_utf8;

namespace {
const std::string fffd = "\xEF\xBF\xBD";
}

BOOST_AUTO_TEST_CASE(plain_text_and_utf8_pass_unchanged) {
    BOOST_TEST(escape_for_terminal("hello, world") == "hello, world");
    BOOST_TEST(escape_for_terminal("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    BOOST_TEST(escape_for_terminal("a\\x1b") == "a\\x1b");  // text that looks like an escape is text
}

BOOST_AUTO_TEST_CASE(c0_controls_and_del_are_escaped) {
    BOOST_TEST(escape_for_terminal("\x1b]0;pwned\x07\nforged line") == "\\x1b]0;pwned\\x07\\x0aforged line");
    BOOST_TEST(escape_for_terminal("a\rb\tc\x7f") == "a\\x0db\\x09c\\x7f");
    BOOST_TEST(escape_for_terminal(std::string("nul\0!", 5)) == "nul\\x00!");
}

BOOST_AUTO_TEST_CASE(reply_text_keeps_newlines_and_tabs) {
    BOOST_TEST(escape_for_terminal("one\n\ttwo\r\x1b[2J", line_breaks::keep) == "one\n\ttwo\\x0d\\x1b[2J");
}

BOOST_AUTO_TEST_CASE(c1_controls_are_escaped) {
    // U+009B is CSI on terminals that honour 8-bit controls.
    BOOST_TEST(escape_for_terminal("x\xC2\x9B" "31mred\xC2\x85") == "x\\u009b31mred\\u0085");
    BOOST_TEST(escape_for_terminal("\xC2\xA0") == "\xC2\xA0");  // U+00A0 is printable
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced) {
    BOOST_TEST(escape_for_terminal("a\x9B" "b") == "a" + fffd + "b");        // raw 8-bit CSI byte
    BOOST_TEST(escape_for_terminal("\xC0\x9B") == fffd + fffd);              // overlong form
    BOOST_TEST(escape_for_terminal("\xED\xA0\x80") == fffd + fffd + fffd);   // a surrogate
    BOOST_TEST(escape_for_terminal("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // past U+10FFFF
    BOOST_TEST(escape_for_terminal("\xE2\x82" "x") == fffd + "x");           // broken, then ASCII
    BOOST_TEST(escape_for_terminal("end\xE2\x82") == "end" + fffd);          // cut at the end
    BOOST_TEST(escape_for_terminal("\xFF\xFE") == fffd + fffd);
}

BOOST_AUTO_TEST_CASE(valid_utf8_keeps_controls) {
    BOOST_TEST(valid_utf8("a\x1b\n\xC2\x9B\xFF") == "a\x1b\n\xC2\x9B" + fffd);
}

BOOST_AUTO_TEST_CASE(streamed_pieces_may_split_a_character) {
    terminal_escaper e;
    std::string out = e.feed("caf\xC3");
    BOOST_TEST(out == "caf");
    out += e.feed("\xA9 \xF0\x9F");
    out += e.feed("\x98");
    out += e.feed("\x80\n\x1b[31m");
    out += e.finish();
    BOOST_TEST(out == "caf\xC3\xA9 \xF0\x9F\x98\x80\n\\x1b[31m");
    // A C1 control split in two is still caught.
    out = e.feed("\xC2");
    out += e.feed("\x9B");
    BOOST_TEST(out == "\\u009b");
    // An incomplete sequence left at the end is replaced, not dropped.
    BOOST_TEST(e.feed("\xE2\x82") == "");
    BOOST_TEST(e.finish() == fffd);
    BOOST_TEST(e.finish() == "");
}

BOOST_AUTO_TEST_CASE(json_output_escapes_del_and_c1_controls) {
    using chatwire::cli::escape_json_controls;
    // What Boost.JSON leaves raw: DEL and U+0080..U+009F (CSI is U+009B).
    BOOST_TEST(escape_json_controls("{\"text\":\"x\xC2\x9B" "2J\x7f\xC2\x80\xC2\x9F\"}") ==
               "{\"text\":\"x\\u009b2J\\u007f\\u0080\\u009f\"}");
    // Printable characters next to them pass: U+00A0, U+00E9, U+20AC.
    BOOST_TEST(escape_json_controls("\"\xC2\xA0\xC3\xA9\xE2\x82\xAC\\u001b\"") == "\"\xC2\xA0\xC3\xA9\xE2\x82\xAC\\u001b\"");
}
