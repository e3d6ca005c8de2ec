#include "terminal.hpp"

#include "../core/utf8.hpp"

#include <cstdint>

namespace chatwire::cli {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr char hex[] = "0123456789abcdef";

struct rules {
    bool escape_controls;
    line_breaks lb;
};

void escape_byte(std::string& out, std::string_view prefix, unsigned char b) {
    out.append(prefix);
    out += hex[b >> 4];
    out += hex[b & 0xF];
}

// Appends the rewritten form of `in` to `out` and returns how many bytes it
// consumed: all of them when `at_end`, otherwise all but a trailing sequence
// that is valid so far but incomplete (the next piece may finish it).
std::size_t rewrite(std::string& out, std::string_view in, rules r, bool at_end) {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char b = p[i];
        if (b < 0x80) {
            const bool control = b < 0x20 || b == 0x7F;
            const bool layout = b == '\n' || b == '\t';
            if (control && r.escape_controls && !(layout && r.lb == line_breaks::keep))
                escape_byte(out, "\\x", b);
            else
                out += static_cast<char>(b);
            ++i;
            continue;
        }
        const auto info = chatwire::detail::classify_utf8_lead(b);
        if (info.length == 0) {  // a stray continuation byte, C0, C1 or F5..FF
            out.append(replacement);
            ++i;
            continue;
        }
        // Length of the valid prefix of this sequence (the maximal subpart).
        std::size_t good = 1;
        while (good < static_cast<std::size_t>(info.length) && i + good < n) {
            const unsigned char c = p[i + good];
            const unsigned char lo = good == 1 ? info.lo : 0x80, hi = good == 1 ? info.hi : 0xBF;
            if (c < lo || c > hi) break;
            ++good;
        }
        if (good == static_cast<std::size_t>(info.length)) {
            // U+0080..U+009F are the C1 controls (0xC2 0x80..0x9F): CSI is U+009B.
            if (r.escape_controls && b == 0xC2 && p[i + 1] <= 0x9F)
                escape_byte(out, "\\u00", p[i + 1]);
            else
                out.append(in.substr(i, good));
        } else if (i + good == n && !at_end) {
            return i;  // incomplete, not (yet) wrong: wait for the rest
        } else {
            out.append(replacement);  // one U+FFFD for the whole broken prefix
        }
        i += good;
    }
    return n;
}

} // namespace

std::string escape_for_terminal(std::string_view in, line_breaks lb) {
    std::string out;
    out.reserve(in.size());
    rewrite(out, in, {true, lb}, true);
    return out;
}

std::string valid_utf8(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    rewrite(out, in, {false, line_breaks::keep}, true);
    return out;
}

std::string escape_json_controls(std::string_view json) {
    std::string out;
    out.reserve(json.size());
    for (std::size_t i = 0; i < json.size(); ++i) {
        const auto b = static_cast<unsigned char>(json[i]);
        if (b == 0x7F) {
            escape_byte(out, "\\u00", b);
        } else if (b == 0xC2 && i + 1 < json.size() && static_cast<unsigned char>(json[i + 1]) <= 0x9F &&
                   static_cast<unsigned char>(json[i + 1]) >= 0x80) {
            escape_byte(out, "\\u00", static_cast<unsigned char>(json[++i]));
        } else {
            out += json[i];
        }
    }
    return out;
}

std::string terminal_escaper::feed(std::string_view piece) {
    std::string out;
    if (pending_.empty()) {
        const auto used = rewrite(out, piece, {true, lb_}, false);
        pending_.assign(piece.substr(used));
        return out;
    }
    pending_.append(piece);
    const auto used = rewrite(out, pending_, {true, lb_}, false);
    pending_.erase(0, used);
    return out;
}

std::string terminal_escaper::finish() {
    std::string out;
    rewrite(out, pending_, {true, lb_}, true);
    pending_.clear();
    return out;
}

} // namespace chatwire::cli
