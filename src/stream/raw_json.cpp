#include "raw_json.hpp"

namespace chatwire::stream::detail {
namespace {

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view json, std::size_t at) noexcept {
    while (at < json.size() && is_json_space(json[at])) ++at;
    return at;
}

} // namespace

std::size_t string_content_end(std::string_view json, std::size_t from) noexcept {
    for (std::size_t i = from; i < json.size(); ++i) {
        if (json[i] == '\\') ++i;  // the escaped character (or the first of \uXXXX) cannot close it
        else if (json[i] == '"') return i;
    }
    return no_position;
}

std::size_t top_level_string_start(std::string_view json, std::string_view key) noexcept {
    std::size_t found = no_position;
    int depth = 0;
    bool expect_key = false;  // the next string at depth 1 is a key
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"') {
            const std::size_t end = string_content_end(json, i + 1);
            if (end == no_position) return no_position;
            if (depth == 1 && expect_key) {
                expect_key = false;
                if (json.substr(i + 1, end - i - 1) == key) {
                    if (found != no_position) return no_position;  // a duplicate: which one counts is the parser's business
                    std::size_t at = skip_space(json, end + 1);
                    if (at == json.size() || json[at] != ':') return no_position;
                    at = skip_space(json, at + 1);
                    if (at == json.size() || json[at] != '"') return no_position;
                    found = at + 1;
                }
            }
            i = end;
        } else if (c == '{' || c == '[') {
            ++depth;
            if (depth == 1) expect_key = c == '{';
        } else if (c == '}' || c == ']') {
            --depth;
        } else if (c == ',' && depth == 1) {
            expect_key = true;
        }
    }
    return found;
}

} // namespace chatwire::stream::detail
