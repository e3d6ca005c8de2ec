#pragma once
// A streamed chat reply decoded without any I/O: body bytes in, chat events
// out. It owns what every reader of a reply shares: the framing (SSE, or JSON
// lines, sniffed for VectorShift), the API's mapper, the rule that a body
// ending before the API's terminal event is truncated, the reply text so far,
// the conversation id and the diagnostics. chat_stream and `chatwire decode`
// both drive it; so can a test, with no socket.
#include <chatwire/error.hpp>
#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/event.hpp>
#include <chatwire/stream/format.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/reply_options.hpp>
#include <chatwire/stream/sse_decoder.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace chatwire::stream {

/// A whole streamed reply's bytes to events: framing and the API's mapping together.
class reply_decoder {
public:
    /// `conversation_id`: the conversation the reply continues, if known
    /// before the body says so.
    explicit reply_decoder(format f, reply_options options = {}, std::string conversation_id = {});

    /// The next piece of the body. Call it on a new decoder or after next()
    /// returned false. The piece is read in place: it must stay valid until
    /// next() returns false (then only an unfinished event is copied).
    void feed(std::string_view piece);

    /// The body ended: errc::end_of_stream when it was complete, any other
    /// code when it broke off. A code outside chatwire's category (a reset,
    /// a TLS error) counts as errc::truncated_stream with its message in the
    /// diagnostics; `detail`, when given, is kept there too. Call it after
    /// next() returned false, instead of feed().
    void finish(error_code body_end, std::string_view detail = {});

    /// What the I/O around the decoder knows of the transport, for the
    /// diagnostics: the HTTP version (11 or 20), and the HTTP/2 error code
    /// that cut the body off, if one did. A version of 0 (unknown) is ignored.
    void note_transport(int http_version, std::optional<std::uint32_t> http2_error = std::nullopt) noexcept {
        if (http_version != 0) diag_.http_version = http_version;
        if (http2_error) diag_.http2_error = http2_error;
    }

    /// True with an event (`ec` clear) or a final code, false when the bytes
    /// fed so far hold nothing more: feed() or finish() then. The final code is
    /// errc::end_of_stream right after the API's terminal event (a `result`,
    /// PollyBot's `done`, VectorShift's final status event, or `[DONE]`:
    /// whichever comes first), whether or not the body goes on, as nothing
    /// after it belongs to the reply; without one (VectorShift's legacy
    /// stream) when the body ends. errc::truncated_stream for
    /// a body that ended before it, errc::stream_error or errc::run_failed for
    /// the provider's error event (which is then in `ev`; otherwise `ev` is
    /// empty with a final code), errc::malformed_event, errc::event_too_large,
    /// errc::reply_too_large, or how the body broke off; later calls repeat it.
    /// The event's views stay valid until the next call to next() or feed().
    bool next(error_code& ec, event& ev);

    /// The reply text received so far (all token deltas joined).
    std::string_view text_so_far() const noexcept;
    /// The conversation to pass back to continue it (once the API sent it).
    std::string_view conversation_id() const noexcept { return conversation_id_; }
    /// Whether the API's terminal event was seen: the body may end here.
    bool terminal_seen() const noexcept;
    /// True once the reply ended whole: next() handed out its terminal event
    /// (or the body ended after one). What the body still holds is not decoded.
    bool reply_complete() const noexcept { return final_ == errc::end_of_stream; }
    /// The provider's code and message, or what went wrong, once it failed.
    const chatwire::diagnostics& diagnostics() const noexcept { return diag_; }
    /// SSE events or JSON lines decoded so far, mapped to an event or not.
    std::size_t payload_count() const noexcept { return payloads_; }
    /// The body ended inside an SSE event, which was not dispatched (WHATWG).
    bool ended_inside_event() const noexcept { return cut_event_; }

private:
    enum class frame_state { undecided, sse, json_lines };

    bool decide_framing(std::string_view piece);
    bool next_payload(std::string_view& payload, error_code& ec);
    bool end(error_code ec, error_code& out, event& ev);

    frame_state frame_;
    sse_decoder sse_;
    jsonl_decoder jsonl_;
    std::variant<vectorshift_mapper, chatbotkit_mapper, pollybot_mapper> mapper_;
    std::string sniffed_;        // leading bytes that could not tell the framing yet
    std::string conversation_id_;
    chatwire::diagnostics diag_;
    std::size_t payloads_ = 0;
    error_code body_end_;        // set once the body has ended
    error_code final_;           // set once the reply has ended
    bool cut_event_ = false;
};

} // namespace chatwire::stream
