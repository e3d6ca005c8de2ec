#pragma once
// Shared by the decoder fuzzers: the first input byte seeds how the rest is
// cut into pieces, so one input explores one split; a mismatch between the
// whole-buffer and the split decoding traps.
#include <algorithm>
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

/// Cuts at points the input itself names: a count byte `n` (at most 15 is
/// used), then `n` bytes each giving the length of the next piece (0 for an
/// empty one); the rest of the body is the last piece. Without the count
/// byte, the whole body is one piece.
inline std::vector<std::string_view> chosen_pieces(std::string_view input) {
    std::vector<std::string_view> pieces;
    if (input.empty()) return pieces;
    const std::size_t n = static_cast<std::uint8_t>(input[0]) & 15;
    input.remove_prefix(1);
    const std::string_view lengths = input.substr(0, n);
    std::string_view body = input.substr(lengths.size());
    for (char c : lengths) {
        const std::size_t len = std::min<std::size_t>(static_cast<std::uint8_t>(c), body.size());
        pieces.push_back(body.substr(0, len));
        body.remove_prefix(len);
    }
    pieces.push_back(body);
    return pieces;
}

inline void check(bool condition) {
    if (!condition) __builtin_trap();
}

} // namespace chatwire::fuzz
