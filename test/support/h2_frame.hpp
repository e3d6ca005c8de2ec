#pragma once
// One HTTP/2 frame as bytes (RFC 9113 §4.1), for tests that play a server
// byte by byte: 9 bytes of header (length, type, flags, stream id), then the
// payload.
#include <cstdint>
#include <string>
#include <string_view>

namespace chatwire::testing {

inline std::string h2_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view payload) {
    std::string f;
    const auto n = payload.size();
    f += static_cast<char>(n >> 16);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n);
    f += static_cast<char>(type);
    f += static_cast<char>(flags);
    f += static_cast<char>((stream >> 24) & 0x7f);  // the reserved bit stays clear
    f += static_cast<char>(stream >> 16);
    f += static_cast<char>(stream >> 8);
    f += static_cast<char>(stream);
    f.append(payload);
    return f;
}

} // namespace chatwire::testing
