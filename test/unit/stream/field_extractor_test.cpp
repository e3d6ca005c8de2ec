// The field extractor's plain scan (small objects of strings without escapes,
// integers, literals) against Boost.JSON's parser on the same handler: same
// verdict, same fields, for the events the APIs send, for each prefix and
// each one-byte change of them, and for strings of every UTF-8 shape.
#include <boost/test/unit_test.hpp>

#include "../../../src/stream/field_extractor.hpp"

#include <memory>
#include <random>
#include <string>
#include <vector>

using chatwire::stream::detail::field_extractor;
using chatwire::stream::detail::field_value;

namespace {

// The fields the three mappers ask for, and a few paths of their own.
field_extractor make_extractor() {
    return field_extractor{
        {"type"},           {"content"},         {"token"},          {"conversationId"},
        {"data", "response"}, {"data", "conversationId"}, {"data", "messageId"}, {"error"},
        {"message"},        {"code"},            {"data", "token"},  {"data", "usage", "token"},
        {"data"},           {"n"},               {"ok"},             {"list"},
        {"outputTokensUsed"}, {"aKeyOfSeventeen18"}, {"data", "outputTokensUsed"},
    };
}
constexpr std::size_t field_count = 19;

struct outcome {
    bool ok = false;
    bool is_object = false;
    std::vector<field_value> values;
    std::vector<std::string> texts;  // the strings, copied: the extractor's buffers are shared
};

outcome read(field_extractor& fields, std::string_view json, bool general) {
    outcome out;
    out.ok = !(general ? fields.parse_general(json) : fields.parse(json));
    if (!out.ok) return out;
    out.is_object = fields.is_object();
    for (std::size_t i = 0; i < field_count; ++i) {
        out.values.push_back(fields[i]);
        out.texts.emplace_back(fields[i].text);
    }
    return out;
}

// Both paths agree on `json`; returns whether the plain scan read it.
bool same_either_way(std::string_view json) {
    static field_extractor plain = make_extractor();
    static field_extractor general = make_extractor();
    const outcome a = read(plain, json, false);
    const bool was_plain = plain.read_plain();
    const outcome b = read(general, json, true);
    BOOST_TEST_CONTEXT("document: " << json) {
        BOOST_TEST(a.ok == b.ok);
        if (a.ok && b.ok) {
            BOOST_TEST(a.is_object == b.is_object);
            for (std::size_t i = 0; i < field_count; ++i) {
                BOOST_TEST_CONTEXT("field " << i) {
                    BOOST_TEST(static_cast<int>(a.values[i].kind) == static_cast<int>(b.values[i].kind));
                    BOOST_TEST(a.texts[i] == b.texts[i]);
                    BOOST_TEST(a.values[i].count.has_value() == b.values[i].count.has_value());
                    if (a.values[i].count && b.values[i].count) BOOST_TEST(*a.values[i].count == *b.values[i].count);
                    BOOST_TEST(a.values[i].flag == b.values[i].flag);
                }
            }
        }
        if (was_plain) BOOST_TEST(a.ok);  // the plain scan never accepts what is not JSON
    }
    return was_plain;
}

const std::vector<std::string> samples = {
    R"({"type":"token","content":" word"})",
    R"({"type":"token","content":"Hello"})",
    R"({"type":"start","conversationId":"cm5abc123xyz456"})",
    R"({"type":"done","data":{"response":"Hello world","conversationId":"c1","messageId":"m1"}})",
    R"({"type":"error","error":"Out of credits","code":"INSUFFICIENT_CREDITS"})",
    R"({"type":"token","content":"line\nbreak \"quoted\" \u00e9"})",
    R"({"type":"token","data":{"token":"Hi","usage":{"token":12}}})",
    R"( { "type" : "token" , "content" : "x" , "n" : 0 , "ok" : true , "list" : [1, "a", null, {"type":"no"}, []] } )",
    R"({"n":1234567890,"ok":false,"code":null,"data":{}})",
    R"({"content":"a","content":"b","type":1,"type":"last"})",
    R"({"data":{"token":"first"},"data":{"response":"second"}})",
    R"({"data":"scalar","data":{"token":"t"}})",
    R"({"type":"héllo €uro 😀","content":"日本語"})",
    R"({"n":123456789012345678,"type":"a"})",
    R"({"n":1234567890123456789})",
    R"({"n":-5,"ok":1.5,"code":2e3})",
    R"({"list":[[[[[[[[[["deep"]]]]]]]]]],"type":"after"})",
    R"({"outputTokensUsed":12,"aKeyOfSeventeen18":"long key","outputTokensUsex":1,"aKeyOfSeventeen19":2})",
    R"({"data":{"outputTokensUsed":3},"k":{"aKeyOfSeventeen18":"nested"},"aKeyOfSeventeen18":"z"})",
    R"({"aKeyOfSeventeen18":"at the end, less than 16 bytes follow the key","outputTokensUsed":7})",
    R"({"type":"x","ok":true})",
    R"({})",
    R"([])",
    R"("top")",
    R"({"type":"token"}x)",
    R"({"type":"token",})",
    "{\"type\":\"tab\there\"}",
    "{\"\\u0074ype\":\"escaped key\"}",
};

} // namespace

