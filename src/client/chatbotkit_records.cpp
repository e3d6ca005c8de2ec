// Converting ChatBotKit's JSON items into records, tolerant of absent fields.
#include <chatwire/chatbotkit/records.hpp>

#include <boost/json/value.hpp>

namespace chatwire::chatbotkit {

namespace json = boost::json;

namespace {
std::string str(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::int64_t num(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    if (!v || !v->is_number()) return 0;
    boost::system::error_code ec;
    auto n = v->to_number<std::int64_t>(ec);
    return ec ? 0 : n;
}
json::object obj(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v && v->is_object() ? v->get_object() : json::object();
}
} // namespace

void from_json(const json::object& o, conversation_record& out) {
    out = {str(o, "id"), str(o, "name"), str(o, "description"), str(o, "botId"), str(o, "model"),
           str(o, "backstory"), obj(o, "meta"), num(o, "createdAt"), num(o, "updatedAt")};
}

void from_json(const json::object& o, message_record& out) {
    out = {str(o, "id"), str(o, "type"), str(o, "text"), obj(o, "meta"), num(o, "createdAt"), num(o, "updatedAt")};
}

void from_json(const json::object& o, bot_record& out) {
    out = {str(o, "id"), str(o, "name"), str(o, "description"), str(o, "model"), str(o, "backstory"),
           obj(o, "meta"), num(o, "createdAt"), num(o, "updatedAt")};
}

} // namespace chatwire::chatbotkit
