// field_extractor: its paths, the choice between its three readers (the same
// shape as the event before: field_extractor_shape.cpp; the plain scan:
// field_extractor_plain.cpp; Boost.JSON's parser for the rest, here) and the
// handler Boost.JSON's parser calls.
#include "field_extractor.hpp"

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

} // namespace

field_path::field_path(std::initializer_list<std::string_view> path) : depth(path.size()) {
    if (path.size() == 0 || path.size() > keys.size()) throw std::invalid_argument("field_path: 1 to 3 keys");
    std::size_t i = 0;
    for (auto key : path) keys[i++] = key;
}

field_set::field_set(std::initializer_list<field_path> paths) : paths_(paths) {
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

field_extractor::field_extractor(std::initializer_list<field_path> paths)
    : field_extractor(std::make_shared<const field_set>(paths)) {}

field_extractor::field_extractor(std::shared_ptr<const field_set> fields)
    : set_(std::move(fields)),
      values_(std::make_unique<field_value[]>(set_->size())),
      unescaped_(std::make_unique<std::string[]>(set_->size())),
      parser_(strict_options(max_depth), *this) {}

void field_extractor::begin_document(std::string_view json) noexcept {
    for (mask m = stored_; m != 0; m &= m - 1) values_[static_cast<std::size_t>(std::countr_zero(m))] = field_value{};
    stored_ = 0;
    document_ = json;
    top_is_object_ = false;
    key_in_parts_ = false;
    string_in_parts_ = false;
    level_ = 0;
    value_mask_ = set_->size() == max_fields ? ~mask{0} : (mask{1} << set_->size()) - 1;
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

// A value starts at the pending key. It replaces whatever an earlier duplicate
// of that key left there and below (the last one wins, as in Boost.JSON's DOM).
// Returns the field it completes, or -1.
int field_extractor::begin_value() noexcept {
    if (value_mask_ == 0) return -1;
    for (mask m = value_mask_ & stored_; m != 0; m &= m - 1) values_[static_cast<std::size_t>(std::countr_zero(m))] = field_value{};
    stored_ &= ~value_mask_;
    const mask complete = level_ <= max_path_depth ? value_mask_ & set_->paths_ending_at_[level_] : 0;
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
        for (const level_key& k : set_->level_keys_[level_]) {
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
