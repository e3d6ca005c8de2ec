#include <chatwire/api_key.hpp>

namespace chatwire {

namespace {

constexpr char hex[] = "0123456789abcdef";

std::string hex_byte(unsigned b) { return {hex[(b >> 4) & 15], hex[b & 15]}; }

std::string at(std::size_t i) { return " at byte " + std::to_string(i + 1); }

// The length of the UTF-8 sequence at the start of `s` (Unicode table 3-7:
// no overlong forms, surrogates or code points past U+10FFFF); 0 if invalid.
std::size_t utf8_length(std::string_view s) {
    const auto b = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = b(0);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) n = 2;
    else if (lead == 0xE0) n = 3, lo = 0xA0;
    else if (lead == 0xED) n = 3, hi = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF) n = 3;
    else if (lead == 0xF0) n = 4, lo = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3) n = 4;
    else if (lead == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (s.size() < n || b(1) < lo || b(1) > hi) return 0;
    for (std::size_t i = 2; i < n; ++i)
        if (b(i) < 0x80 || b(i) > 0xBF) return 0;
    return n;
}

} // namespace

std::string api_key_problem(std::string_view key) {
    if (key.empty()) return "is empty";
    if (key.size() > max_api_key_size)
        return "is " + std::to_string(key.size()) + " bytes long, more than " + std::to_string(max_api_key_size);
    if (key.find_first_not_of(' ') == std::string_view::npos) return "holds only spaces";
    for (std::size_t i = 0; i < key.size();) {
        const auto c = static_cast<unsigned char>(key[i]);
        if (c < 0x20 || c == 0x7F) return "holds a control character (0x" + hex_byte(c) + ")" + at(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        const auto n = utf8_length(key.substr(i));
        if (n == 0) return "is not valid UTF-8" + at(i);
        // U+0080..U+009F, the C1 controls, are 0xC2 0x80..0x9F.
        if (c == 0xC2 && static_cast<unsigned char>(key[i + 1]) <= 0x9F)
            return "holds a control character (U+00" + hex_byte(static_cast<unsigned char>(key[i + 1])) + ")" + at(i);
        i += n;
    }
    return {};
}

} // namespace chatwire
