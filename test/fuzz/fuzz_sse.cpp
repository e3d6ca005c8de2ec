// The SSE decoder on arbitrary bytes: no crash, no sanitizer report, and the
// same events (and the same failure) whole and in pieces.
#include "fuzz_split.hpp"

#include <chatwire/stream/sse_decoder.hpp>

#include <string>

using namespace chatwire::stream;

namespace {

struct outcome {
    std::vector<std::string> events;  // type, data and id joined
    bool failed = false;
    bool partial = false;
    bool operator==(const outcome&) const = default;
};

outcome decode(const std::vector<std::string_view>& pieces, std::size_t limit) {
    sse_decoder decoder({.max_event_size = limit});
    outcome out;
    std::string scratch;
    for (std::string_view piece : pieces) {
        scratch.assign(piece);  // fed from a buffer that is overwritten after use
        decoder.feed(scratch);
        sse_event ev;
        chatwire::error_code ec;
        for (;;) {
            const decode_status status = decoder.next(ev, ec);
            if (status == decode_status::need_more) break;
            if (status == decode_status::error) {
                chatwire::fuzz::check(ec == chatwire::errc::event_too_large);
                out.failed = true;
                return out;
            }
            chatwire::fuzz::check(!ev.type.empty());
            std::string e(ev.type);
            e.append(1, '\0').append(ev.data).append(1, '\0').append(ev.last_event_id);
            if (ev.retry) e.append(1, '\0').append(std::to_string(*ev.retry));
            out.events.push_back(std::move(e));
        }
        scratch.assign(scratch.size(), '#');
    }
    out.partial = decoder.finish();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = chatwire::fuzz::split_header(data, size);
    const std::size_t limit = input.seed & 1 ? 64 : std::size_t{16} << 20;
    const outcome whole = decode({input.body}, limit);
    chatwire::fuzz::check(decode(chatwire::fuzz::pieces_of(input.body, input.seed), limit) == whole);
    return 0;
}
