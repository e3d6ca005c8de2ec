#pragma once
// Maps ChatBotKit's streamed JSON lines ({"type":T,"data":{...}}) to chat events.
#include <chatwire/error.hpp>
#include <chatwire/stream/event.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace chatwire::stream {

/// ChatBotKit's JSON-line events to chatwire events.
class chatbotkit_mapper {
public:
    chatbotkit_mapper();
    /// Text beyond `max_text_bytes` (16 MiB by default) ends the reply with
    /// errc::reply_too_large; text_so_far() keeps what came before it.
    explicit chatbotkit_mapper(std::size_t max_text_bytes);
    ~chatbotkit_mapper();
    /// Moves the mapper.
    chatbotkit_mapper(chatbotkit_mapper&&) noexcept;
    /// Moves the mapper.
    chatbotkit_mapper& operator=(chatbotkit_mapper&&) noexcept;

    /// Maps one line. `produced` is false for a line that carries no chat event
    /// (an unknown type, a blank line). An `error` line yields an error event and
    /// errc::stream_error with the provider's message in `diag`; a line that is
    /// not a JSON object gives errc::malformed_event. The event's views point into
    /// `line` and into this mapper, valid until the next map() or reset().
    error_code map(std::string_view line, event& out, bool& produced, diagnostics& diag);

    /// True once the `result` line (the last line of a completion) was seen:
    /// a stream that ends before it is truncated.
    bool terminal_seen() const noexcept;
    /// The reply text (token lines) received so far.
    std::string_view text_so_far() const noexcept;
    /// Ready for a new stream; keeps buffers' capacity.
    void reset() noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace chatwire::stream
