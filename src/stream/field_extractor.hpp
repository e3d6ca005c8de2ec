#pragma once
// Pulls a fixed set of fields out of one JSON document in a single pass with a
// Boost.JSON basic_parser handler: no DOM. A string without escapes comes back
// as a view into the document; an escaped one is unescaped into a buffer that
// is reused from document to document. Most streamed events are small objects
// of plain strings and integers: a short scanner of its own reads those (into
// the same handler) and leaves anything else to Boost.JSON.
#include <chatwire/error.hpp>

#include <boost/json/basic_parser.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatwire::stream::detail {

/// A field by its keys from the top-level object, e.g. {"data", "token"}.
struct field_path {
    std::array<std::string_view, 3> keys{};  // a path is at most 3 keys deep
    std::size_t depth = 0;

    field_path(std::initializer_list<std::string_view> path);
};

struct field_value {
    enum class type : std::uint8_t { absent, string, number, boolean, null, object, array };
    type kind = type::absent;
    std::string_view text;                ///< a string's value
    std::optional<std::uint64_t> count;   ///< a number that is a non-negative integer
    bool flag = false;                    ///< a boolean's value

    bool is_string() const noexcept { return kind == type::string; }
    bool present() const noexcept { return kind != type::absent; }
};

class field_extractor;

/// The fields an extractor looks for, compiled once and shared by every
/// extractor of that kind (a mapper's, one per stream): their paths and, per
/// nesting level, the distinct keys with the paths that use them.
class field_set {
public:
    static constexpr std::size_t max_fields = 32;

    explicit field_set(std::initializer_list<field_path> paths);
    std::size_t size() const noexcept { return paths_.size(); }

private:
    friend class field_extractor;
    using mask = std::uint32_t;
    static constexpr std::size_t max_path_depth = 3;
    // The distinct keys each level of the wanted paths uses, with the paths
    // that have them: one comparison per distinct key, not per path.
    struct level_key {
        std::string_view name;
        mask paths = 0;
        std::uint64_t words[2] = {};  // the name's first 16 bytes, zero-padded
    };

    std::vector<field_path> paths_;
    std::array<std::vector<level_key>, max_path_depth + 1> level_keys_;
    std::array<mask, max_path_depth + 1> paths_ending_at_{};  // by depth
};

class field_extractor {
public:
    static constexpr std::size_t max_fields = field_set::max_fields;

    /// An extractor of its own fields (compiled here).
    explicit field_extractor(std::initializer_list<field_path> paths);
    /// An extractor of `fields`, shared with the others of its kind: per
    /// extractor, only a value and an unescape buffer per field.
    explicit field_extractor(std::shared_ptr<const field_set> fields);
    field_extractor(const field_extractor&) = delete;
    field_extractor& operator=(const field_extractor&) = delete;

    /// Parses one whole document. errc::malformed_event when it is not JSON.
    /// The values refer to `json` and to this extractor until the next parse().
    error_code parse(std::string_view json);
    /// parse() through Boost.JSON alone, never the plain scan (tests compare the two).
    error_code parse_general(std::string_view json);
    /// Whether the last parse() was read by the plain scan (or its shape cache).
    bool read_plain() const noexcept { return read_plain_; }
    /// Whether the last parse() only swapped the last string of the document before.
    bool reused_shape() const noexcept { return reused_shape_; }

    const field_value& operator[](std::size_t field) const noexcept { return values_[field]; }
    /// Whether the document is a JSON object (mappers accept nothing else).
    bool is_object() const noexcept { return top_is_object_; }

private:
    using mask = field_set::mask;
    using level_key = field_set::level_key;
    static constexpr std::size_t max_path_depth = field_set::max_path_depth;
    static constexpr std::size_t max_depth = 32;
    static constexpr std::size_t max_plain_depth = 8;  // deeper documents go to Boost.JSON

    struct handler {
        static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
        static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
        static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
        static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

        explicit handler(field_extractor& owner) : self(&owner) {}
        field_extractor* self;

        bool on_document_begin(error_code&) { return true; }
        bool on_document_end(error_code&) { return true; }
        bool on_object_begin(error_code& ec) { return self->enter(field_value::type::object, ec); }
        bool on_object_end(std::size_t, error_code&) { return self->leave(); }
        bool on_array_begin(error_code& ec) { return self->enter(field_value::type::array, ec); }
        bool on_array_end(std::size_t, error_code&) { return self->leave(); }
        bool on_key_part(std::string_view s, std::size_t, error_code&) { return self->key_part(s); }
        bool on_key(std::string_view s, std::size_t, error_code&) { return self->key(s); }
        bool on_string_part(std::string_view s, std::size_t, error_code&) { return self->string_part(s); }
        bool on_string(std::string_view s, std::size_t, error_code&) { return self->string(s); }
        bool on_number_part(std::string_view, error_code&) { return true; }
        bool on_int64(std::int64_t i, std::string_view, error_code&) {
            return self->number(i >= 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(i)) : std::nullopt);
        }
        bool on_uint64(std::uint64_t u, std::string_view, error_code&) { return self->number(u); }
        bool on_double(double, std::string_view, error_code&) { return self->number(std::nullopt); }
        bool on_bool(bool b, error_code&) { return self->scalar(field_value::type::boolean, b); }
        bool on_null(error_code&) { return self->scalar(field_value::type::null, false); }
        bool on_comment_part(std::string_view, error_code&) { return true; }
        bool on_comment(std::string_view, error_code&) { return true; }
    };

    void begin_document(std::string_view json) noexcept;
    bool parse_plain(std::string_view json);
    bool parse_same_shape(std::string_view json) noexcept;
    void remember_shape(std::string_view json);
    mask match_key(std::size_t level, const char* name, const char* name_end, const char* end) const noexcept;
    bool enter(field_value::type kind, error_code& ec);
    bool leave();
    bool key_part(std::string_view part);
    bool key(std::string_view last_part);
    bool string_part(std::string_view part);
    bool string(std::string_view last_part);
    bool number(std::optional<std::uint64_t> count);
    bool scalar(field_value::type kind, bool flag);
    int begin_value() noexcept;
    field_value* begin_scalar() noexcept;

    std::shared_ptr<const field_set> set_;
    mask stored_ = 0;  // values set by the last parse, cleared by the next one
    std::unique_ptr<field_value[]> values_;      // one per field
    std::unique_ptr<std::string[]> unescaped_;  // escaped strings, per field
    std::string key_buffer_;
    bool key_in_parts_ = false;
    bool string_in_parts_ = false;
    int string_field_ = -1;  // the field a string in parts goes to
    bool top_is_object_ = false;
    bool read_plain_ = false;
    bool reused_shape_ = false;
    // The shape of the last document the plain scan read: its bytes up to the
    // text of its last string value, and from that string's closing quote on.
    // A document with the same bytes around a plain string of other text has
    // the same fields, but for that string (streamed tokens look like this).
    bool shape_known_ = false;
    std::string shape_prefix_;
    std::string shape_suffix_;
    const char* last_string_ = nullptr;      // the last string value's text, during the plain scan
    const char* last_string_end_ = nullptr;  // and its closing quote
    std::string_view document_;
    // Which paths still match at each nesting level, and for the pending value.
    std::array<mask, max_depth + 2> container_masks_{};
    std::size_t level_ = 0;
    mask value_mask_ = 0;
    boost::json::basic_parser<handler> parser_;
};

} // namespace chatwire::stream::detail
