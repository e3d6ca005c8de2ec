#pragma once
// Finding line ends fast: the decoders spend most of their time here, so the
// search looks at 16 bytes per step where SSE2 is available (every x86-64).
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace chatwire::stream::detail {

/// The first CR or LF in [p, end), or `end`.
inline const char* find_cr_or_lf(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    while (end - p >= 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(chunk, lf), _mm_cmpeq_epi8(chunk, cr));
        if (const int mask = _mm_movemask_epi8(hits)) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    for (; p != end; ++p)
        if (*p == '\n' || *p == '\r') return p;
    return end;
}

/// The first LF in [p, end), or `end`.
inline const char* find_lf(const char* p, const char* end) noexcept {
    if (p == end) return end;  // p may be null for an empty piece
    const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    return hit ? static_cast<const char*>(hit) : end;
}

} // namespace chatwire::stream::detail
