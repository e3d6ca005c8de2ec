#include <chatwire/stream/reply_decoder.hpp>

#include <boost/system/errc.hpp>

#include <new>

namespace chatwire::stream {
namespace {

using any_mapper = std::variant<vectorshift_mapper, chatbotkit_mapper, pollybot_mapper>;

any_mapper make_mapper(format f, std::size_t max_text) {
    switch (f) {
    case format::chatbotkit_jsonl: return any_mapper(std::in_place_type<chatbotkit_mapper>, max_text);
    case format::pollybot_sse: return any_mapper(std::in_place_type<pollybot_mapper>, max_text);
    case format::vectorshift_sse: break;
    }
    return any_mapper(std::in_place_type<vectorshift_mapper>, max_text);
}

constexpr std::string_view bom = "\xEF\xBB\xBF";

// Leading bytes that say nothing about the framing: a BOM (or the start of
// one) and JSON whitespace.
bool says_nothing_yet(std::string_view head) noexcept {
    if (head.starts_with(bom)) head.remove_prefix(bom.size());
    else if (bom.starts_with(head)) return true;
    return head.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// A BOM and blank lines mean nothing before JSON lines; a mapper would take
// them for a line that is not JSON.
std::string_view without_leading_blanks(std::string_view head) noexcept {
    if (head.starts_with(bom)) head.remove_prefix(bom.size());
    const std::size_t at = head.find_first_not_of(" \t\r\n");
    return at == std::string_view::npos ? std::string_view{} : head.substr(at);
}

// A final reply (ChatBotKit `result`, PollyBot `done`, VectorShift's v1
// status event) or the `[DONE]` marker: every API's stream ends at the first
// of them. PollyBot's `[DONE]` after its `done` is then never read.
constexpr bool ends_reply(event_kind kind) noexcept {
    return kind == event_kind::result || kind == event_kind::done;
}

// Past this many leading blanks a body is taken as SSE, so that a peer cannot
// make the decoder hold an endless run of them.
constexpr std::size_t max_sniffed = 64 * 1024;

} // namespace

reply_decoder::reply_decoder(format f, reply_options options, std::string conversation_id)
    : frame_(options.frame == framing::json_lines || (options.frame == framing::automatic && f == format::chatbotkit_jsonl)
                 ? frame_state::json_lines
             : options.frame == framing::sse || f != format::vectorshift_sse ? frame_state::sse
                                                                              : frame_state::undecided),
      sse_(sse_decoder::options{.max_event_size = options.max_event_bytes}),
      jsonl_(jsonl_decoder::options{.max_line_size = options.max_event_bytes}),
      mapper_(make_mapper(f, options.max_reply_bytes)),
      conversation_id_(std::move(conversation_id)) {}

// VectorShift may answer with bare JSON lines instead of SSE: the first
// significant byte tells. True once decided; the bytes seen until then are
// kept in sniffed_ and fed with the piece that decides.
bool reply_decoder::decide_framing(std::string_view piece) {
    const bool held = !sniffed_.empty();
    if (held) sniffed_.append(piece);
    const std::string_view head = held ? std::string_view(sniffed_) : piece;
    if (says_nothing_yet(head) && head.size() < max_sniffed) {
        if (!held) sniffed_.assign(piece);
        return false;
    }
    frame_ = vectorshift_mapper::body_is_bare_json(head) ? frame_state::json_lines : frame_state::sse;
    return true;
}

void reply_decoder::feed(std::string_view piece) {
    if (final_ || body_end_) return;
    try {
        if (frame_ == frame_state::undecided) {
            if (!decide_framing(piece)) return;
            if (!sniffed_.empty()) piece = sniffed_;  // lives until the next feed()
            if (frame_ == frame_state::json_lines) piece = without_leading_blanks(piece);
        } else if (!sniffed_.empty()) {
            // The decoder copied what it still needed when it asked for more.
            sniffed_.clear();
            sniffed_.shrink_to_fit();
        }
    } catch (const std::bad_alloc&) {
        final_ = make_error_code(boost::system::errc::not_enough_memory);
        return;
    }
    if (frame_ == frame_state::json_lines) jsonl_.feed(piece);
    else sse_.feed(piece);
}

void reply_decoder::finish(error_code body_end, std::string_view detail) {
    if (final_ || body_end_) return;
    if (frame_ == frame_state::undecided) {
        // Only blanks arrived: as SSE they dispatch nothing.
        frame_ = frame_state::sse;
        if (!sniffed_.empty()) {
            sse_.feed(sniffed_);
            sse_event ignored;
            error_code ec;
            while (sse_.next(ignored, ec) == decode_status::event) {}
        }
    }
    if (body_end.category() != chatwire::error_category()) {
        // The connection broke mid-body (a reset, a TLS error): the reply is
        // cut short; the cause stays in the diagnostics.
        diag_.detail = "the connection broke: " + body_end.message();
        body_end = errc::truncated_stream;
    }
    if (!detail.empty()) diag_.detail.assign(detail);
    body_end_ = body_end;
    if (body_end == errc::end_of_stream || body_end == errc::truncated_stream) {
        // A JSON line needs no terminator; an SSE event cut off is dropped.
        if (frame_ == frame_state::json_lines) jsonl_.finish();
        else cut_event_ = sse_.finish();
    }
    if (body_end != errc::end_of_stream && diag_.detail.empty()) diag_.detail = "the response body broke off";
}

bool reply_decoder::next_payload(std::string_view& payload, error_code& ec) {
    decode_status status = decode_status::need_more;
    if (frame_ == frame_state::json_lines) {
        status = jsonl_.next(payload, ec);
    } else if (frame_ == frame_state::sse) {
        sse_event ev;
        status = sse_.next(ev, ec);
        payload = ev.data;
    }
    if (status == decode_status::need_more) ec = {};
    return status != decode_status::need_more;
}

bool reply_decoder::end(error_code code, error_code& ec, event& ev) {
    final_ = code;
    ec = code;
    ev = event{};
    return true;
}

bool reply_decoder::next(error_code& ec, event& ev) {
    if (final_) return end(final_, ec, ev);
    try {
        for (;;) {
            std::string_view payload;
            if (!next_payload(payload, ec)) {
                if (!body_end_) return false;
                const bool truncated = body_end_ == errc::end_of_stream && !terminal_seen();
                return end(truncated ? error_code(errc::truncated_stream) : body_end_, ec, ev);
            }
            if (ec) return end(ec, ec, ev);
            ++payloads_;
            bool produced = false;
            ec = std::visit([&](auto& m) { return m.map(payload, ev, produced, diag_); }, mapper_);
            if (ec) {
                final_ = ec;
                if (!produced) ev = event{};  // else it is the error event that carried the code
                return true;
            }
            if (!produced) continue;
            if (!ev.conversation_id.empty() && ev.conversation_id != conversation_id_)
                conversation_id_.assign(ev.conversation_id);
            // The API's last event: whatever follows it belongs to no reply,
            // and a body left open after it must not hold the reader.
            if (ends_reply(ev.kind)) [[unlikely]]
                final_ = errc::end_of_stream;
            return true;
        }
    } catch (const std::bad_alloc&) {
        // Inside an I/O completion an exception would leave the caller's
        // io_context::run(): running out of memory is a final code instead.
        return end(make_error_code(boost::system::errc::not_enough_memory), ec, ev);
    }
}

std::string_view reply_decoder::text_so_far() const noexcept {
    return std::visit([](const auto& m) { return m.text_so_far(); }, mapper_);
}

bool reply_decoder::terminal_seen() const noexcept {
    return std::visit([](const auto& m) { return m.terminal_seen(); }, mapper_);
}

} // namespace chatwire::stream
