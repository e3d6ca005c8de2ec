#pragma once
// Well-formed UTF-8 as Unicode's table 3-7 defines it: no overlong forms, no
// surrogates, nothing past U+10FFFF. One table for every place that checks or
// repairs text: API keys, and the CLI's terminal escaping and JSON output.
#include <cstddef>
#include <string_view>

namespace chatwire::detail {

/// What a sequence's first byte says: its length (0: the byte cannot lead
/// one) and the range its second byte must fall in (the rest: 0x80..0xBF).
struct utf8_lead {
    int length;
    unsigned char lo, hi;
};

constexpr utf8_lead classify_utf8_lead(unsigned char lead) noexcept {
    if (lead >= 0xC2 && lead <= 0xDF) return {2, 0x80, 0xBF};
    if (lead == 0xE0) return {3, 0xA0, 0xBF};
    if (lead == 0xED) return {3, 0x80, 0x9F};
    if (lead >= 0xE1 && lead <= 0xEF) return {3, 0x80, 0xBF};
    if (lead == 0xF0) return {4, 0x90, 0xBF};
    if (lead >= 0xF1 && lead <= 0xF3) return {4, 0x80, 0xBF};
    if (lead == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

/// The length of the well-formed multi-byte sequence at s[i], or minus the
/// length of the maximal ill-formed subpart there (one U+FFFD's worth, as
/// decoders count it; a sequence cut by the end of `s` included).
constexpr int utf8_sequence(std::string_view s, std::size_t i) noexcept {
    const auto lead = classify_utf8_lead(static_cast<unsigned char>(s[i]));
    if (lead.length == 0) return -1;
    for (int k = 1; k < lead.length; ++k) {
        const std::size_t at = i + static_cast<std::size_t>(k);
        if (at >= s.size()) return -k;
        const auto c = static_cast<unsigned char>(s[at]);
        const bool ok = k == 1 ? (c >= lead.lo && c <= lead.hi) : (c >= 0x80 && c <= 0xBF);
        if (!ok) return -k;
    }
    return lead.length;
}

} // namespace chatwire::detail
