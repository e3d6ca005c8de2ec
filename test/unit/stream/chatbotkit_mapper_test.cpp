#include <boost/test/unit_test.hpp>

#include "mapper_helpers.hpp"

#include <chatwire/stream/chatbotkit_mapper.hpp>

using namespace chatwire::stream;
using namespace chatwire::stream::test;
using chatwire::errc;
using chatwire::error_code;
using strings = std::vector<std::string>;

namespace {

// The order WIRE.md chooses: completeBegin, tokens, message, usage, completeEnd, result.
const std::string completion =
    "{\"type\":\"completeBegin\",\"data\":{}}\n"
    "{\"type\":\"token\",\"data\":{\"token\":\"Hel\"}}\n"
    "{\"type\":\"token\",\"data\":{\"token\":\"lo \\\"w\xC3\xB6rld\\\" \\\\ \xF0\x9F\x98\x80\"}}\n"
    "{\"type\":\"reasoningToken\",\"data\":{\"token\":\"thinking\"}}\n"
    "{\"type\":\"token\",\"data\":{\"token\":\"\\nnext \\u00e9\"}}\n"
    "{\"type\":\"message\",\"data\":{\"type\":\"bot\",\"text\":\"Hello \\\"w\xC3\xB6rld\\\" \\\\ \xF0\x9F\x98\x80\\nnext \xC3\xA9\",\"meta\":{\"a\":[1,{\"text\":\"no\"}]}}}\n"
    "{\"type\":\"usage\",\"data\":{\"model\":\"gpt-4o\",\"inputTokensUsed\":12,\"outputTokensUsed\":5}}\n"
    "{\"type\":\"completeEnd\",\"data\":{}}\n"
    "{\"type\":\"result\",\"data\":{\"id\":\"msg_1\",\"text\":\"Hello\",\"usage\":{\"token\":17},\"end\":{\"reason\":\"stop\"}}}\n";

const std::string expected_text = "Hello \"w\xC3\xB6rld\" \\ \xF0\x9F\x98\x80\nnext \xC3\xA9";

} // namespace

BOOST_AUTO_TEST_SUITE(chatbotkit_mapping)

BOOST_AUTO_TEST_CASE(a_whole_completion_in_any_split) {
    for (std::size_t cut = 0; cut <= completion.size(); ++cut) {
        chatbotkit_mapper mapper;
        const mapped_stream s = map_jsonl(mapper, split_at(completion, {cut}));
        BOOST_TEST_CONTEXT("cut at " << cut) {
            BOOST_TEST(!s.error);
            BOOST_TEST(kinds_of(s) == (strings{"begin", "token", "token", "reasoning_token", "token", "message", "usage", "end", "result"}),
                       boost::test_tools::per_element());
            BOOST_TEST(texts_of(s, event_kind::token) == (strings{"Hel", "lo \"w\xC3\xB6rld\" \\ \xF0\x9F\x98\x80", "\nnext \xC3\xA9"}),
                       boost::test_tools::per_element());
            BOOST_TEST(s.text_so_far == expected_text);
            BOOST_TEST(s.terminal_seen);
        }
    }
}

BOOST_AUTO_TEST_CASE(fields_of_message_usage_and_result) {
    chatbotkit_mapper mapper;
    const mapped_stream s = map_jsonl(mapper, {completion});
    BOOST_REQUIRE_EQUAL(s.events.size(), 9u);
    const owned_event& message = s.events[5];
    BOOST_TEST(message.text == expected_text);
    BOOST_TEST(message.message_type == "bot");
    const owned_event& usage = s.events[6];
    BOOST_TEST(usage.model == "gpt-4o");
    BOOST_TEST(usage.input_tokens.value_or(0) == 12u);
    BOOST_TEST(usage.output_tokens.value_or(0) == 5u);
    const owned_event& result = s.events[8];
    BOOST_TEST(result.text == "Hello");
    BOOST_TEST(result.id == "msg_1");
    BOOST_TEST(result.total_tokens.value_or(0) == 17u);
    BOOST_TEST(result.end_reason == "stop");
    BOOST_TEST(result.raw == completion.substr(completion.rfind("{\"type\":\"result\""), result.raw.size()));
}

BOOST_AUTO_TEST_CASE(unescaped_strings_are_views_into_the_line) {
    chatbotkit_mapper mapper;
    const std::string plain = "{\"type\":\"token\",\"data\":{\"token\":\"plain\"}}";
    event ev;
    bool produced = false;
    chatwire::diagnostics diag;
    BOOST_TEST(!mapper.map(plain, ev, produced, diag));
    BOOST_TEST(produced);
    BOOST_TEST(ev.text.data() == plain.data() + plain.find("plain"));
    BOOST_TEST(ev.raw.data() == plain.data());
    const std::string escaped = "{\"type\":\"token\",\"data\":{\"token\":\"a\\tb\"}}";
    BOOST_TEST(!mapper.map(escaped, ev, produced, diag));
    BOOST_TEST(ev.text == "a\tb");
}

