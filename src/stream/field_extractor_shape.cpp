// field_extractor's shortest path: an event with the same bytes as the one
// before but for the text of its last string, read without a scan.
#include "field_extractor.hpp"
#include "json_text.hpp"

#include <bit>
#include <cstdint>

namespace chatwire::stream::detail {

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

} // namespace chatwire::stream::detail
