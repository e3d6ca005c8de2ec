#pragma once
// A request body written member by member, without building a DOM: a chat
// request is a handful of flat members, and a json::object for it costs a
// hash table, an arena and a serializer pass on every call.
#include <string>
#include <string_view>

namespace chatwire::detail {

/// A JSON object's text. Strings are escaped by Boost.JSON's serializer;
/// keys are the library's own literals, written as they are.
class json_body {
public:
    json_body() {
        text_.reserve(128);
        text_.push_back('{');
    }

    json_body& add(std::string_view key, std::string_view value);
    json_body& add_bool(std::string_view key, bool value);  // not add(): a string literal would convert to bool
    /// A member whose value is JSON text already (an object the caller gave).
    json_body& add_json(std::string_view key, std::string_view json_text);

    /// The finished text; the writer is spent.
    std::string take() &&;

private:
    void key(std::string_view k);
    std::string text_;
};

/// Appends `s` as a JSON string (quoted, escaped) to `out`.
void append_json_string(std::string& out, std::string_view s);

} // namespace chatwire::detail
