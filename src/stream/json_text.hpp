#pragma once
// Scanning JSON text in place, for field_extractor's fast paths: spaces,
// strings that stand as they are (no escape, no control character, good
// UTF-8), byte runs compared a word at a time. Inline: they run per byte.
#include "line_scan.hpp"  // CHATWIRE_STREAM_X86_SCAN and its intrinsics

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace chatwire::stream::detail {

inline bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Compact JSON has no space at all: one test for that.
inline const char* skip_space(const char* p, const char* end) noexcept {
    while (p != end && static_cast<unsigned char>(*p) <= ' ' && is_json_space(*p)) ++p;
    return p;
}

// The size of the UTF-8 sequence at `p` (lead byte 0x80 or above), or 0 when
// it is not a well-formed one (Unicode table 3-7: no overlong forms, no
// surrogates, nothing past U+10FFFF), as Boost.JSON checks it.
inline std::size_t utf8_sequence_size(const char* p, const char* end) noexcept {
    const auto byte = [p](std::size_t i) { return static_cast<unsigned char>(p[i]); };
    const unsigned lead = byte(0);
    std::size_t size = 0;
    unsigned low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        size = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        size = 3;
        if (lead == 0xE0) low = 0xA0;
        else if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        size = 4;
        if (lead == 0xF0) low = 0x90;
        else if (lead == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    if (static_cast<std::size_t>(end - p) < size || byte(1) < low || byte(1) > high) return 0;
    for (std::size_t i = 2; i < size; ++i)
        if ((byte(i) & 0xC0) != 0x80) return 0;
    return size;
}

// The closing quote of the string whose text starts at `p`, when the text
// stands as it is: nullptr for an escape, a control character, bad UTF-8 or
// no closing quote (Boost.JSON then decides). `document` is where the
// document starts: near its end, 16 bytes are read backwards from `end`.
inline const char* plain_string_end(const char* document, const char* p, const char* end) noexcept {
    for (;;) {
#if CHATWIRE_STREAM_X86_SCAN
        // 16 bytes at a time: a quote, a backslash, or a byte below 0x20 or
        // from 0x80 (both negative or small as signed chars) stops the scan.
        const char* block = p;
        unsigned skip = 0;
        if (end - p < 16 && end - document >= 16) {
            block = end - 16;
            skip = static_cast<unsigned>(p - block);
        }
        if (end - block >= 16) {
            const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
            const __m128i stops = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('"')), _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(chunk, _mm_set1_epi8(0x20)));
            const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stops)) >> skip;
            if (mask == 0) {
                if (block + 16 == end) return nullptr;  // no closing quote
                p = block + 16;
                continue;
            }
            p += std::countr_zero(mask);
            if (*p == '"') return p;
        }
#endif
        for (; p != end; ++p) {  // to the next byte that is not plain ASCII
            const auto c = static_cast<unsigned char>(*p);
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        }
        if (p == end) return nullptr;
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"') return p;
        if (c == '\\' || c < 0x20) return nullptr;
        const std::size_t size = utf8_sequence_size(p, end);
        if (size == 0) return nullptr;
        p += size;
    }
}

// Whether the `size` bytes at `a` and `b` are equal, a word at a time (the
// sizes here are a few tens of bytes: a call to memcmp costs as much).
inline bool same_bytes(const char* a, const char* b, std::size_t size) noexcept {
    const auto word = [](const char* p) {
        std::uint64_t w;
        std::memcpy(&w, p, sizeof w);
        return w;
    };
    if (size >= 8) {
        for (std::size_t at = 0; at + 8 < size; at += 8)
            if (word(a + at) != word(b + at)) return false;
        return word(a + size - 8) == word(b + size - 8);  // the last 8, overlapping
    }
    for (std::size_t at = 0; at < size; ++at)
        if (a[at] != b[at]) return false;
    return true;
}

// Whether [p, end) is the text of a plain string: no quote, backslash or
// control character, and good UTF-8. `document` is where the document starts:
// a short text is read as the last 16 bytes before `end` when it has them.
inline bool is_plain_text(const char* document, const char* p, const char* end) noexcept {
#if CHATWIRE_STREAM_X86_SCAN
    if (end - p <= 16 && end - document >= 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16));
        const __m128i stops = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('"')), _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'))),
            _mm_cmplt_epi8(chunk, _mm_set1_epi8(0x20)));
        const auto skip = static_cast<unsigned>(16 - (end - p));
        if ((static_cast<unsigned>(_mm_movemask_epi8(stops)) >> skip) == 0) return true;
    }
#endif
    // A quote inside would end the string early; plain_string_end() checks the rest.
    return plain_string_end(document, p, end + 1) == end;
}

} // namespace chatwire::stream::detail
