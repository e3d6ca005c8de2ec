#define BOOST_TEST_MODULE unit_stream
#include <boost/test/unit_test.hpp>

#include "decode_helpers.hpp"

#include <string>
#include <vector>

using namespace chatwire::stream;
using namespace chatwire::stream::test;
using namespace std::string_literals;

namespace {

struct sse_case {
    const char* name;
    std::string input;
    std::vector<recorded_event> events;
    bool partial_at_end = false;
};

recorded_event msg(std::string data, std::string id = {}, std::optional<std::uint64_t> retry = {}) {
    return {"message", std::move(data), std::move(id), retry};
}

const std::vector<sse_case>& whatwg_cases() {
    static const std::vector<sse_case> cases = {
        {"simple", "data: hello\n\n", {msg("hello")}},
        {"no space after colon", "data:hello\n\n", {msg("hello")}},
        {"only one space is removed", "data:  two\n\n", {msg(" two")}},
        {"a tab is not a space", "data:\tx\n\n", {msg("\tx")}},
        {"colons in the value", "data: a: b:c\n\n", {msg("a: b:c")}},
        {"CRLF line ends", "data: a\r\n\r\n", {msg("a")}},
        {"CR line ends", "data: a\r\rdata: b\r\r", {msg("a"), msg("b")}},
        {"mixed line ends", "data: a\r\ndata: b\rdata: c\n\n", {msg("a\nb\nc")}},
        {"LF then CR is two line ends", "data: a\n\rdata: b\n\n", {msg("a"), msg("b")}},
        {"several data lines", "data: one\ndata: two\ndata: three\n\n", {msg("one\ntwo\nthree")}},
        {"empty data dispatches", "data\n\ndata:\n\n", {msg(""), msg("")}},
        {"two empty data lines", "data\ndata\n\n", {msg("\n")}},
        {"a leading BOM is dropped", "\xEF\xBB\xBF" "data: x\n\n", {msg("x")}},
        {"only one BOM is dropped", "\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n", {msg("y")}},
        {"half a BOM is content", "\xEF\xBB" "data: x\n\ndata: y\n\n", {msg("y")}},
        {"BOM then blank line", "\xEF\xBB\xBF\ndata: y\n\n", {msg("y")}},
        {"a BOM later is content", "data: a\n\n\xEF\xBB\xBF" "data: b\n\n", {msg("a")}},
        {"comments", ": hi\ndata: a\n:\n: more\n\n:ping\n\n", {msg("a")}},
        {"event type", "event: update\ndata: d\n\n", {{"update", "d", "", {}}}},
        {"empty event type is message", "event:\ndata: d\n\n", {msg("d")}},
        {"event type does not persist", "event: a\ndata: 1\n\ndata: 2\n\n", {{"a", "1", "", {}}, msg("2")}},
        {"last event type wins", "event: a\nevent: b\ndata: 1\n\n", {{"b", "1", "", {}}}},
        {"id persists", "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", {msg("a", "1"), msg("b", "1"), msg("c", "")}},
        {"id with NUL is ignored", "id: 7\ndata: a\n\nid: x\0y\ndata: b\n\n"s, {msg("a", "7"), msg("b", "7")}},
        {"id from a block without data persists", "id: 9\n\ndata: z\n\n", {msg("z", "9")}},
        {"retry digits only", "retry: 1500\ndata: a\n\nretry: 12a\ndata: b\n\nretry:\ndata: c\n\nretry: -5\ndata: d\n\n",
         {msg("a", "", 1500), msg("b", "", 1500), msg("c", "", 1500), msg("d", "", 1500)}},
        {"retry overflow is ignored", "retry: 99999999999999999999999\ndata: a\n\n", {msg("a")}},
        {"retry from a block without data applies", "retry: 300\n\ndata: x\n\n", {msg("x", "", 300)}},
        {"block without data is not dispatched", "event: e\nid: 4\n\ndata: z\n\n", {msg("z", "4")}},
        {"unknown fields are ignored", "foo: bar\nDATA: no\nData: no\ndata: x\n\n", {msg("x")}},
        {"field without colon", "data\nevent\n\n", {msg("")}},
        {"leading blank lines", "\n\n\r\n\rdata: x\n\n", {msg("x")}},
        {"blank lines between events", "data: a\n\n\n\n\r\n\r\ndata: b\n\n", {msg("a"), msg("b")}},
        {"NUL and UTF-8 in data", "data: a\0b h\xC3\xA9llo \xF0\x9F\x98\x80\n\n"s, {msg("a\0b h\xC3\xA9llo \xF0\x9F\x98\x80"s)}},
        {"partial event at EOF is dropped", "data: a\n\ndata: b\n", {msg("a")}, true},
        {"partial line at EOF is dropped", "data: a\n\ndata: b", {msg("a")}, true},
        {"CR after data then EOF", "data: a\r", {}, true},
        {"CR blank line at EOF dispatches", "data: a\r\n\r", {msg("a")}},
        {"trailing comment without blank line", "data: a\n\n: ping\n", {msg("a")}, true},
        {"empty input", "", {}},
        {"only a BOM", "\xEF\xBB\xBF", {}},
        {"half a BOM at EOF", "\xEF\xBB", {}, true},
    };
    return cases;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sse_decoder_whatwg)

BOOST_AUTO_TEST_CASE(each_case_whole) {
    for (const auto& c : whatwg_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            const decode_outcome expected{c.events, false, c.partial_at_end};
            BOOST_TEST(decode_sse({c.input}) == expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(each_case_split_at_every_offset) {
    for (const auto& c : whatwg_cases()) {
        const decode_outcome expected{c.events, false, c.partial_at_end};
        for (std::size_t cut = 0; cut <= c.input.size(); ++cut) {
            BOOST_TEST_CONTEXT(c.name << " cut at " << cut) {
                BOOST_TEST(decode_sse(split_at(c.input, {cut})) == expected);
            }
        }
        for (std::size_t a = 0; a <= c.input.size(); ++a)
            for (std::size_t b = a; b <= c.input.size(); ++b)
                BOOST_TEST_CONTEXT(c.name << " cut at " << a << " and " << b) {
                    BOOST_TEST(decode_sse(split_at(c.input, {a, b})) == expected);
                }
    }
}

BOOST_AUTO_TEST_CASE(each_case_byte_by_byte) {
    for (const auto& c : whatwg_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            const decode_outcome expected{c.events, false, c.partial_at_end};
            BOOST_TEST(decode_sse(bytes_of(c.input)) == expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sse_decoder_behaviour)

BOOST_AUTO_TEST_CASE(event_whole_in_piece_is_a_view_into_it) {
    const std::string piece = "event: t\ndata: payload\n\ndata: a\ndata: b\n\n";
    sse_decoder decoder;
    decoder.feed(piece);
    sse_event ev;
    chatwire::error_code ec;
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data == "payload");
    BOOST_TEST(ev.data.data() == piece.data() + 15);
    BOOST_TEST(ev.type.data() == piece.data() + 7);
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data == "a\nb");  // joined: decoder-owned, necessarily
    BOOST_TEST(decoder.next(ev, ec) == decode_status::need_more);
    BOOST_TEST(!decoder.finish());
}

BOOST_AUTO_TEST_CASE(only_the_partial_tail_is_copied) {
    std::string piece = "data: first\n\ndata: sec";
    sse_decoder decoder;
    decoder.feed(piece);
    sse_event ev;
    chatwire::error_code ec;
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data.data() == piece.data() + 6);
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::need_more);
    piece.assign(piece.size(), 'x');  // the caller reuses its buffer
    std::string rest = "ond\n\ndata: third\n\n";
    decoder.feed(rest);
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data == "second");
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data == "third");
    BOOST_TEST(ev.data.data() == rest.data() + 11);  // back to zero-copy
}

