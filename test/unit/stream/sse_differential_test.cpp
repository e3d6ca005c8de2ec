// Generated streams decoded whole, byte by byte and in random pieces must all
// agree with a direct, unoptimised reading of the WHATWG algorithm.
#include <boost/test/unit_test.hpp>

#include "decode_helpers.hpp"

#include <random>
#include <string>
#include <vector>

using namespace chatwire::stream;
using namespace chatwire::stream::test;

namespace {

// The WHATWG "interpret an event stream" steps, over a whole buffer, with the
// size limit measured the decoder's way (a block's bytes up to its blank line).
decode_outcome reference_decode(std::string_view in, std::size_t max_event_size) {
    decode_outcome out;
    if (in.starts_with("\xEF\xBB\xBF")) in.remove_prefix(3);
    std::string data, type, last_id, id_buffer;
    bool has_data = false;
    std::optional<std::uint64_t> retry;
    std::size_t pos = 0, block_start = 0;
    while (true) {
        std::size_t eol = pos;
        while (eol < in.size() && in[eol] != '\n' && in[eol] != '\r') ++eol;
        if (eol == in.size()) break;  // an unterminated line is never processed
        const std::string_view line = in.substr(pos, eol - pos);
        std::size_t next = eol + 1;
        if (in[eol] == '\r' && next < in.size() && in[next] == '\n') ++next;
        if (line.empty()) {
            if (eol - block_start > max_event_size) {
                out.failed = true;
                return out;
            }
            if (has_data) out.events.push_back({type.empty() ? "message" : type, data, last_id, retry});
            data.clear();
            type.clear();
            has_data = false;
            block_start = next;
        } else if (line[0] != ':') {
            const auto colon = line.find(':');
            const std::string_view name = line.substr(0, colon);
            std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
            if (name == "data") {
                if (has_data) data += '\n';
                data += value;
                has_data = true;
            } else if (name == "event") {
                type = value;
            } else if (name == "id") {
                if (value.find('\0') == std::string_view::npos) last_id = value;
            } else if (name == "retry") {
                bool digits = !value.empty() && value.size() < 19;
                for (char c : value) digits = digits && c >= '0' && c <= '9';
                if (digits) retry = std::stoull(std::string(value));
            }
        }
        pos = next;
    }
    if (in.size() - block_start > max_event_size) {
        out.failed = true;
        return out;
    }
    out.partial_at_end = block_start < in.size();
    return out;
}

std::string random_stream(std::mt19937& rng) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    static const char* const texts[] = {"", "x", "hello", " spaced", "a:b", "{\"k\":\"v\"}", "h\xC3\xA9", "\xF0\x9F\x98\x80",
                                        "tab\there", "long text long text long text long text", "\xEF\xBB\xBF"};
    static const char* const line_ends[] = {"\n", "\r", "\r\n"};
    std::string s;
    if (pick(4) == 0) s += "\xEF\xBB\xBF";
    const int lines = 1 + pick(40);
    for (int i = 0; i < lines; ++i) {
        const char* text = texts[pick(std::size(texts))];
        switch (pick(10)) {
        case 0: case 1: case 2: s += "data: "; s += text; break;
        case 3: s += "data:"; s += text; break;
        case 4: s += "event: "; s += text; break;
        case 5: s += pick(3) == 0 ? std::string("id: a\0b", 7) : std::string("id: ") + text; break;
        case 6: s += pick(2) ? "retry: " + std::to_string(rng() % 5000) : std::string("retry: 1x"); break;
        case 7: s += ":"; s += text; break;
        case 8: s += pick(2) ? "data" : "other: x"; break;
        default: break;  // a blank line
        }
        s += line_ends[pick(3)];
    }
    if (pick(3) == 0) s.resize(s.size() - rng() % std::min<std::size_t>(s.size(), 5));  // cut off
    return s;
}

std::vector<std::string> random_pieces(std::string_view s, std::mt19937& rng) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0; at < s.size();) {
        at += 1 + rng() % 12;
        if (at < s.size()) cuts.push_back(at);
    }
    return split_at(s, cuts);
}

} // namespace

BOOST_AUTO_TEST_CASE(sse_generated_streams_agree_in_any_split) {
    std::mt19937 rng(20240611);
    for (int round = 0; round < 3000; ++round) {
        const std::string s = random_stream(rng);
        const std::size_t limit = round % 3 == 0 ? 48 : std::size_t{16} << 20;
        const sse_decoder::options opts{.max_event_size = limit};
        const decode_outcome expected = reference_decode(s, limit);
        BOOST_TEST_CONTEXT("round " << round << " limit " << limit) {
            BOOST_TEST(decode_sse({s}, opts) == expected);
            BOOST_TEST(decode_sse(bytes_of(s), opts) == expected);
            BOOST_TEST(decode_sse(random_pieces(s, rng), opts) == expected);
        }
    }
}

namespace {

std::vector<std::string> big_pieces(std::string_view s, std::mt19937& rng) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0; at < s.size();) {
        switch (rng() % 3) {
        case 0: at += 1 + rng() % 9000; break;
        case 1: at += 64 - at % 64 + rng() % 3 - 1; break;  // near a 64-byte block edge of a piece
        default: at += 1 + rng() % 3; break;                 // tiny pieces between big ones
        }
        if (at < s.size() && (cuts.empty() || at > cuts.back())) cuts.push_back(at);
    }
    return split_at(s, cuts);
}

} // namespace

// Long pieces: line ends are found a batch of 64-byte blocks ahead, so blocks
// and batches end anywhere in a line, in a CRLF, or in a run of blank lines
// longer than a batch holds.
BOOST_AUTO_TEST_CASE(sse_long_streams_agree_in_big_pieces) {
    std::mt19937 rng(424242);
    for (int round = 0; round < 60; ++round) {
        std::string s;
        while (s.size() < 24000) {
            s += random_stream(rng);
            if (rng() % 4 == 0) s.append(rng() % 300, rng() % 2 ? '\n' : '\r');
            if (rng() % 4 == 0) {
                s += "data: ";
                s.append(rng() % 4000, 'x');
                s += rng() % 2 ? "\r\n\r\n" : "\n\n";
            }
            if (rng() % 4 == 0) {
                for (int i = 0; i < 150; ++i) s += "\r\n";
            }
        }
        const std::size_t limit = round % 4 == 0 ? 3000 : std::size_t{16} << 20;
        const sse_decoder::options opts{.max_event_size = limit};
        const decode_outcome expected = reference_decode(s, limit);
        BOOST_TEST_CONTEXT("round " << round << " limit " << limit) {
            BOOST_TEST(decode_sse({s}, opts) == expected);
            BOOST_TEST(decode_sse(big_pieces(s, rng), opts) == expected);
            if (round % 10 == 0) BOOST_TEST(decode_sse(bytes_of(s), opts) == expected);
        }
    }
}
