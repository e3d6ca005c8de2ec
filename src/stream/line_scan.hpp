#pragma once
// Finding line ends fast: the decoders spend most of their time here, so the
// search looks at 32 bytes per step with AVX2 when the CPU has it (checked
// once at start-up), else 16 with SSE2 (every x86-64), else one.
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