BOOST_AUTO_TEST_CASE(escaped_keys_still_match) {
    chatbotkit_mapper mapper;
    event ev;
    bool produced = false;
    chatwire::diagnostics diag;
    BOOST_TEST(!mapper.map("{\"ty\\u0070e\":\"token\",\"data\":{\"tok\\u0065n\":\"k\"}}", ev, produced, diag));
    BOOST_TEST(produced);
    BOOST_TEST(ev.text == "k");
}

BOOST_AUTO_TEST_CASE(the_last_duplicate_key_wins) {
    chatbotkit_mapper mapper;
    event ev;
    bool produced = false;
    chatwire::diagnostics diag;
    BOOST_TEST(!mapper.map(R"({"type":"token","data":{"token":"first"},"data":{"other":1}})", ev, produced, diag));
    BOOST_TEST(ev.text.empty());
    BOOST_TEST(!mapper.map(R"({"type":"token","data":{"token":"a","token":7}})", ev, produced, diag));
    BOOST_TEST(ev.text.empty());
    BOOST_TEST(!mapper.map(R"({"type":"result","data":{"text":"x\ty"},"type":"token","data":{"token":"z"}})", ev, produced, diag));
    BOOST_TEST(to_string(ev.kind) == "token");
    BOOST_TEST(ev.text == "z");
}

BOOST_AUTO_TEST_CASE(error_line_is_a_stream_error_with_the_message) {
    chatbotkit_mapper mapper;
    const mapped_stream s = map_jsonl(mapper, {"{\"type\":\"completeBegin\",\"data\":{}}\n"
                                               "{\"type\":\"token\",\"data\":{\"token\":\"par\"}}\n"
                                               "{\"type\":\"error\",\"data\":{\"message\":\"Model \\\"x\\\" overloaded\"}}\n"});
    BOOST_TEST(s.error == error_code(errc::stream_error));
    BOOST_TEST(s.diag.provider_message == "Model \"x\" overloaded");
    BOOST_TEST(kinds_of(s) == (strings{"begin", "token", "error"}), boost::test_tools::per_element());
    BOOST_TEST(s.text_so_far == "par");
    BOOST_TEST(!s.terminal_seen);
}

BOOST_AUTO_TEST_CASE(truncated_stream_keeps_its_text_and_is_not_terminal) {
    const std::string cut = completion.substr(0, completion.find("{\"type\":\"result\""));
    chatbotkit_mapper mapper;
    const mapped_stream s = map_jsonl(mapper, bytes_of(cut));
    BOOST_TEST(!s.error);
    BOOST_TEST(!s.terminal_seen);
    BOOST_TEST(s.text_so_far == expected_text);
}

BOOST_AUTO_TEST_CASE(abort_wait_and_list_items) {
    chatbotkit_mapper mapper;
    const mapped_stream s = map_jsonl(mapper, {"{\"type\":\"waitForChannelMessageBegin\",\"data\":{}}\n"
                                               "{\"type\":\"waitForChannelMessageEnd\",\"data\":{}}\n"
                                               "{\"type\":\"somethingNew\",\"data\":{}}\n"
                                               "{\"type\":\"item\",\"data\":{\"id\":\"c1\"}}\n"
                                               "{\"type\":\"abort\",\"data\":{\"reason\":\"tool\",\"functionName\":\"lookup\"}}\n"});
    BOOST_TEST(!s.error);
    BOOST_TEST(kinds_of(s) == (strings{"wait_begin", "wait_end", "item", "abort"}), boost::test_tools::per_element());
    BOOST_TEST(s.events[2].raw == "{\"type\":\"item\",\"data\":{\"id\":\"c1\"}}");
    BOOST_TEST(s.events[3].text == "tool");
    BOOST_TEST(s.events[3].function_name == "lookup");
}

BOOST_AUTO_TEST_CASE(malformed_lines) {
    for (const char* line : {"{\"type\":\"token\",\"data\":{\"token\":\"x\"}", "[1,2]", "\"token\"", "{\"type\":\"token\"} x",
                             "{\"type\":\"tok\xFF\"}", "nope"}) {
        chatbotkit_mapper mapper;
        event ev;
        bool produced = true;
        chatwire::diagnostics diag;
        BOOST_TEST_CONTEXT(line) {
            BOOST_TEST(mapper.map(line, ev, produced, diag) == error_code(errc::malformed_event));
            BOOST_TEST(!produced);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
