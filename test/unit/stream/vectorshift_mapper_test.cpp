#include <boost/test/unit_test.hpp>

#include "mapper_helpers.hpp"

#include <chatwire/stream/vectorshift_mapper.hpp>

using namespace chatwire::stream;
using namespace chatwire::stream::test;
using chatwire::errc;
using chatwire::error_code;
using strings = std::vector<std::string>;

namespace {

std::string sse(std::initializer_list<std::string> payloads) {
    std::string body;
    for (const auto& p : payloads) body += "data: " + p + "\n\n";
    return body;
}

// The seed's legacy stream: each event's output is the whole text so far.
const std::string cumulative = sse({
    R"({"output":"Wh","conversation_id":"conv-1"})",
    R"({"output":"Where \"is\"","conversation_id":"conv-1"})",
    "{\"output\":\"Where \\\"is\\\" my caf\xC3\xA9\",\"conversation_id\":\"conv-1\"}",
    "{\"output\":\"Where \\\"is\\\" my caf\xC3\xA9 \\\\o/\\n\xF0\x9F\x98\x80\",\"conversation_id\":\"conv-1\"}",
});

const strings cumulative_deltas = {"Wh", "ere \"is\"", " my caf\xC3\xA9", " \\o/\n\xF0\x9F\x98\x80"};
const std::string full_text = "Where \"is\" my caf\xC3\xA9 \\o/\n\xF0\x9F\x98\x80";

} // namespace

BOOST_AUTO_TEST_SUITE(vectorshift_mapping)

BOOST_AUTO_TEST_CASE(cumulative_output_becomes_deltas_in_any_split) {
    for (std::size_t cut = 0; cut <= cumulative.size(); ++cut) {
        vectorshift_mapper mapper;
        const mapped_stream s = map_sse(mapper, split_at(cumulative, {cut}));
        BOOST_TEST_CONTEXT("cut at " << cut) {
            BOOST_TEST(!s.error);
            BOOST_TEST(texts_of(s, event_kind::token) == cumulative_deltas, boost::test_tools::per_element());
            BOOST_TEST(s.text_so_far == full_text);
            BOOST_TEST(s.terminal_seen);  // the legacy endpoint ends with its body
            BOOST_TEST(s.events.front().conversation_id == "conv-1");
        }
    }
}

BOOST_AUTO_TEST_CASE(chunked_output_is_appended) {
    vectorshift_mapper mapper;
    const mapped_stream s = map_sse(mapper, {sse({R"({"output":"Hel","conversation_id":"c"})", R"({"output":"lo","conversation_id":"c"})",
                                                  R"({"output":"Hel","conversation_id":"c"})"})});
    BOOST_TEST(texts_of(s, event_kind::token) == (strings{"Hel", "lo", "Hel"}), boost::test_tools::per_element());
    BOOST_TEST(s.text_so_far == "HelloHel");  // the stream was found chunked: a repeat is new text
}

BOOST_AUTO_TEST_CASE(v1_chunks_and_final_status) {
    const std::string body = sse({
        R"({"type":"stream","output_value":"Your order "})",
        "{\"type\":\"stream\",\"output_value\":\"ships \\\"today\\\" \xE2\x9C\x93\"}",
        R"({"status":"success","conversation_id":"conv-9","output_message":"Your order ships \"today\" ✓"})",
    });
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        vectorshift_mapper mapper;
        const mapped_stream s = map_sse(mapper, split_at(body, {cut}));
        BOOST_TEST(!s.error);
        BOOST_TEST(kinds_of(s) == (strings{"token", "token", "result"}), boost::test_tools::per_element());
        BOOST_TEST(s.text_so_far == "Your order ships \"today\" \xE2\x9C\x93");
        BOOST_TEST(s.events.back().text == "Your order ships \"today\" \xE2\x9C\x93");
        BOOST_TEST(s.events.back().conversation_id == "conv-9");
        BOOST_TEST(s.terminal_seen);
    }
}

BOOST_AUTO_TEST_CASE(v1_stream_without_its_final_status_is_not_terminal) {
    vectorshift_mapper mapper;
    const mapped_stream s = map_sse(mapper, {sse({R"({"type":"stream","output_value":"Half"})"})});
    BOOST_TEST(!s.terminal_seen);
    BOOST_TEST(s.text_so_far == "Half");
}

BOOST_AUTO_TEST_CASE(failed_status_is_run_failed) {
    vectorshift_mapper mapper;
    const mapped_stream s = map_sse(mapper, {sse({R"({"type":"stream","output_value":"Hi"})",
                                                  R"({"status":"failed","conversation_id":"c","error":"Pipeline \"x\" failed"})"})});
    BOOST_TEST(s.error == error_code(errc::run_failed));
    BOOST_TEST(s.diag.provider_message == "Pipeline \"x\" failed");
    BOOST_TEST(kinds_of(s) == (strings{"token", "error"}), boost::test_tools::per_element());
    BOOST_TEST(s.text_so_far == "Hi");
}

BOOST_AUTO_TEST_CASE(bare_error_is_a_stream_error) {
    vectorshift_mapper mapper;
    const mapped_stream s = map_sse(mapper, {sse({R"({"error":"Invalid API key"})"})});
    BOOST_TEST(s.error == error_code(errc::stream_error));
    BOOST_TEST(s.diag.provider_message == "Invalid API key");
}

BOOST_AUTO_TEST_CASE(done_marker_and_bare_json_lines) {
    const std::string body = "{\"output\":\"A\",\"conversation_id\":\"c\"}\r\n{\"output\":\"AB\",\"conversation_id\":\"c\"}\n[DONE]\n";
    BOOST_TEST(vectorshift_mapper::body_is_bare_json(body));
    BOOST_TEST(vectorshift_mapper::body_is_bare_json("\xEF\xBB\xBF \n[DONE]"));
    BOOST_TEST(!vectorshift_mapper::body_is_bare_json(cumulative));
    BOOST_TEST(!vectorshift_mapper::body_is_bare_json(": comment\n"));
    BOOST_TEST(!vectorshift_mapper::body_is_bare_json("  "));
    vectorshift_mapper mapper;
    const mapped_stream s = map_jsonl(mapper, bytes_of(body));
    BOOST_TEST(!s.error);
    BOOST_TEST(kinds_of(s) == (strings{"token", "token", "done"}), boost::test_tools::per_element());
    BOOST_TEST(s.text_so_far == "AB");
    BOOST_TEST(s.terminal_seen);
}

BOOST_AUTO_TEST_CASE(done_marker_in_sse_and_malformed_data) {
    vectorshift_mapper mapper;
    mapped_stream s = map_sse(mapper, {sse({R"({"type":"stream","output_value":"x"})", "[DONE]"})});
    BOOST_TEST(s.terminal_seen);
    vectorshift_mapper other;
    s = map_sse(other, {sse({R"({"output":"x")"})});
    BOOST_TEST(s.error == error_code(errc::malformed_event));
}

BOOST_AUTO_TEST_CASE(reset_starts_a_new_stream) {
    vectorshift_mapper mapper;
    map_sse(mapper, {cumulative});
    mapper.reset();
    BOOST_TEST(mapper.text_so_far().empty());
    BOOST_TEST(!mapper.terminal_seen());
    const mapped_stream s = map_sse(mapper, {sse({R"({"output":"Zed"})", R"({"output":"Zed!"})"})});
    BOOST_TEST(texts_of(s, event_kind::token) == (strings{"Zed", "!"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