BOOST_AUTO_TEST_SUITE(field_extractor_plain_scan)

BOOST_AUTO_TEST_CASE(the_streamed_events_take_the_plain_scan) {
    BOOST_TEST(same_either_way(R"({"type":"token","content":" word"})"));
    BOOST_TEST(same_either_way(R"({"type":"start","conversationId":"cm5abc123xyz456"})"));
    BOOST_TEST(same_either_way(R"({"type":"done","data":{"response":"Hi","conversationId":"c","messageId":"m"}})"));
    BOOST_TEST(same_either_way(R"({"type":"token","data":{"token":"Hi"}})"));
    BOOST_TEST(same_either_way(R"({"type":"token","content":"日本語 😀"})"));
    // What the plain scan leaves to Boost.JSON.
    BOOST_TEST(!same_either_way(R"({"type":"token","content":"a\nb"})"));
    BOOST_TEST(!same_either_way(R"({"n":-1})"));
    BOOST_TEST(!same_either_way(R"({"n":1.5})"));
    BOOST_TEST(!same_either_way(R"({"n":1234567890123456789})"));
    BOOST_TEST(!same_either_way(R"([1])"));
}

BOOST_AUTO_TEST_CASE(samples_their_prefixes_and_one_byte_changes) {
    const std::string replacements = std::string("\"\\{}[]:, \t\n0159-.eEtfnxu") + '\0' + '\x1f' + '\x7f' + '\x80' +
                                     '\xbf' + '\xc3' + '\xe2' + '\xed' + '\xf0' + '\xf4' + '\xff';
    for (const std::string& sample : samples) {
        same_either_way(sample);
        for (std::size_t n = 0; n < sample.size(); ++n) same_either_way(std::string_view(sample).substr(0, n));
        for (std::size_t at = 0; at < sample.size(); ++at) {
            std::string changed = sample;
            for (char c : replacements) {
                changed[at] = c;
                same_either_way(changed);
            }
            std::string removed = sample;
            removed.erase(at, 1);
            same_either_way(removed);
        }
    }
}

// Every lead byte with continuation bytes at the edges of the valid ranges:
// the plain scan's UTF-8 check must never accept what Boost.JSON rejects.
BOOST_AUTO_TEST_CASE(every_utf8_shape) {
    const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
    std::size_t plain = 0;
    for (unsigned lead = 0x80; lead <= 0xff; ++lead) {
        for (unsigned char b1 : edges) {
            for (unsigned char b2 : edges) {
                for (unsigned char b3 : {static_cast<unsigned char>(0x80), static_cast<unsigned char>(0xbf),
                                         static_cast<unsigned char>(0x41)}) {
                    std::string doc = "{\"content\":\"a";
                    doc += static_cast<char>(lead);
                    doc += static_cast<char>(b1);
                    doc += static_cast<char>(b2);
                    doc += static_cast<char>(b3);
                    doc += "\"}";
                    plain += same_either_way(doc);
                    doc.erase(doc.size() - 3, 1);  // the sequence cut short
                    same_either_way(doc);
                }
            }
        }
    }
    BOOST_TEST(plain > 0u);
}

