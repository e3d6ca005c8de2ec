#include <boost/test/unit_test.hpp>

#include "decode_helpers.hpp"

#include <random>
#include <string>
#include <vector>

using namespace chatwire::stream;
using namespace chatwire::stream::test;

namespace {

struct jsonl_case {
    const char* name;
    std::string input;
    jsonl_outcome expected;
};

const std::vector<jsonl_case>& jsonl_cases() {
    static const std::vector<jsonl_case> cases = {
        {"LF", "{\"a\":1}\n{\"b\":2}\n", {{"{\"a\":1}", "{\"b\":2}"}, false, false}},
        {"CRLF", "{\"a\":1}\r\n{\"b\":2}\r\n", {{"{\"a\":1}", "{\"b\":2}"}, false, false}},
        {"blank lines skipped", "\n\r\n{\"a\":1}\n\n  \t\n\r\n{\"b\":2}\n\n", {{"{\"a\":1}", "{\"b\":2}"}, false, false}},
        {"a lone CR stays in the line", "{\"a\":\r1}\n", {{"{\"a\":\r1}"}, false, false}},
        {"unterminated last line is kept", "{\"a\":1}\n{\"b\":2}", {{"{\"a\":1}", "{\"b\":2}"}, false, true}},
        {"unterminated last line loses its CR", "{\"a\":1}\r", {{"{\"a\":1}"}, false, true}},
        {"blank unterminated tail", "{\"a\":1}\n  ", {{"{\"a\":1}"}, false, false}},
        {"UTF-8", "{\"t\":\"h\xC3\xA9 \xF0\x9F\x98\x80\"}\n", {{"{\"t\":\"h\xC3\xA9 \xF0\x9F\x98\x80\"}"}, false, false}},
        {"empty", "", {{}, false, false}},
    };
    return cases;
}

} // namespace

BOOST_AUTO_TEST_SUITE(jsonl_decoder_behaviour)

BOOST_AUTO_TEST_CASE(cases_in_every_split) {
    for (const auto& c : jsonl_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            BOOST_TEST(decode_jsonl({c.input}) == c.expected);
            BOOST_TEST(decode_jsonl(bytes_of(c.input)) == c.expected);
        }
        for (std::size_t a = 0; a <= c.input.size(); ++a)
            for (std::size_t b = a; b <= c.input.size(); ++b)
                BOOST_TEST_CONTEXT(c.name << " cut at " << a << " and " << b) {
                    BOOST_TEST(decode_jsonl(split_at(c.input, {a, b})) == c.expected);
                }
    }
}

BOOST_AUTO_TEST_CASE(line_whole_in_piece_is_a_view_into_it) {
    const std::string piece = "{\"a\":1}\r\n{\"b\"";
    jsonl_decoder decoder;
    decoder.feed(piece);
    std::string_view line;
    chatwire::error_code ec;
    BOOST_REQUIRE(decoder.next(line, ec) == decode_status::event);
    BOOST_TEST(line.data() == piece.data());
    BOOST_TEST(line.size() == 7u);
    BOOST_TEST(decoder.next(line, ec) == decode_status::need_more);
    decoder.feed(":2}\n");
    BOOST_REQUIRE(decoder.next(line, ec) == decode_status::event);
    BOOST_TEST(line == "{\"b\":2}");
}

BOOST_AUTO_TEST_CASE(line_limit_fails_whatever_the_split) {
    const std::string input = "{\"ok\":1}\n\"" + std::string(40, 'x') + "\"\n{\"never\":1}\n";
    const jsonl_decoder::options opts{.max_line_size = 32};
    const jsonl_outcome expected{{"{\"ok\":1}"}, true, false};
    for (std::size_t cut = 0; cut <= input.size(); ++cut) BOOST_TEST(decode_jsonl(split_at(input, {cut}), opts) == expected);
    BOOST_TEST(decode_jsonl(bytes_of(input), opts) == expected);
    // Exactly at the limit, with CRLF, is fine in any split.
    std::string exact(32, 'y');  // not `std::string(32, 'y') + "\r\n"`: GCC 12's false -Warray-bounds
    exact += "\r\n";
    for (std::size_t cut = 0; cut <= exact.size(); ++cut)
        BOOST_TEST(decode_jsonl(split_at(exact, {cut}), opts).lines.size() == 1u);
}

BOOST_AUTO_TEST_CASE(random_splits_agree_with_whole) {
    std::mt19937 rng(7);
    const char* const parts[] = {"{\"type\":\"token\",\"data\":{\"token\":\"x\"}}", "\n", "\r\n", " ", "\n\n", "[1,2]", "\xC3\xA9"};
    for (int round = 0; round < 2000; ++round) {
        std::string s;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 30); i < n; ++i) s += parts[rng() % std::size(parts)];
        std::vector<std::size_t> cuts;
        for (std::size_t at = 0; at < s.size();) {
            at += 1 + rng() % 9;
            if (at < s.size()) cuts.push_back(at);
        }
        const jsonl_outcome whole = decode_jsonl({s});
        BOOST_TEST(decode_jsonl(bytes_of(s)) == whole);
        BOOST_TEST(decode_jsonl(split_at(s, cuts)) == whole);
    }
}

BOOST_AUTO_TEST_SUITE_END()
