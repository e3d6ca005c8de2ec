#pragma once
// The chat event every API's stream is mapped to. Its views point into the
// decoder's or the mapper's buffers and stay valid until the next event;
// to_owned() keeps one for longer.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire::stream {

enum class event_kind {
    begin,            ///< a reply starts (ChatBotKit completeBegin, PollyBot start)
    token,            ///< new reply text: `text` holds only the new piece
    reasoning_token,  ///< new reasoning text (ChatBotKit reasoningToken)
    message,          ///< a whole message (ChatBotKit message: `text`, `message_type`)
    usage,            ///< token counts (`model`, `input_tokens`, `output_tokens`, `total_tokens`)
    end,              ///< the completion ended (ChatBotKit completeEnd)
    wait_begin,       ///< ChatBotKit waitForChannelMessageBegin
    wait_end,         ///< ChatBotKit waitForChannelMessageEnd
    abort,            ///< the provider aborted the completion (`text` = reason, `function_name`)
    error,            ///< an error event inside the stream (`text` = message, `error_code`)
    result,           ///< the final reply (ChatBotKit result, PollyBot done, VectorShift v1 final status)
    done,             ///< the `[DONE]` end marker
    item,             ///< an item of a ChatBotKit JSONL list stream (`raw` = the whole line)
};

/// The name used in the CLI's output and logs, e.g. "reasoning_token".
std::string_view to_string(event_kind kind) noexcept;

struct owned_event;

/// One event of a streamed reply; its views are valid until the next read.
struct event {
    /// What happened.
    event_kind kind = event_kind::token;
    std::string_view text;             ///< see event_kind; empty when the kind has none
    std::string_view raw;              ///< the event's whole JSON payload
    std::string_view conversation_id;  ///< when the API sends one with this event
    std::string_view id;               ///< the reply's id (ChatBotKit result `id`, PollyBot `messageId`)
    std::string_view message_type;     ///< ChatBotKit message `type` ("bot", "user", ...)
    std::string_view model;            ///< usage: the model name
    std::string_view end_reason;       ///< ChatBotKit result `end.reason` ("stop", "length", ...)
    std::string_view error_code;       ///< the provider's error code (PollyBot `code`)
    std::string_view function_name;    ///< ChatBotKit abort `functionName`
    /// Usage: the tokens of the prompt and of the reply, when the API says.
    ///@{
    std::optional<std::uint64_t> input_tokens;
    std::optional<std::uint64_t> output_tokens;
    ///@}
    std::optional<std::uint64_t> total_tokens;  ///< ChatBotKit result `usage.token`

    /// A copy that owns its strings.
    owned_event to_owned() const;
};

/// An event that owns its strings.
struct owned_event {
    /// What happened.
    event_kind kind = event_kind::token;
    /// As in event, owned.
    ///@{
    std::string text;
    std::string raw;
    std::string conversation_id;
    std::string id;
    std::string message_type;
    std::string model;
    std::string end_reason;
    std::string error_code;
    std::string function_name;
    std::optional<std::uint64_t> input_tokens;
    std::optional<std::uint64_t> output_tokens;
    std::optional<std::uint64_t> total_tokens;
    ///@}

    /// A view of this event, valid while it lives unchanged.
    event view() const noexcept;
};

} // namespace chatwire::stream
