// field_extractor's plain scan: the common event read inline, without
// Boost.JSON's parser, and the key match it uses.
#include "field_extractor.hpp"
#include "json_text.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace chatwire::stream::detail {

// An object of strings without escapes, non-negative integers, literals,
// arrays and objects of the same, a few levels deep: the common event, read
// here with what Boost.JSON's handler calls would do, in the same order, but
// inline. False (nothing decided) for anything else: escapes, fractions,
// exponents, minus signs, bad UTF-8, invalid JSON.
bool field_extractor::parse_plain(std::string_view json) {
    const char* const document = json.data();
    const char* const end = document + json.size();
    const char* p = skip_space(document, end);
    if (p == end || *p != '{') return false;
    last_string_ = nullptr;
    // What the handler keeps in level_ and value_mask_, in registers.
    std::size_t level = 0;
    mask value_mask = value_mask_;
    std::array<bool, max_plain_depth + 1> in_object{};
    // The field a value at the pending key completes (begin_value()).
    const auto begin_plain_value = [&]() -> field_value* {
        if (value_mask == 0) return nullptr;
        for (mask m = value_mask & stored_; m != 0; m &= m - 1) values_[static_cast<std::size_t>(std::countr_zero(m))] = field_value{};
        stored_ &= ~value_mask;
        const mask complete = level <= max_path_depth ? value_mask & set_->paths_ending_at_[level] : 0;
        if (complete == 0) return nullptr;
        const auto field = static_cast<std::size_t>(std::countr_zero(complete));
        stored_ |= mask{1} << field;
        return &values_[field];
    };
    const auto next_significant = [&](const char* at) {
        return at != end && static_cast<unsigned char>(*at) > ' ' ? at : skip_space(at, end);
    };
    for (;;) {
        // A value at p (p != end).
        const char c = *p;
        if (c == '"') {
            const char* const close = plain_string_end(document, p + 1, end);
            if (close == nullptr) return false;
            last_string_ = p + 1;
            last_string_end_ = close;
            if (field_value* v = begin_plain_value()) {
                v->kind = field_value::type::string;
                v->text = std::string_view(p + 1, static_cast<std::size_t>(close - p - 1));
            }
            p = close + 1;
        } else if (c == '{' || c == '[') {
            if (level == max_plain_depth) return false;
            const bool object = c == '{';
            if (field_value* v = begin_plain_value()) v->kind = object ? field_value::type::object : field_value::type::array;
            if (level == 0) top_is_object_ = object;
            ++level;
            in_object[level] = object;
            // Only an object's keys extend a path; values inside arrays never match.
            container_masks_[level] = object ? value_mask : 0;
            value_mask = 0;
            p = next_significant(p + 1);
            if (p == end) return false;
            if (*p != (object ? '}' : ']')) {
                if (object) goto key;
                continue;
            }
            --level;
            ++p;
        } else if (c == 't' || c == 'f' || c == 'n') {
            const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
            if (static_cast<std::size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) return false;
            if (field_value* v = begin_plain_value()) {
                v->kind = c == 'n' ? field_value::type::null : field_value::type::boolean;
                v->flag = c == 't';
            }
            p += word.size();
        } else {
            // An integer of at most 18 digits fits int64, as Boost.JSON reports
            // it; longer ones, leading zeros, fractions and exponents go to it.
            constexpr std::size_t max_digits = 18;
            const char* const first = p;
            std::uint64_t value = 0;
            while (p != end && *p >= '0' && *p <= '9' && static_cast<std::size_t>(p - first) <= max_digits) {
                value = value * 10 + static_cast<std::uint64_t>(*p - '0');
                ++p;
            }
            const auto digits = static_cast<std::size_t>(p - first);
            if (digits == 0 || digits > max_digits || (*first == '0' && digits > 1)) return false;
            if (p != end && (*p == '.' || *p == 'e' || *p == 'E')) return false;
            if (field_value* v = begin_plain_value()) {
                v->kind = field_value::type::number;
                v->count = value;
            }
        }
        // After a value: a comma, or the end of its container.
        for (;;) {
            if (level == 0) {
                if (skip_space(p, end) != end) return false;
                level_ = 0;
                return true;
            }
            p = next_significant(p);
            if (p == end) return false;
            if (*p == ',') {
                p = next_significant(p + 1);
                if (p == end) return false;
                break;
            }
            if (*p != (in_object[level] ? '}' : ']')) return false;
            --level;
            value_mask = 0;
            ++p;
        }
        if (!in_object[level]) continue;
    key:
        // A key at p (p != end), then its colon.
        if (*p != '"') return false;
        {
            const char* const close = plain_string_end(document, p + 1, end);
            if (close == nullptr) return false;
            value_mask = level <= max_path_depth && container_masks_[level] != 0
                             ? container_masks_[level] & match_key(level, p + 1, close, end)
                             : 0;
            p = next_significant(close + 1);
        }
        if (p == end || *p != ':') return false;
        p = next_significant(p + 1);
        if (p == end) return false;
    }
}

// The paths that have the key [name, name_end) at `level`. The document goes
// on to `end`: keys of up to 16 bytes are compared as two words when 16 bytes
// can be read from the key's start.
field_extractor::mask field_extractor::match_key(std::size_t level, const char* name, const char* name_end,
                                                 const char* end) const noexcept {
    const auto size = static_cast<std::size_t>(name_end - name);
    const auto& keys = set_->level_keys_[level];
    if (std::endian::native == std::endian::little && size <= 16 && end - name >= 16) {
        std::uint64_t words[2];
        std::memcpy(words, name, sizeof words);
        if (size < 8) {
            words[0] &= size == 0 ? 0 : ~std::uint64_t{0} >> (64 - 8 * size);
            words[1] = 0;
        } else if (size < 16) {
            words[1] &= size == 8 ? 0 : ~std::uint64_t{0} >> (64 - 8 * (size - 8));
        }
        for (const level_key& k : keys)
            if (k.name.size() == size && k.words[0] == words[0] && k.words[1] == words[1]) return k.paths;
        return 0;
    }
    for (const level_key& k : keys)
        if (k.name.size() == size && std::memcmp(k.name.data(), name, size) == 0) return k.paths;
    return 0;
}


} // namespace chatwire::stream::detail
