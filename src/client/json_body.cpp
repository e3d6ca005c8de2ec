#include "json_body.hpp"

#include <boost/json/serializer.hpp>

namespace chatwire::detail {

void append_json_string(std::string& out, std::string_view s) {
    boost::json::serializer writer;
    writer.reset(s);
    // Mostly one pass: room for the quotes and a few escapes, grown if short.
    std::size_t room = s.size() + 8;
    while (!writer.done()) {
        const std::size_t at = out.size();
        out.resize(at + room);
        const auto written = writer.read(out.data() + at, room);
        out.resize(at + written.size());
        room = room * 2;
    }
}

void json_body::key(std::string_view k) {
    if (text_.size() > 1) text_.push_back(',');
    text_.push_back('"');
    text_.append(k);
    text_.append("\":");
}

json_body& json_body::add(std::string_view k, std::string_view value) {
    key(k);
    append_json_string(text_, value);
    return *this;
}

json_body& json_body::add_bool(std::string_view k, bool value) {
    key(k);
    text_.append(value ? "true" : "false");
    return *this;
}

json_body& json_body::add_json(std::string_view k, std::string_view json_text) {
    key(k);
    text_.append(json_text);
    return *this;
}

std::string json_body::take() && {
    text_.push_back('}');
    return std::move(text_);
}

} // namespace chatwire::detail
