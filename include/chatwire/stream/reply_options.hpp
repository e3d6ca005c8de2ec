#pragma once
// What a reply_decoder (and so a chat_stream) accepts from a streamed body.
#include <cstddef>

namespace chatwire::stream {

/// How a body is framed. `automatic` follows the format: SSE, or JSON lines
/// for ChatBotKit; a VectorShift body starting with `{` or `[` is JSON lines.
enum class framing { automatic, sse, json_lines };

/// Limits and framing of a streamed reply.
struct reply_options {
    /// The reply text kept in text_so_far(): a reply that would outgrow it
    /// ends with errc::reply_too_large (the text before it is kept).
    std::size_t max_reply_bytes = std::size_t{16} << 20;
    /// One SSE event or JSON line: a larger one ends with errc::event_too_large.
    std::size_t max_event_bytes = std::size_t{16} << 20;
    /// How the body is framed (automatic: from its Content-Type).
    framing frame = framing::automatic;
};

} // namespace chatwire::stream
