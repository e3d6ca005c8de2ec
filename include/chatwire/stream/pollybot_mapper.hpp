#pragma once
// Maps PollyBot's SSE data payloads (start, token, done, error, [DONE]) to chat events.
#include <chatwire/error.hpp>
#include <chatwire/stream/event.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace chatwire::stream {

/// PollyBot's SSE events to chatwire events.
class pollybot_mapper {
public:
    pollybot_mapper();
    /// Text beyond `max_text_bytes` (16 MiB by default) ends the reply with
    /// errc::reply_too_large; text_so_far() keeps what came before it.
    explicit pollybot_mapper(std::size_t max_text_bytes);
    ~pollybot_mapper();
    /// Moves the mapper.
    pollybot_mapper(pollybot_mapper&&) noexcept;
    /// Moves the mapper.
    pollybot_mapper& operator=(pollybot_mapper&&) noexcept;

    /// Maps one SSE event's data. `produced` is false for a payload that carries
    /// no chat event (an unknown type, empty data). An `error` event yields an
    /// error event and errc::stream_error with the provider's code and message in
    /// `diag`; data that is neither `[DONE]` nor a JSON object gives
    /// errc::malformed_event. Views valid until the next map() or reset().
    error_code map(std::string_view data, event& out, bool& produced, diagnostics& diag);

    /// True once `done` or `[DONE]` was seen: a stream that ends before is truncated.
    bool terminal_seen() const noexcept;
    /// The reply text (token events) received so far.
    std::string_view text_so_far() const noexcept;
    /// Forgets everything seen, for a new reply.
    void reset() noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace chatwire::stream
