#pragma once
// Small pieces the three mappers share.
#include <chatwire/error.hpp>
#include <chatwire/stream/event.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire::stream::detail {

inline std::string_view trim_json_space(std::string_view s) noexcept {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

/// `out = event{}`, field by field: GCC turns the whole-object assignment into
/// `rep stos`, whose start-up costs more than the rest of a token's mapping.
inline void clear_event(event& out) noexcept {
    out.kind = event_kind::token;
    out.text = {};
    out.raw = {};
    out.conversation_id = {};
    out.id = {};
    out.message_type = {};
    out.model = {};
    out.end_reason = {};
    out.error_code = {};
    out.function_name = {};
    out.input_tokens.reset();
    out.output_tokens.reset();
    out.total_tokens.reset();
}

/// The `[DONE]` end marker some SSE APIs send after their last event.
inline bool is_done_marker(std::string_view payload) noexcept {
    return trim_json_space(payload) == "[DONE]";
}

inline error_code provider_error(errc code, diagnostics& diag, std::string_view provider_code,
                                 std::string_view message) {
    diag.provider_code.assign(provider_code);
    diag.provider_message.assign(message);
    return code;
}

inline error_code malformed(diagnostics& diag, std::string_view what) {
    diag.detail.assign(what);
    return errc::malformed_event;
}

/// The reply text a mapper keeps unless told otherwise (16 MiB).
inline constexpr std::size_t default_max_text = std::size_t{16} << 20;

/// Appends new reply text unless the reply would outgrow `max`: then the text
/// stays as it was, so what the caller already has is still the whole reply.
inline error_code append_reply_text(std::string& text, std::string_view more, std::size_t max, diagnostics& diag) {
    if (text.size() > max || more.size() > max - text.size()) {
        diag.detail = "the reply text would exceed " + std::to_string(max) + " bytes";
        return errc::reply_too_large;
    }
    text.append(more);
    return {};
}

} // namespace chatwire::stream::detail
