#pragma once
// Shared by the decoder fuzzers: the first input byte seeds how the rest is
// cut into pieces, so one input explores one split; a mismatch between the
// whole-buffer and the split decoding traps.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace chatwire::fuzz {

struct fuzz_input {
    std::uint8_t seed = 0;
    std::string_view body;
};

inline fuzz_input split_header(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return {};
    return {data[0], {reinterpret_cast<const char*>(data + 1), size - 1}};
}

/// Pieces of 1 to 16 bytes (byte by byte for seed 0), chosen by a tiny LCG.
inline std::vector<std::string_view> pieces_of(std::string_view body, std::uint8_t seed) {
    std::vector<std::string_view> pieces;
    std::uint32_t state = seed * 2654435761u + 1;
    while (!body.empty()) {
        state = state * 1664525u + 1013904223u;
        const std::size_t n = seed == 0 ? 1 : 1 + (state >> 28);
        pieces.push_back(body.substr(0, n));
        body.remove_prefix(std::min(n, body.size()));
    }
    return pieces;
}

inline void check(bool condition) {
    if (!condition) __builtin_trap();
}

} // namespace chatwire::fuzz
