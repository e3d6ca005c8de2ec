// VectorShift's cumulative output: an event that repeats the previous one's
// bytes is parsed without them. Generated streams (escapes, \u spellings,
// surrogate pairs, other fields before and after `output`, a server that
// sometimes spells earlier text differently) must give exactly the tokens
// they were built from; and the raw scanning it relies on, on its own.
#include <boost/test/unit_test.hpp>

#include "../../../src/stream/raw_json.hpp"

#include <chatwire/stream/vectorshift_mapper.hpp>

#include <random>
#include <string>
#include <vector>

using namespace chatwire::stream;
using chatwire::diagnostics;
using chatwire::error_code;

namespace {

struct token {
    std::string text;                   // as the reader sees it
    std::vector<std::string> spellings;  // as JSON may write it
};

const std::vector<token>& tokens() {
    static const std::vector<token> all = {
        {"Hello", {"Hello"}},
        {" wor", {" wor"}},
        {"ld", {"ld"}},
        {"\"q\"", {"\\\"q\\\"", "\\u0022q\\u0022"}},
        {"\\", {"\\\\", "\\u005c"}},
        {"\n", {"\\n", "\\u000a"}},
        {"/", {"/", "\\/"}},
        {" caf\xC3\xA9", {" caf\xC3\xA9", " caf\\u00e9", " caf\\u00E9"}},
        {"\xF0\x9F\x98\x80", {"\xF0\x9F\x98\x80", "\\ud83d\\ude00"}},
        {"\t:,{}[]", {"\\t:,{}[]"}},
    };
    return all;
}

// One event's JSON for the output so far, in one of several layouts.
std::string payload(int layout, const std::string& written_output) {
    switch (layout) {
    case 0: return "{\"output\":\"" + written_output + "\",\"conversation_id\":\"conv-1\"}";
    case 1: return "{\"conversation_id\":\"c\\\"1\" , \"output\" : \"" + written_output + "\" }";
    case 2: return "{\"meta\":{\"output\":\"not this\"},\"output\":\"" + written_output + "\",\"n\":[1,{\"a\":\"]\"}]}";
    default: return "{\"type\":\"x\",\"output\":\"" + written_output + "\"}";
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(vectorshift_cumulative)

BOOST_AUTO_TEST_CASE(generated_cumulative_streams_give_their_tokens) {
    std::mt19937 rng(7);
    for (int stream = 0; stream < 400; ++stream) {
        const int layout = stream % 4;
        const bool respell = stream % 5 == 4;  // now and then the server writes earlier text anew
        vectorshift_mapper mapper;
        diagnostics diag;
        std::vector<std::size_t> picks;
        std::vector<std::size_t> spelling;
        std::string expected_text;
        const std::size_t length = 1 + rng() % 40;
        for (std::size_t i = 0; i < length; ++i) {
            const std::size_t t = rng() % tokens().size();
            picks.push_back(t);
            spelling.push_back(rng() % tokens()[t].spellings.size());
            if (respell && rng() % 3 == 0) {
                const std::size_t j = rng() % picks.size();
                spelling[j] = rng() % tokens()[picks[j]].spellings.size();
            }
            std::string written;
            for (std::size_t k = 0; k < picks.size(); ++k) written += tokens()[picks[k]].spellings[spelling[k]];
            const std::string json = payload(layout, written);
            event ev;
            bool produced = false;
            const error_code ec = mapper.map(json, ev, produced, diag);
            BOOST_TEST_CONTEXT("stream " << stream << " event " << i << ": " << json) {
                BOOST_TEST_REQUIRE(!ec, ec.message());
                BOOST_TEST_REQUIRE(produced);
                BOOST_TEST((ev.kind == event_kind::token));
                BOOST_TEST(std::string(ev.text) == tokens()[t].text);
                BOOST_TEST(std::string(ev.raw) == json);
                if (layout == 0) BOOST_TEST(ev.conversation_id == "conv-1");
                if (layout == 1) BOOST_TEST(ev.conversation_id == "c\"1");
            }
            expected_text += tokens()[t].text;
        }
        BOOST_TEST(std::string(mapper.text_so_far()) == expected_text);
    }
}

BOOST_AUTO_TEST_CASE(an_output_that_stops_extending_is_a_chunk_and_later_ones_are_judged_whole) {
    vectorshift_mapper mapper;
    diagnostics diag;
    std::vector<std::string> texts;
    for (const char* json : {R"({"output":"Hel"})", R"({"output":"Hello"})", R"({"output":"XY"})",
                             R"({"output":"Hello world"})", R"({"output":"HelloXYHello world!"})"}) {
        event ev;
        bool produced = false;
        BOOST_TEST_REQUIRE(!mapper.map(json, ev, produced, diag));
        if (produced) texts.emplace_back(ev.text);
    }
    BOOST_TEST(texts == (std::vector<std::string>{"Hel", "lo", "XY", "Hello world", "!"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_malformed_event_after_repeated_text_is_reported) {
    vectorshift_mapper mapper;
    diagnostics diag;
    event ev;
    bool produced = false;
    BOOST_TEST_REQUIRE(!mapper.map(R"({"output":"ab"})", ev, produced, diag));
    BOOST_TEST_REQUIRE(!mapper.map(R"({"output":"abc"})", ev, produced, diag));
    BOOST_TEST(mapper.map(R"({"output":"abcd)", ev, produced, diag) == chatwire::errc::malformed_event);
    BOOST_TEST(mapper.map("{\"output\":\"abc\xFF\"}", ev, produced, diag) == chatwire::errc::malformed_event);
}

BOOST_AUTO_TEST_CASE(raw_string_positions) {
    using detail::no_position;
    const std::string_view json = R"({"a":"x\"output\":\"","b":{"output":"n"},"output" : "v\\\"w","c":1})";
    const std::size_t start = detail::top_level_string_start(json, "output");
    BOOST_TEST_REQUIRE(start != no_position);
    const std::size_t end = detail::string_content_end(json, start);
    BOOST_TEST(json.substr(start, end - start) == R"(v\\\"w)");
    BOOST_TEST(detail::top_level_string_start(R"({"output":1})", "output") == no_position);
    BOOST_TEST(detail::top_level_string_start(R"({"output":"a","output":"b"})", "output") == no_position);
    BOOST_TEST(detail::top_level_string_start(R"(["output","x"])", "output") == no_position);
    BOOST_TEST(detail::top_level_string_start(R"({"\u006futput":"x"})", "output") == no_position);
    BOOST_TEST(detail::string_content_end(R"(abc)", 0) == no_position);
}

BOOST_AUTO_TEST_SUITE_END()
