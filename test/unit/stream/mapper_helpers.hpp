#pragma once
// Decodes a whole captured body in the given pieces and maps every payload,
// recording the owned events and how the stream ended.
#include "decode_helpers.hpp"

#include <chatwire/stream/event.hpp>

#include <string>
#include <vector>

namespace chatwire::stream::test {

struct mapped_stream {
    std::vector<owned_event> events;
    error_code error;           // the first error a mapper reported
    diagnostics diag;
    bool terminal_seen = false;
    std::string text_so_far;
};

template <class Mapper>
void map_payload(Mapper& mapper, std::string_view payload, mapped_stream& out) {
    event ev;
    bool produced = false;
    const error_code ec = mapper.map(payload, ev, produced, out.diag);
    if (produced) out.events.push_back(ev.to_owned());
    if (ec && !out.error) out.error = ec;
}

template <class Mapper>
mapped_stream map_sse(Mapper& mapper, const std::vector<std::string>& pieces) {
    mapped_stream out;
    sse_decoder decoder;
    for (const auto& piece : pieces) {
        decoder.feed(piece);
        sse_event ev;
        error_code ec;
        while (!out.error && decoder.next(ev, ec) == decode_status::event) map_payload(mapper, ev.data, out);
    }
    decoder.finish();
    out.terminal_seen = mapper.terminal_seen();
    out.text_so_far = mapper.text_so_far();
    return out;
}

template <class Mapper>
mapped_stream map_jsonl(Mapper& mapper, const std::vector<std::string>& pieces) {
    mapped_stream out;
    jsonl_decoder decoder;
    std::string_view line;
    error_code ec;
    for (const auto& piece : pieces) {
        decoder.feed(piece);
        while (!out.error && decoder.next(line, ec) == decode_status::event) map_payload(mapper, line, out);
    }
    decoder.finish();
    while (!out.error && decoder.next(line, ec) == decode_status::event) map_payload(mapper, line, out);
    out.terminal_seen = mapper.terminal_seen();
    out.text_so_far = mapper.text_so_far();
    return out;
}

inline std::vector<std::string> kinds_of(const mapped_stream& s) {
    std::vector<std::string> kinds;
    for (const auto& e : s.events) kinds.emplace_back(to_string(e.kind));
    return kinds;
}

inline std::vector<std::string> texts_of(const mapped_stream& s, event_kind kind) {
    std::vector<std::string> texts;
    for (const auto& e : s.events)
        if (e.kind == kind) texts.push_back(e.text);
    return texts;
}

} // namespace chatwire::stream::test
