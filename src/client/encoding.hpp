#pragma once
// The text encodings the clients put on the wire: percent-encoding for ids in
// paths and queries, base64 for uploaded bytes in JSON.
#include <string>
#include <string_view>

namespace chatwire::detail {

/// Percent-encodes one path segment: every byte but RFC 3986's unreserved
/// characters, and "." and ".." whole, so that an id never becomes a path step.
std::string encode_segment(std::string_view s);

/// Percent-encodes a query value (every byte but the unreserved characters).
std::string encode_query(std::string_view s);

/// Base64 with padding (RFC 4648 §4).
std::string base64(std::string_view bytes);

} // namespace chatwire::detail
