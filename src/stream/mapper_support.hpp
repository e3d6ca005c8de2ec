#pragma once
// Small pieces the three mappers share.
#include <chatwire/error.hpp>

#include <optional>
#include <string_view>

namespace chatwire::stream::detail {

inline std::string_view trim_json_space(std::string_view s) noexcept {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
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

} // namespace chatwire::stream::detail
