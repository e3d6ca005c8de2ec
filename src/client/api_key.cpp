#include <chatwire/api_key.hpp>

#include "../core/utf8.hpp"

namespace chatwire {

namespace {

constexpr char hex[] = "0123456789abcdef";

std::string hex_byte(unsigned b) { return {hex[(b >> 4) & 15], hex[b & 15]}; }

std::string at(std::size_t i) { return " at byte " + std::to_string(i + 1); }

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
        const int n = detail::utf8_sequence(key, i);
        if (n <= 0) return "is not valid UTF-8" + at(i);
        // U+0080..U+009F, the C1 controls, are 0xC2 0x80..0x9F.
        if (c == 0xC2 && static_cast<unsigned char>(key[i + 1]) <= 0x9F)
            return "holds a control character (U+00" + hex_byte(static_cast<unsigned char>(key[i + 1])) + ")" + at(i);
        i += static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace chatwire
