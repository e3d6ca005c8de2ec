#pragma once
// Maps VectorShift's streamed events to chat events: the legacy chatbot
// endpoint's `output` (cumulative or chunked: detected per stream) and the v1
// API's `{"type":"stream","output_value":…}` chunks and final status event.
#include <chatwire/error.hpp>
#include <chatwire/stream/event.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace chatwire::stream {

/// VectorShift's SSE events to chatwire events.
class vectorshift_mapper {
public:
    vectorshift_mapper();
    /// Text beyond `max_text_bytes` (16 MiB by default) ends the reply with
    /// errc::reply_too_large; text_so_far() keeps what came before it.
    explicit vectorshift_mapper(std::size_t max_text_bytes);
    ~vectorshift_mapper();
    /// Moves the mapper.
    vectorshift_mapper(vectorshift_mapper&&) noexcept;
    /// Moves the mapper.
    vectorshift_mapper& operator=(vectorshift_mapper&&) noexcept;

    /// Maps one payload (an SSE event's data or a bare JSON line). Output text
    /// becomes token events holding only the new text: when an `output` starts
    /// with the text so far the stream is cumulative and the delta is the new
    /// suffix, otherwise it is a chunk; the first decisive event fixes the mode.
    /// `status:"failed"` yields an error event and errc::run_failed, an `error`
    /// without status errc::stream_error, both with the message in `diag`.
    /// Views valid until the next map() or reset().
    error_code map(std::string_view payload, event& out, bool& produced, diagnostics& diag);

    /// True when the stream may end here: after a legacy `output` event (the
    /// legacy endpoint ends with its body), the v1 final status event or `[DONE]`.
    bool terminal_seen() const noexcept;
    /// The reply text received so far (the deltas joined).
    std::string_view text_so_far() const noexcept;
    /// Forgets everything seen, for a new reply.
    void reset() noexcept;

    /// Whether a body is bare JSON lines rather than SSE, judged from its first
    /// bytes (after an optional BOM and whitespace): `{` or `[` starts JSON.
    /// Such a body goes through jsonl_decoder instead of sse_decoder.
    static bool body_is_bare_json(std::string_view head) noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace chatwire::stream
