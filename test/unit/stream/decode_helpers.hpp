#pragma once
// Runs the decoders over a whole input split into given pieces and records
// what comes out, so that tests compare outcomes instead of call sequences.
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/sse_decoder.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace chatwire::stream {

inline std::ostream& operator<<(std::ostream& os, decode_status s) {
    return os << (s == decode_status::event ? "event" : s == decode_status::need_more ? "need_more" : "error");
}

} // namespace chatwire::stream

namespace chatwire::stream::test {

struct recorded_event {
    std::string type;
    std::string data;
    std::string id;
    std::optional<std::uint64_t> retry;

    bool operator==(const recorded_event&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const recorded_event& e) {
    os << "{type=" << e.type << " data=[" << e.data << "] id=" << e.id << " retry=";
    if (e.retry) os << *e.retry; else os << "none";
    return os << "}";
}

struct decode_outcome {
    std::vector<recorded_event> events;
    bool failed = false;        // event_too_large
    bool partial_at_end = false;

    bool operator==(const decode_outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const decode_outcome& o) {
    os << "events:";
    for (const auto& e : o.events) os << " " << e;
    return os << " failed=" << o.failed << " partial=" << o.partial_at_end;
}

/// Pieces of `input` cut at the given ascending offsets.
inline std::vector<std::string> split_at(std::string_view input, const std::vector<std::size_t>& cuts) {
    std::vector<std::string> pieces;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        pieces.emplace_back(input.substr(from, cut - from));
        from = cut;
    }
    pieces.emplace_back(input.substr(from));
    return pieces;
}

inline std::vector<std::string> bytes_of(std::string_view input) {
    std::vector<std::string> pieces;
    for (char c : input) pieces.emplace_back(1, c);
    return pieces;
}

/// Each piece is fed from a scratch buffer that is overwritten afterwards, so
/// a decoder that keeps a view too long is caught.
inline decode_outcome decode_sse(const std::vector<std::string>& pieces, sse_decoder::options opts = {}) {
    sse_decoder decoder(opts);
    decode_outcome outcome;
    std::string scratch;
    for (const auto& piece : pieces) {
        scratch = piece;
        decoder.feed(scratch);
        for (;;) {
            sse_event ev;
            error_code ec;
            const auto status = decoder.next(ev, ec);
            if (status == decode_status::need_more) break;
            if (status == decode_status::error) {
                outcome.failed = true;
                return outcome;
            }
            outcome.events.push_back({std::string(ev.type), std::string(ev.data), std::string(ev.last_event_id), ev.retry});
        }
        scratch.assign(scratch.size(), '#');
    }
    outcome.partial_at_end = decoder.finish();
    return outcome;
}

struct jsonl_outcome {
    std::vector<std::string> lines;
    bool failed = false;
    bool unterminated_last_line = false;

    bool operator==(const jsonl_outcome&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const jsonl_outcome& o) {
    os << "lines:";
    for (const auto& l : o.lines) os << " [" << l << "]";
    return os << " failed=" << o.failed << " unterminated=" << o.unterminated_last_line;
}

inline jsonl_outcome decode_jsonl(const std::vector<std::string>& pieces, jsonl_decoder::options opts = {}) {
    jsonl_decoder decoder(opts);
    jsonl_outcome outcome;
    std::string scratch;
    auto drain = [&] {
        for (;;) {
            std::string_view line;
            error_code ec;
            const auto status = decoder.next(line, ec);
            if (status == decode_status::need_more) return true;
            if (status == decode_status::error) {
                outcome.failed = true;
                return false;
            }
            outcome.lines.emplace_back(line);
        }
    };
    for (const auto& piece : pieces) {
        scratch = piece;
        decoder.feed(scratch);
        if (!drain()) return outcome;
        scratch.assign(scratch.size(), '#');
    }
    outcome.unterminated_last_line = decoder.finish();
    drain();
    return outcome;
}

} // namespace chatwire::stream::test
