#include <chatwire/stream/event.hpp>

namespace chatwire::stream {

std::string_view to_string(event_kind kind) noexcept {
    switch (kind) {
    case event_kind::begin: return "begin";
    case event_kind::token: return "token";
    case event_kind::reasoning_token: return "reasoning_token";
    case event_kind::message: return "message";
    case event_kind::usage: return "usage";
    case event_kind::end: return "end";
    case event_kind::wait_begin: return "wait_begin";
    case event_kind::wait_end: return "wait_end";
    case event_kind::abort: return "abort";
    case event_kind::error: return "error";
    case event_kind::result: return "result";
    case event_kind::done: return "done";
    case event_kind::item: return "item";
    }
    return "unknown";
}

owned_event event::to_owned() const {
    return {kind,          std::string(text),       std::string(raw),        std::string(conversation_id),
            std::string(id), std::string(message_type), std::string(model),  std::string(end_reason),
            std::string(error_code), std::string(function_name), input_tokens, output_tokens, total_tokens};
}

event owned_event::view() const noexcept {
    return {kind, text, raw, conversation_id, id, message_type, model, end_reason,
            error_code, function_name, input_tokens, output_tokens, total_tokens};
}

} // namespace chatwire::stream