BOOST_AUTO_TEST_CASE(random_documents_of_json_bytes) {
    std::mt19937 rng(20261202);
    const std::string alphabet = "{}[]:,\"\" \"typecontentdata01-.eftrulnx\\\xc3\xa9";
    const std::vector<std::string> pieces = {"{", "}", "[", "]", ":", ",", "\"type\"", "\"content\"", "\"data\"",
                                             "\"token\"", "\"a b\"", "12", "0", "true", "null", " ", "\"\\n\""};
    for (int i = 0; i < 20000; ++i) {
        std::string doc;
        const int n = static_cast<int>(rng() % 24);
        for (int j = 0; j < n; ++j) {
            if (rng() % 3 == 0) doc += alphabet[rng() % alphabet.size()];
            else doc += pieces[rng() % pieces.size()];
        }
        same_either_way(doc);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(field_extractor_same_shape)

// Documents that differ from the one before in their last string only reuse
// its fields; the string's new text decides whether that is allowed.
BOOST_AUTO_TEST_CASE(a_stream_of_tokens_swaps_the_last_string) {
    const std::vector<std::string> shapes = {
        R"({"type":"token","content":"%"})",
        R"({"type":"token","data":{"token":"%"}})",
        R"({"type":"token","content":"%","n":7,"ok":true})",
        R"({"content":"first","content":"%"})",
        R"({"content":"%","content":5})",
        R"({"type":"t","list":["a","%"]})",
        R"( {"type" : "token", "content" : "%" } )",
        R"({"type":"%"})",
    };
    const std::vector<std::string> texts = {
        " word", "Hello", "", "a", "0123456789abcde", "0123456789abcdef", "0123456789abcdef0",
        "日本語 😀", "quote\" inside", "back\\nslash", "ctl\x01", "bad \xc3", "bad \xed\xa0\x80 surrogate",
        "\"", "x\"}", "long text that goes on for more than sixteen bytes and further", " word",
    };
    for (const std::string& shape : shapes) {
        std::size_t reused = 0;
        for (int round = 0; round < 2; ++round) {
            for (const std::string& text : texts) {
                std::string doc = shape;
                doc.replace(doc.find('%'), 1, text);
                same_either_way(doc);
                static field_extractor probe = make_extractor();
                static_cast<void>(probe.parse(doc));
                reused += probe.reused_shape();
            }
        }
        BOOST_TEST_CONTEXT("shape: " << shape) { BOOST_TEST(reused > 10u); }
    }
}

// The same prefix and suffix around text that is not one plain string.
BOOST_AUTO_TEST_CASE(text_that_is_not_one_string_is_parsed_again) {
    field_extractor fields = make_extractor();
    BOOST_TEST(!fields.parse(R"({"type":"token","content":"a"})"));
    BOOST_TEST(!fields.parse(R"({"type":"token","content":"b"})"));
    BOOST_TEST(fields.reused_shape());
    BOOST_TEST(fields[1].text == "b");
    BOOST_TEST(fields[0].text == "token");
    // The middle closes the string early and opens another one.
    BOOST_TEST(!fields.parse(R"({"type":"token","content":"a","code":"b"})"));
    BOOST_TEST(!fields.reused_shape());
    BOOST_TEST(fields[1].text == "a");
    BOOST_TEST(fields[9].text == "b");
    BOOST_TEST(!fields.parse(R"({"type":"token","content":"a\"b"})"));
    BOOST_TEST(!fields.reused_shape());
    BOOST_TEST(fields[1].text == "a\"b");
    BOOST_TEST(fields.parse(R"({"type":"token","content":"a"b"})") == chatwire::errc::malformed_event);
}

BOOST_AUTO_TEST_SUITE_END()

// Extractors sharing one compiled field set (a mapper's, one per stream) keep
// their values and unescape buffers apart.
BOOST_AUTO_TEST_CASE(extractors_of_one_field_set_keep_their_own_values) {
    using chatwire::stream::detail::field_path;
    using chatwire::stream::detail::field_set;
    const auto set = std::make_shared<const field_set>(
        std::initializer_list<field_path>{{"type"}, {"content"}, {"data", "token"}});
    BOOST_TEST(set->size() == 3u);
    field_extractor one(set), two(set);
    BOOST_TEST(!one.parse(R"({"type":"token","content":"a\nb"})"));
    BOOST_TEST(!two.parse(R"({"type":"end","data":{"token":"c\td"}})"));
    BOOST_TEST(one[0].text == "token");
    BOOST_TEST(one[1].text == "a\nb");
    BOOST_TEST(!one[2].present());
    BOOST_TEST(two[0].text == "end");
    BOOST_TEST(!two[1].present());
    BOOST_TEST(two[2].text == "c\td");
    BOOST_TEST(set.use_count() == 3);
}
