// The JSON-lines decoder on arbitrary bytes: the same lines whole and in pieces,
// none holding a LF, none blank.
#include "fuzz_split.hpp"

#include <chatwire/stream/jsonl_decoder.hpp>

#include <string>

using namespace chatwire::stream;

namespace {

struct outcome {
    std::vector<std::string> lines;
    bool failed = false;
    bool unterminated = false;
    bool operator==(const outcome&) const = default;
};

bool drain(jsonl_decoder& decoder, outcome& out) {
    std::string_view line;
    chatwire::error_code ec;
    for (;;) {
        const decode_status status = decoder.next(line, ec);
        if (status == decode_status::need_more) return true;
        if (status == decode_status::error) {
            chatwire::fuzz::check(ec == chatwire::errc::event_too_large);
            out.failed = true;
            return false;
        }
        chatwire::fuzz::check(line.find('\n') == std::string_view::npos);
        chatwire::fuzz::check(line.find_first_not_of(" \t\r") != std::string_view::npos);
        out.lines.emplace_back(line);
    }
}

outcome decode(const std::vector<std::string_view>& pieces, std::size_t limit) {
    jsonl_decoder decoder({.max_line_size = limit});
    outcome out;
    std::string scratch;
    for (std::string_view piece : pieces) {
        scratch.assign(piece);
        decoder.feed(scratch);
        if (!drain(decoder, out)) return out;
        scratch.assign(scratch.size(), '#');
    }
    out.unterminated = decoder.finish();
    drain(decoder, out);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = chatwire::fuzz::split_header(data, size);
    const std::size_t limit = input.seed & 1 ? 32 : std::size_t{16} << 20;
    const outcome whole = decode({input.body}, limit);
    chatwire::fuzz::check(decode(chatwire::fuzz::pieces_of(input.body, input.seed), limit) == whole);
    return 0;
}
