// reply_decoder on arbitrary bodies, for each format and framing: no crash,
// no sanitizer report, and
//   - text_so_far() is always the concatenation of the token events' text,
//     and never longer than max_reply_bytes;
//   - the events, final code, text, conversation id and diagnostics are the
//     same whole and split at fuzzer-chosen points (each piece is read from
//     a buffer that is overwritten once the decoder asked for more);
//   - once the reply ended, next() repeats the final code and feed() changes nothing.
// Input: byte 0 picks the format, framing, limits and how the body ends;
// byte 1 seeds the split (or, with its high bit set, the cut points are
// named in the input: see chosen_pieces); the rest is the body.
#include "fuzz_split.hpp"

#include <chatwire/stream/reply_decoder.hpp>

#include <boost/asio/error.hpp>

#include <string>

using namespace chatwire::stream;
using chatwire::errc;
using chatwire::error_code;
using chatwire::fuzz::check;

namespace {

struct setup {
    format f = format::vectorshift_sse;
    reply_options options;
    error_code body_end = errc::end_of_stream;
};

setup setup_of(std::uint8_t b) {
    setup s;
    static constexpr format formats[] = {format::vectorshift_sse, format::chatbotkit_jsonl, format::pollybot_sse};
    static constexpr framing framings[] = {framing::automatic, framing::sse, framing::json_lines, framing::automatic};
    s.f = formats[(b & 3) % 3];
    s.options.frame = framings[(b >> 2) & 3];
    if (b & 0x10) s.options.max_reply_bytes = 24;
    if (b & 0x20) s.options.max_event_bytes = 48;
    switch (b >> 6) {
    case 0:
    case 1: s.body_end = errc::end_of_stream; break;
    case 2: s.body_end = errc::truncated_stream; break;
    default: s.body_end = boost::asio::error::connection_reset; break;
    }
    return s;
}

struct outcome {
    std::vector<std::string> events;  // kind and fields joined
    error_code end;
    std::string text;
    std::string conversation_id;
    std::string diag;
    bool terminal = false;
    std::size_t payloads = 0;
    bool cut_event = false;
    bool operator==(const outcome&) const = default;
};

std::string flatten(const event& ev) {
    std::string out(to_string(ev.kind));
    for (std::string_view f : {ev.text, ev.raw, ev.conversation_id, ev.id, ev.message_type, ev.model, ev.end_reason,
                               ev.error_code, ev.function_name})
        out.append(1, '\0').append(f);
    for (const auto& n : {ev.input_tokens, ev.output_tokens, ev.total_tokens})
        out.append(1, '\0').append(n ? std::to_string(*n) : "-");
    return out;
}

class run {
public:
    explicit run(const setup& s) : s_(s), d_(s.f, s.options) {}

    // Drains the events the bytes so far hold; true once the reply ended.
    bool drain() {
        error_code ec;
        event ev;
        while (d_.next(ec, ev)) {
            if (!ec || !ev.raw.empty()) {
                if (ev.kind == event_kind::token && !ec) tokens_.append(ev.text);
                out_.events.push_back(flatten(ev));
            }
            check_text();
            if (ec) {
                out_.end = ec;
                return true;
            }
        }
        check_text();
        return false;
    }

    outcome finish_with(const std::vector<std::string_view>& pieces) {
        std::string scratch;
        for (std::string_view piece : pieces) {
            scratch.assign(piece);
            d_.feed(scratch);
            const bool ended = drain();
            scratch.assign(scratch.size(), '#');  // the decoder must have copied what it keeps
            if (ended) return result();
        }
        d_.finish(s_.body_end);
        const bool ended = drain();
        check(ended);
        return result();
    }

private:
    void check_text() const {
        check(d_.text_so_far() == tokens_);
        check(d_.text_so_far().size() <= s_.options.max_reply_bytes);
    }

    outcome result() {
        // A reply that ended stays ended.
        const outcome before = snapshot();
        d_.feed("data: {\"type\":\"token\",\"data\":{\"token\":\"x\"}}\n\n");
        error_code ec;
        event ev;
        check(d_.next(ec, ev) && ec == out_.end);
        check(d_.text_so_far() == tokens_);
        check(snapshot() == before);
        return before;
    }

    outcome snapshot() const {
        outcome o = out_;
        o.text.assign(d_.text_so_far());
        o.conversation_id.assign(d_.conversation_id());
        const auto& diag = d_.diagnostics();
        o.diag = diag.provider_code + '\0' + diag.provider_message + '\0' + diag.detail;
        o.terminal = d_.terminal_seen();
        o.payloads = d_.payload_count();
        o.cut_event = d_.ended_inside_event();
        if (o.end == errc::end_of_stream) check(o.terminal);
        return o;
    }

    setup s_;
    reply_decoder d_;
    outcome out_;
    std::string tokens_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const setup s = setup_of(data[0]);
    const auto input = chatwire::fuzz::split_header(data + 1, size - 1);
    std::string_view body = input.body;
    std::vector<std::string_view> pieces;
    if (input.seed & 0x80 && !body.empty()) {
        // The cut points are named in the input (see chosen_pieces); the body is what follows them.
        pieces = chatwire::fuzz::chosen_pieces(body);
        body = {pieces.front().data(), static_cast<std::size_t>(pieces.back().data() + pieces.back().size() -
                                                                pieces.front().data())};
    } else {
        pieces = chatwire::fuzz::pieces_of(body, input.seed);
    }
    const outcome whole = run(s).finish_with({body});
    const outcome split = run(s).finish_with(pieces);
    check(split == whole);
    return 0;
}
