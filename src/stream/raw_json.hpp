#pragma once
// Finding a string's bytes in a JSON document as they are written (escapes
// kept), without parsing it: for documents already parsed once, where only
// the positions are wanted. Used to skip text a later document repeats.
#include <cstddef>
#include <string_view>

namespace chatwire::stream::detail {

inline constexpr std::size_t no_position = static_cast<std::size_t>(-1);

/// The offset of the quote that closes the string whose content starts at
/// `from` (just past its opening quote), or no_position.
std::size_t string_content_end(std::string_view json, std::size_t from) noexcept;

/// The offset just past the opening quote of the string value of `key` in the
/// top-level object of `json`, or no_position when the key is absent, its
/// value is not a string, or it appears more than once. The key is compared as
/// written: a key spelled with escapes is not found. `json` is valid JSON.
std::size_t top_level_string_start(std::string_view json, std::string_view key) noexcept;

} // namespace chatwire::stream::detail