BOOST_AUTO_TEST_CASE(event_larger_than_the_limit_fails_whatever_the_split) {
    const std::string big = "data: " + std::string(100, 'x') + "\n\n";
    const std::string input = "data: ok\n\n" + big + "data: never\n\n";
    sse_decoder::options opts{.max_event_size = 64};
    const decode_outcome expected{{msg("ok")}, true, false};
    BOOST_TEST(decode_sse({input}, opts) == expected);
    BOOST_TEST(decode_sse(bytes_of(input), opts) == expected);
    for (std::size_t cut = 0; cut <= input.size(); ++cut) BOOST_TEST(decode_sse(split_at(input, {cut}), opts) == expected);
    // A truncated oversized block fails too.
    BOOST_TEST(decode_sse({"data: ok\n\n" + big.substr(0, 90)}, opts) == expected);
    // At the limit exactly is fine.
    const std::string exact = "data: " + std::string(57, 'y') + "\n";  // 64 bytes up to the blank line
    BOOST_REQUIRE(exact.size() == 64);
    BOOST_TEST(decode_sse(bytes_of(exact + "\n"), opts).events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(error_is_sticky_until_reset) {
    sse_decoder decoder({.max_event_size = 8});
    decoder.feed("data: 123456789\n\n");
    sse_event ev;
    chatwire::error_code ec;
    BOOST_TEST(decoder.next(ev, ec) == decode_status::error);
    BOOST_TEST(ec == chatwire::error_code(chatwire::errc::event_too_large));
    ec.clear();
    BOOST_TEST(decoder.next(ev, ec) == decode_status::error);
    BOOST_TEST(ec == chatwire::error_code(chatwire::errc::event_too_large));
    decoder.reset();
    decoder.feed("data: 1\n\n");
    BOOST_TEST(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data == "1");
}

BOOST_AUTO_TEST_CASE(last_event_id_survives_finish_but_not_reset) {
    sse_decoder decoder;
    decoder.feed("id: 42\ndata: a\n\ndata: cut");
    sse_event ev;
    chatwire::error_code ec;
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::need_more);
    BOOST_TEST(decoder.finish());
    BOOST_TEST(decoder.last_event_id() == "42");  // what a reconnection sends as Last-Event-ID
    decoder.feed("data: b\n\n");
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data == "b");
    BOOST_TEST(ev.last_event_id == "42");
    decoder.reset();
    BOOST_TEST(decoder.last_event_id().empty());
}

