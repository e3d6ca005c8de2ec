#pragma once
// VectorShift resources as they come back from its list actions.
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

namespace chatwire::vectorshift {

/// One chatbot of GET /v1/chatbots?verbose=true, tolerant of absent fields.
struct chatbot_record {
    std::string id;  ///< `_id`
    std::string name;         ///< `name`
    std::string description;  ///< `description`
    bool deployed = false;    ///< `deployed`
    std::int64_t created_at = 0;  ///< `created_at`, as the API gives it
};
/// Reads a chatbot from its JSON object (found by ADL, e.g. by pager<chatbot_record>).
void from_json(const boost::json::object& o, chatbot_record& out);

} // namespace chatwire::vectorshift
