#include "field_extractor.hpp"

#include "line_scan.hpp"  // CHATWIRE_STREAM_X86_SCAN and its intrinsics

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace chatwire::stream::detail {
namespace {

boost::json::parse_options strict_options(std::size_t max_depth) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    return options;
}

bool within(std::string_view inner, std::string_view outer) noexcept {
    return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Compact JSON has no space at all: one test for that.
const char* skip_space(const char* p, const char* end) noexcept {
    while (p != end && static_cast<unsigned char>(*p) <= ' ' && is_json_space(*p)) ++p;
    return p;
}

// The size of the UTF-8 sequence at `p` (lead byte 0x80 or above), or 0 when
// it is not a well-formed one (Unicode table 3-7: no overlong forms, no
// surrogates, nothing past U+10FFFF), as Boost.JSON checks it.
std::size_t utf8_sequence_size(const char* p, const char* end) noexcept {
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
const char* plain_string_end(const char* document, const char* p, const char* end) noexcept {
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
bool same_bytes(const char* a, const char* b, std::size_t size) noexcept {
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
bool is_plain_text(const char* document, const char* p, const char* end) noexcept {
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

} // namespace

field_path::field_path(std::initializer_list<std::string_view> path) : depth(path.size()) {
    if (path.size() == 0 || path.size() > keys.size()) throw std::invalid_argument("field_path: 1 to 3 keys");
    std::size_t i = 0;
    for (auto key : path) keys[i++] = key;
}

field_extractor::field_extractor(std::initializer_list<field_path> paths)
    : paths_(paths), parser_(strict_options(max_depth), *this) {
    if (paths_.size() > max_fields) throw std::invalid_argument("field_extractor: too many fields");
    for (std::size_t field = 0; field < paths_.size(); ++field) {
        const field_path& path = paths_[field];
        const mask bit = mask{1} << field;
        paths_ending_at_[path.depth] |= bit;
        for (std::size_t level = 1; level <= path.depth; ++level) {
            auto& keys = level_keys_[level];
            const std::string_view name = path.keys[level - 1];
            auto known = std::find_if(keys.begin(), keys.end(), [&](const level_key& k) { return k.name == name; });
            if (known == keys.end()) {
                level_key k{name, bit};
                std::memcpy(k.words, name.data(), name.size() < sizeof k.words ? name.size() : sizeof k.words);
                keys.push_back(k);
            }
            else known->paths |= bit;
        }
    }
}

void field_extractor::begin_document(std::string_view json) noexcept {
    for (mask m = stored_; m != 0; m &= m - 1) values_[static_cast<std::size_t>(std::countr_zero(m))] = field_value{};
    stored_ = 0;
    document_ = json;
    top_is_object_ = false;
    key_in_parts_ = false;
    string_in_parts_ = false;
    level_ = 0;
    value_mask_ = paths_.size() == max_fields ? ~mask{0} : (mask{1} << paths_.size()) - 1;
}

error_code field_extractor::parse(std::string_view json) {
    if (shape_known_ && parse_same_shape(json)) {
        read_plain_ = reused_shape_ = true;
        return {};
    }
    begin_document(json);
    if (parse_plain(json)) {
        read_plain_ = true;
        reused_shape_ = false;
        remember_shape(json);
        return {};
    }
    return parse_general(json);  // the plain scan gave up: whatever it stored goes
}

error_code field_extractor::parse_general(std::string_view json) {
    begin_document(json);
    read_plain_ = reused_shape_ = shape_known_ = false;
    parser_.reset();
    error_code ec;
    const std::size_t used = parser_.write_some(false, json.data(), json.size(), ec);
    if (ec || used != json.size() || !parser_.done()) return errc::malformed_event;
    return {};
}

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
        const mask complete = level <= max_path_depth ? value_mask & paths_ending_at_[level] : 0;
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

void field_extractor::remember_shape(std::string_view json) {
    shape_known_ = false;
    // No string value to swap, or a large document: not kept (its copy would
    // cost more than it saves, and stay allocated).
    constexpr std::size_t max_shape_size = 256;
    if (last_string_ == nullptr) return;
    if (json.size() - static_cast<std::size_t>(last_string_end_ - last_string_) > max_shape_size) return;
    shape_prefix_.assign(json.data(), static_cast<std::size_t>(last_string_ - json.data()));
    shape_suffix_.assign(last_string_end_, static_cast<std::size_t>(json.data() + json.size() - last_string_end_));
    shape_known_ = true;
}

// The document before had the same bytes but for the text of its last string
// value, and this one's is plain too: the plain scan would make the same calls
// but for that string, so the fields stand, moved to this document. The
// fields' strings all lie in the document before (a plain scan copies none),
// those before the swapped one at the same offsets.
bool field_extractor::parse_same_shape(std::string_view json) noexcept {
    const std::size_t prefix = shape_prefix_.size();
    const std::size_t suffix = shape_suffix_.size();
    if (json.size() < prefix + suffix) return false;
    const char* const begin = json.data();
    const char* const end = begin + json.size();
    if (!same_bytes(begin, shape_prefix_.data(), prefix) || !same_bytes(end - suffix, shape_suffix_.data(), suffix))
        return false;
    if (!is_plain_text(begin, begin + prefix, end - suffix)) return false;
    const auto old_begin = reinterpret_cast<std::uintptr_t>(document_.data());
    for (mask m = stored_; m != 0; m &= m - 1) {
        field_value& value = values_[static_cast<std::size_t>(std::countr_zero(m))];
        if (value.kind != field_value::type::string) continue;
        const std::size_t offset = reinterpret_cast<std::uintptr_t>(value.text.data()) - old_begin;
        value.text = offset == prefix ? std::string_view(begin + prefix, json.size() - prefix - suffix)
                                      : std::string_view(begin + offset, value.text.size());
    }
    document_ = json;
    return true;
}

// The paths that have the key [name, name_end) at `level`. The document goes
// on to `end`: keys of up to 16 bytes are compared as two words when 16 bytes
// can be read from the key's start.
field_extractor::mask field_extractor::match_key(std::size_t level, const char* name, const char* name_end,
                                                 const char* end) const noexcept {
    const auto size = static_cast<std::size_t>(name_end - name);
    const auto& keys = level_keys_[level];
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

// A value starts at the pending key. It replaces whatever an earlier duplicate
// of that key left there and below (the last one wins, as in Boost.JSON's DOM).
// Returns the field it completes, or -1.
int field_extractor::begin_value() noexcept {
    if (value_mask_ == 0) return -1;
    for (mask m = value_mask_ & stored_; m != 0; m &= m - 1) values_[static_cast<std::size_t>(std::countr_zero(m))] = field_value{};
    stored_ &= ~value_mask_;
    const mask complete = level_ <= max_path_depth ? value_mask_ & paths_ending_at_[level_] : 0;
    if (complete == 0) return -1;
    const int field = std::countr_zero(complete);
    stored_ |= mask{1} << field;
    return field;
}

field_value* field_extractor::begin_scalar() noexcept {
    const int field = begin_value();
    return field < 0 ? nullptr : &values_[static_cast<std::size_t>(field)];
}

bool field_extractor::enter(field_value::type kind, error_code& ec) {
    if (level_ == 0) top_is_object_ = kind == field_value::type::object;
    if (field_value* v = begin_scalar()) v->kind = kind;
    if (level_ + 1 >= container_masks_.size()) {
        ec = boost::json::error::too_deep;
        return false;
    }
    // Only an object's keys extend a path; values inside arrays never match.
    container_masks_[++level_] = kind == field_value::type::object ? value_mask_ : 0;
    value_mask_ = 0;
    return true;
}

bool field_extractor::leave() {
    --level_;
    value_mask_ = 0;
    return true;
}

bool field_extractor::key_part(std::string_view part) {
    if (!key_in_parts_) key_buffer_.clear();
    key_in_parts_ = true;
    key_buffer_.append(part);
    return true;
}

bool field_extractor::key(std::string_view last_part) {
    std::string_view name = last_part;
    if (key_in_parts_) {
        key_buffer_.append(last_part);
        name = key_buffer_;
        key_in_parts_ = false;
    }
    mask matching = 0;
    if (level_ <= max_path_depth && container_masks_[level_] != 0) {
        for (const level_key& k : level_keys_[level_]) {
            if (k.name.size() == name.size() && std::memcmp(k.name.data(), name.data(), name.size()) == 0) {
                matching = container_masks_[level_] & k.paths;
                break;
            }
        }
    }
    value_mask_ = matching;
    return true;
}

bool field_extractor::string_part(std::string_view part) {
    if (!string_in_parts_) {
        string_in_parts_ = true;
        string_field_ = begin_value();
        if (string_field_ >= 0) unescaped_[static_cast<std::size_t>(string_field_)].clear();
    }
    if (string_field_ >= 0) unescaped_[static_cast<std::size_t>(string_field_)].append(part);
    return true;
}

bool field_extractor::string(std::string_view last_part) {
    const bool in_parts = string_in_parts_;
    string_in_parts_ = false;
    const int field = in_parts ? string_field_ : begin_value();
    if (field < 0) return true;
    field_value& value = values_[static_cast<std::size_t>(field)];
    value.kind = field_value::type::string;
    if (!in_parts && within(last_part, document_)) {
        value.text = last_part;
        return true;
    }
    std::string& buffer = unescaped_[static_cast<std::size_t>(field)];
    if (!in_parts) buffer.clear();
    buffer.append(last_part);
    value.text = buffer;
    return true;
}

bool field_extractor::number(std::optional<std::uint64_t> count) {
    if (field_value* v = begin_scalar()) {
        v->kind = field_value::type::number;
        v->count = count;
    }
    return true;
}

bool field_extractor::scalar(field_value::type kind, bool flag) {
    if (field_value* v = begin_scalar()) {
        v->kind = kind;
        v->flag = flag;
    }
    return true;
}

} // namespace chatwire::stream::detail