BOOST_AUTO_TEST_CASE(default_limit_holds_a_long_event) {
    sse_decoder decoder;
    const std::string input = "data: " + std::string(5u << 20, 'z') + "\n\n";
    const std::size_t half = input.size() / 2;
    decoder.feed(std::string_view(input).substr(0, half));
    sse_event ev;
    chatwire::error_code ec;
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::need_more);
    decoder.feed(std::string_view(input).substr(half));
    BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::event);
    BOOST_TEST(ev.data.size() == 5u << 20);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sse_decoder_one_byte_pieces)

// Bytes fed one at a time are staged and appended to the block in bulk: long
// lines, a stage that fills up, and whole pieces after staged bytes.
BOOST_AUTO_TEST_CASE(long_lines_byte_by_byte_and_mixed) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{65},
                          std::size_t{200}, std::size_t{1000}}) {
        const std::string text(n, 'q');
        const std::string input = "data: a\n\nevent: e\ndata: " + text + "\r\nid: " + text + "\n\n: c\rdata: " + text + "\r\r";
        const decode_outcome expected{{msg("a"), {"e", text, text, {}}, msg(text, text)}, false, false};
        BOOST_TEST_CONTEXT("line of " << n) {
            BOOST_TEST(decode_sse(bytes_of(input)) == expected);
            // Single bytes, then the rest in one piece, at every offset.
            for (std::size_t cut = 0; cut <= input.size(); ++cut) {
                std::vector<std::string> pieces = bytes_of(input.substr(0, cut));
                pieces.push_back(input.substr(cut));
                BOOST_TEST(decode_sse(pieces) == expected);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(staged_bytes_count_toward_the_limit) {
    const sse_decoder::options opts{.max_event_size = 100};
    for (std::size_t n : {std::size_t{92}, std::size_t{93}, std::size_t{94}}) {  // "data: " + n + "\n" is n + 7 bytes
        const std::string input = "data: " + std::string(n, 'z') + "\n\ndata: ok\n\n";
        const bool fits = n + 7 <= 100;
        const decode_outcome expected = fits ? decode_outcome{{msg(std::string(n, 'z')), msg("ok")}, false, false}
                                             : decode_outcome{{}, true, false};
        BOOST_TEST_CONTEXT("line of " << n) {
            BOOST_TEST(decode_sse(bytes_of(input), opts) == expected);
            BOOST_TEST(decode_sse({input}, opts) == expected);
        }
    }
    // Cut off while staged: too large already, or merely unfinished.
    BOOST_TEST(decode_sse(bytes_of("data: " + std::string(200, 'z')), opts) == (decode_outcome{{}, true, false}));
    BOOST_TEST(decode_sse(bytes_of("data: ok\n\ndata: " + std::string(50, 'z')), opts) ==
               (decode_outcome{{msg("ok")}, false, true}));
}

BOOST_AUTO_TEST_CASE(finish_and_reset_drop_staged_bytes) {
    sse_decoder decoder;
    sse_event ev;
    chatwire::error_code ec;
    const std::string first = "data: cut";
    for (char c : first) {
        decoder.feed(std::string_view(&c, 1));
        BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::need_more);
    }
    BOOST_TEST(decoder.finish());   // an unfinished block
    BOOST_TEST(!decoder.finish());  // and nothing left of it
    const std::string second = "\xEF\xBB\xBF" "data: new\n\n";
    std::vector<std::string> seen;
    for (char c : second) {
        decoder.feed(std::string_view(&c, 1));
        while (decoder.next(ev, ec) == decode_status::event) seen.emplace_back(ev.data);
    }
    BOOST_TEST(seen == std::vector<std::string>{"new"});  // a new stream: its BOM dropped, no bytes of the old one
    for (char c : std::string("data: x")) {
        decoder.feed(std::string_view(&c, 1));
        BOOST_REQUIRE(decoder.next(ev, ec) == decode_status::need_more);
    }
    decoder.reset();
    BOOST_TEST(!decoder.finish());
}

BOOST_AUTO_TEST_SUITE_END()
