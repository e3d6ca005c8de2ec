#pragma once
// What a client accepts as its API key. Every provider client (and
// chat_client) checks its key once, when it is built: a key this refuses makes
// each call fail with errc::invalid_argument before a byte is sent.
#include <cstddef>
#include <string>
#include <string_view>

namespace chatwire {

/// The longest key a client sends, in bytes (real keys are a few dozen).
inline constexpr std::size_t max_api_key_size = 64 * 1024;

/// Why `key` cannot be sent as a credential, or an empty string when it can.
/// Refused: an empty key, one of only spaces, one longer than
/// max_api_key_size, one holding a control character (C0 such as NUL, CR or
/// LF, DEL, or a C1 control U+0080..U+009F), and invalid UTF-8. The reason
/// names a byte position and a control's code, never the key's text.
std::string api_key_problem(std::string_view key);

} // namespace chatwire
