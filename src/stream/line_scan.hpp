#pragma once
// Finding line ends fast: the decoders spend most of their time here, so the
// scans look at 64 bytes per step with AVX2 when the CPU has it (checked once
// at start-up), else with SSE2 (every x86-64), else one byte at a time.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CHATWIRE_STREAM_X86_SCAN 1
#include <immintrin.h>
#endif

namespace chatwire::stream::detail {

#if CHATWIRE_STREAM_X86_SCAN
// Read by a static initializer: run the CPU detection first, as GCC asks.
inline const bool cpu_has_avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
// What collect_line_ends_avx2 is compiled for (every AVX2 CPU has all three).
inline const bool cpu_has_avx2_bmi = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") &&
                                      __builtin_cpu_supports("bmi") && __builtin_cpu_supports("popcnt"));

inline const char* find_cr_or_lf_sse2(const char* p, const char* end) noexcept {
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    while (end - p >= 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(chunk, lf), _mm_cmpeq_epi8(chunk, cr));
        if (const int mask = _mm_movemask_epi8(hits)) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
    for (; p != end; ++p)
        if (*p == '\n' || *p == '\r') return p;
    return end;
}

[[gnu::target("avx2")]] inline const char* find_cr_or_lf_avx2(const char* p, const char* end) noexcept {
    const __m256i lf = _mm256_set1_epi8('\n');
    const __m256i cr = _mm256_set1_epi8('\r');
    // 64 bytes a step: one test for two loads keeps typical lines to 2-3 steps.
    while (end - p >= 64) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        const __m256i hits_a = _mm256_or_si256(_mm256_cmpeq_epi8(a, lf), _mm256_cmpeq_epi8(a, cr));
        const __m256i hits_b = _mm256_or_si256(_mm256_cmpeq_epi8(b, lf), _mm256_cmpeq_epi8(b, cr));
        if (!_mm256_testz_si256(_mm256_or_si256(hits_a, hits_b), _mm256_or_si256(hits_a, hits_b))) {
            const auto low = static_cast<std::uint32_t>(_mm256_movemask_epi8(hits_a));
            const auto high = static_cast<std::uint32_t>(_mm256_movemask_epi8(hits_b));
            const std::uint64_t mask = (std::uint64_t{high} << 32) | low;
            return p + __builtin_ctzll(mask);
        }
        p += 64;
    }
    while (end - p >= 32) {
        const __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i hits = _mm256_or_si256(_mm256_cmpeq_epi8(chunk, lf), _mm256_cmpeq_epi8(chunk, cr));
        if (const int mask = _mm256_movemask_epi8(hits)) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 32;
    }
    return find_cr_or_lf_sse2(p, end);
}
#endif

/// Line ends found ahead of parsing, a batch at a time: the offsets of every CR
/// and LF byte, in order. Filling the list has no branch that depends on where
/// lines end (one 64-bit mask per 64 bytes, its bits written out four at a
/// time), so lines of any length cost no mispredicted exit from a search loop.
inline constexpr std::size_t line_end_batch_capacity = 128;  // a batch stops while 64 entries are free
inline constexpr std::size_t line_end_batch_bytes = 2048;    // and after this many bytes: still in L1 when parsed
/// An offset within a batch: 16 bits hold any (a batch covers at most
/// line_end_batch_bytes and one more block), and halve the list a decoder
/// keeps (256 bytes less a held stream).
using line_end_offset = std::uint16_t;
static_assert(line_end_batch_bytes + 64 <= 0xffff);

struct line_end_batch {
    std::size_t count = 0;    // offsets written, from the batch's first byte
    std::size_t scanned = 0;  // bytes of input the batch covers
};

// Appends the positions of the set bits of `mask` (plus `base`). Writes four
// entries whatever the count, so the common 0-4 line ends per block take no
// branch; the caller leaves room for 64. Without a POPCNT instruction the
// count is summed as the bits are taken (popcount would be a library call).
template <bool has_popcnt>
[[gnu::always_inline]] inline void append_line_ends(line_end_offset* offsets, std::size_t& count, std::uint64_t mask,
                                                    std::uint32_t base) noexcept {
    line_end_offset* out = offsets + count;
    if constexpr (has_popcnt) count += static_cast<std::size_t>(std::popcount(mask));
    for (int i = 0; i < 4; ++i) {
        if constexpr (!has_popcnt) count += mask != 0;
        out[i] = static_cast<line_end_offset>(base + static_cast<std::uint32_t>(std::countr_zero(mask)));  // past the last one: never read
        mask &= mask - 1;
        // Hide that the mask may now be zero: else the compiler branches to
        // store the known countr_zero(0), one mispredicted branch per block.
        asm("" : "+r"(mask));
    }
    for (std::size_t i = 4; mask != 0; ++i) {  // a block with more than four line ends
        if constexpr (!has_popcnt) ++count;
        out[i] = static_cast<line_end_offset>(base + static_cast<std::uint32_t>(std::countr_zero(mask)));
        mask &= mask - 1;
    }
}

