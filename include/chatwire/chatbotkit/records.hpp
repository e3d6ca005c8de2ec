#pragma once
// ChatBotKit resources as they come back from fetch and list actions.
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chatwire::chatbotkit {

/// A conversation as the API lists it.
struct conversation_record {
    /// The fields the API returns, by their names there.
    ///@{
    std::string id, name, description, bot_id, model, backstory;
    boost::json::object meta;
    std::int64_t created_at = 0, updated_at = 0;  ///< ms since the epoch
    ///@}
};

/// A message of a conversation as the API lists it.
struct message_record {
    /// The fields the API returns, by their names there (times in ms since the epoch).
    ///@{
    std::string id, type, text;
    boost::json::object meta;
    std::int64_t created_at = 0, updated_at = 0;
    ///@}
};

/// A bot as the API lists it.
struct bot_record {
    /// The fields the API returns, by their names there (times in ms since the epoch).
    ///@{
    std::string id, name, description, model, backstory;
    boost::json::object meta;
    std::int64_t created_at = 0, updated_at = 0;
    ///@}
};

enum class list_order { desc, asc };

/// How a list is paged.
struct list_options {
    std::size_t take = 0;               ///< page size; 0: the server's default
    /// Newest first (desc, the default) or oldest first.
    list_order order = list_order::desc;
    std::string cursor;                 ///< start after this item (a pager's cursor())
    /// Ask for every item in one JSON-lines response (Accept: application/jsonl)
    /// instead of cursor pages.
    bool stream = false;
    /// Only the items whose meta has these values (sent as `meta.KEY=VALUE`).
    std::vector<std::pair<std::string, std::string>> meta;
    /// Fetch the next page while the current one is handed out.
    bool prefetch = false;
    /// At most this many requests; 0: no cap (see pager_options::max_pages).
    std::size_t max_pages = 0;
};

void from_json(const boost::json::object& o, conversation_record& out);
void from_json(const boost::json::object& o, message_record& out);
void from_json(const boost::json::object& o, bot_record& out);

} // namespace chatwire::chatbotkit
