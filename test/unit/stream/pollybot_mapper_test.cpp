#include <boost/test/unit_test.hpp>

#include "mapper_helpers.hpp"

#include <chatwire/stream/pollybot_mapper.hpp>

using namespace chatwire::stream;
using namespace chatwire::stream::test;
using chatwire::errc;
using chatwire::error_code;
using strings = std::vector<std::string>;

namespace {

// The shape WIRE.md chooses for PollyBot's stream.
const std::string reply =
    "data: {\"type\":\"start\",\"conversationId\":\"cm5abc123xyz456\"}\n\n"
    "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n"
    "data: {\"type\":\"token\",\"content\":\", \\\"J\xC3\xBCrgen\\\"\"}\n\n"
    "data: {\"type\":\"token\",\"content\":\" \\\\ \xE6\x97\xA5\xE6\x9C\xAC\\n\xF0\x9F\x91\x8B\"}\n\n"
    "data: {\"type\":\"done\",\"data\":{\"response\":\"Hello, \\\"J\xC3\xBCrgen\\\" \\\\ \xE6\x97\xA5\xE6\x9C\xAC\\n\xF0\x9F\x91\x8B\","
    "\"conversationId\":\"cm5abc123xyz456\",\"messageId\":\"msg_77\"}}\n\n"
    "data: [DONE]\n\n";

const std::string reply_text = "Hello, \"J\xC3\xBCrgen\" \\ \xE6\x97\xA5\xE6\x9C\xAC\n\xF0\x9F\x91\x8B";

} // namespace

BOOST_AUTO_TEST_SUITE(pollybot_mapping)

BOOST_AUTO_TEST_CASE(a_whole_reply_in_any_split) {
    for (std::size_t cut = 0; cut <= reply.size(); ++cut) {
        pollybot_mapper mapper;
        const mapped_stream s = map_sse(mapper, split_at(reply, {cut}));
        BOOST_TEST_CONTEXT("cut at " << cut) {
            BOOST_TEST(!s.error);
            BOOST_TEST(kinds_of(s) == (strings{"begin", "token", "token", "token", "result", "done"}), boost::test_tools::per_element());
            BOOST_TEST(s.text_so_far == reply_text);
            BOOST_TEST(s.terminal_seen);
        }
    }
    pollybot_mapper mapper;
    const mapped_stream s = map_sse(mapper, bytes_of(reply));
    BOOST_REQUIRE_EQUAL(s.events.size(), 6u);
    BOOST_TEST(s.events[0].conversation_id == "cm5abc123xyz456");
    BOOST_TEST(s.events[4].text == reply_text);
    BOOST_TEST(s.events[4].conversation_id == "cm5abc123xyz456");
    BOOST_TEST(s.events[4].id == "msg_77");
}

BOOST_AUTO_TEST_CASE(error_after_headers_is_a_stream_error) {
    pollybot_mapper mapper;
    const mapped_stream s = map_sse(mapper, {"data: {\"type\":\"start\",\"conversationId\":\"c\"}\n\n"
                                             "data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n"
                                             "data: {\"type\":\"error\",\"error\":\"Insufficient credits\",\"code\":\"INSUFFICIENT_CREDITS\"}\n\n"});
    BOOST_TEST(s.error == error_code(errc::stream_error));
    BOOST_TEST(s.diag.provider_code == "INSUFFICIENT_CREDITS");
    BOOST_TEST(s.diag.provider_message == "Insufficient credits");
    BOOST_TEST(s.events.back().error_code == "INSUFFICIENT_CREDITS");
    BOOST_TEST(s.text_so_far == "Hi");
    BOOST_TEST(!s.terminal_seen);
}

BOOST_AUTO_TEST_CASE(cut_before_done_is_not_terminal) {
    const std::string cut = reply.substr(0, reply.find("data: {\"type\":\"done\"") + 30);
    pollybot_mapper mapper;
    const mapped_stream s = map_sse(mapper, {cut});
    BOOST_TEST(!s.error);
    BOOST_TEST(!s.terminal_seen);
    BOOST_TEST(s.text_so_far == reply_text);
}

BOOST_AUTO_TEST_CASE(unknown_types_and_empty_data_are_skipped) {
    pollybot_mapper mapper;
    const mapped_stream s = map_sse(mapper, {"data: {\"type\":\"ping\"}\n\ndata:\n\ndata: [DONE]\n\n"});
    BOOST_TEST(!s.error);
    BOOST_TEST(kinds_of(s) == (strings{"done"}), boost::test_tools::per_element());
}

// Token events of one shape in a row take the field extractor's shape cache;
// escaped ones, other shapes and CRLF line ends interleave, at every split.
BOOST_AUTO_TEST_CASE(tokens_in_a_row_at_every_split) {
    const std::vector<std::pair<std::string, std::string>> tokens = {  // as sent, as decoded
        {"Hello", "Hello"},         {" world", " world"},          {"", ""},
        {" caf\xC3\xA9", " caf\xC3\xA9"}, {"\\n", "\n"},             {" \\\"q\\\"", " \"q\""},
        {" \xF0\x9F\x98\x80", " \xF0\x9F\x98\x80"}, {" sixteen bytes!!", " sixteen bytes!!"}, {" end", " end"},
    };
    std::string body = "data: {\"type\":\"start\",\"conversationId\":\"c1\"}\n\n";
    strings expected_texts;
    std::string expected_reply;
    for (int round = 0; round < 2; ++round) {
        for (const auto& [sent, decoded] : tokens) {
            body += "data: {\"type\":\"token\",\"content\":\"" + sent + "\"}" + (round == 1 ? "\r\n\r\n" : "\n\n");
            expected_texts.push_back(decoded);
            expected_reply += decoded;
        }
        body += "data: {\"type\":\"token\",\"token\":\"t\",\"content\":\"x\"}\n\n";  // another shape
        expected_texts.push_back("x");
        expected_reply += "x";
    }
    body += "data: {\"type\":\"done\",\"data\":{\"response\":\"r\",\"conversationId\":\"c1\",\"messageId\":\"m\"}}\n\n"
            "data: [DONE]\n\n";
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        pollybot_mapper mapper;
        const mapped_stream s = map_sse(mapper, split_at(body, {cut}));
        BOOST_TEST_CONTEXT("cut at " << cut) {
            BOOST_TEST(!s.error);
            BOOST_TEST(s.text_so_far == expected_reply);
            strings texts;
            for (const auto& ev : s.events)
                if (ev.kind == event_kind::token) texts.push_back(ev.text);
            BOOST_TEST(texts == expected_texts, boost::test_tools::per_element());
            BOOST_TEST(s.terminal_seen);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