// The batch over [begin, end): whole 64-byte blocks through `block_mask`, the
// last partial block through a zero-padded copy (zero bytes end no line).
#define CHATWIRE_STREAM_COLLECT_LINE_ENDS(block_mask, has_popcnt)                                                   \
    line_end_batch batch;                                                                                           \
    const std::size_t available = static_cast<std::size_t>(end - begin);                                            \
    const std::size_t limit = available < line_end_batch_bytes ? available : line_end_batch_bytes;                  \
    std::size_t at = 0;                                                                                             \
    while (limit - at >= 64 && batch.count <= line_end_batch_capacity - 64) {                                       \
        append_line_ends<has_popcnt>(offsets, batch.count, block_mask(begin + at), static_cast<std::uint32_t>(at)); \
        at += 64;                                                                                                   \
    }                                                                                                               \
    if (at < limit && limit == available && batch.count <= line_end_batch_capacity - 64) {                          \
        char tail[64] = {};                                                                                         \
        std::memcpy(tail, begin + at, limit - at);                                                                  \
        append_line_ends<has_popcnt>(offsets, batch.count, block_mask(tail), static_cast<std::uint32_t>(at));       \
        at = limit;                                                                                                 \
    }                                                                                                               \
    batch.scanned = at;                                                                                             \
    return batch

#if CHATWIRE_STREAM_X86_SCAN
// Bit i set when p[i] is CR or LF.
inline std::uint64_t line_end_mask_sse2(const char* p) noexcept {
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    std::uint64_t mask = 0;
    for (int i = 0; i < 4; ++i) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
        const __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(chunk, lf), _mm_cmpeq_epi8(chunk, cr));
        mask |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(hits))} << (16 * i);
    }
    return mask;
}

[[gnu::target("avx2,bmi,popcnt"), gnu::always_inline]] inline std::uint64_t line_end_mask_avx2(const char* p) noexcept {
    const __m256i lf = _mm256_set1_epi8('\n');
    const __m256i cr = _mm256_set1_epi8('\r');
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i hits_a = _mm256_or_si256(_mm256_cmpeq_epi8(a, lf), _mm256_cmpeq_epi8(a, cr));
    const __m256i hits_b = _mm256_or_si256(_mm256_cmpeq_epi8(b, lf), _mm256_cmpeq_epi8(b, cr));
    const auto low = static_cast<std::uint32_t>(_mm256_movemask_epi8(hits_a));
    const auto high = static_cast<std::uint32_t>(_mm256_movemask_epi8(hits_b));
    return (std::uint64_t{high} << 32) | low;
}

[[gnu::target("avx2,bmi,popcnt")]] inline line_end_batch collect_line_ends_avx2(const char* begin, const char* end, line_end_offset* offsets) noexcept {
    CHATWIRE_STREAM_COLLECT_LINE_ENDS(line_end_mask_avx2, true);
}

inline line_end_batch collect_line_ends_sse2(const char* begin, const char* end, line_end_offset* offsets) noexcept {
    CHATWIRE_STREAM_COLLECT_LINE_ENDS(line_end_mask_sse2, false);
}
#else
inline std::uint64_t line_end_mask_scalar(const char* p) noexcept {
    std::uint64_t mask = 0;
    for (int i = 0; i < 64; ++i) mask |= std::uint64_t{p[i] == '\n' || p[i] == '\r'} << i;
    return mask;
}
#endif

/// The line ends at the start of [begin, end) (begin < end) as offsets from
/// `begin`, into `offsets` (room for line_end_batch_capacity). The batch covers
/// at least one byte, and all of them when fewer than 64 remain.
inline line_end_batch collect_line_ends(const char* begin, const char* end, line_end_offset* offsets) noexcept {
    if (end - begin < 16) {  // a few bytes (fed one at a time, say): not worth a padded copy
        line_end_batch batch;
        for (const char* p = begin; p != end; ++p)
            if (*p == '\n' || *p == '\r') offsets[batch.count++] = static_cast<line_end_offset>(p - begin);
        batch.scanned = static_cast<std::size_t>(end - begin);
        return batch;
    }
#if CHATWIRE_STREAM_X86_SCAN
    if (cpu_has_avx2_bmi) return collect_line_ends_avx2(begin, end, offsets);
    return collect_line_ends_sse2(begin, end, offsets);
#else
    CHATWIRE_STREAM_COLLECT_LINE_ENDS(line_end_mask_scalar, false);
#endif
}

#undef CHATWIRE_STREAM_COLLECT_LINE_ENDS

/// The first CR or LF in [p, end), or `end`.
inline const char* find_cr_or_lf(const char* p, const char* end) noexcept {
#if CHATWIRE_STREAM_X86_SCAN
    if (cpu_has_avx2 && end - p >= 64) return find_cr_or_lf_avx2(p, end);
    return find_cr_or_lf_sse2(p, end);
#else
    for (; p != end; ++p)
        if (*p == '\n' || *p == '\r') return p;
    return end;
#endif
}

/// The first LF in [p, end), or `end`.
inline const char* find_lf(const char* p, const char* end) noexcept {
    if (p == end) return end;  // p may be null for an empty piece
    const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    return hit ? static_cast<const char*>(hit) : end;
}

} // namespace chatwire::stream::detail
