#pragma once
// The state behind chatwire::pager: where the list lives, the cursor, and the
// items fetched but not yet handed out.
#include "call.hpp"

#include <chatwire/pager.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>

#include <boost/json/object.hpp>

#include <deque>
#include <optional>

namespace chatwire::detail {

struct list_state {
    list_state(std::shared_ptr<provider_core> p, std::string_view auth) : provider(std::move(p)), auth(auth) {}

    std::shared_ptr<provider_core> provider;
    std::string_view auth;    ///< the provider's header lines (it outlives the list)
    std::string path;         ///< the list action, without query
    std::size_t take = 0;
    std::string order;        ///< "asc" / "desc"
    std::string cursor;
    bool stream = false;

    std::deque<boost::json::object> buffer;
    bool done = false;
    std::size_t pages = 0;
    diagnostics diag;
    // stream mode
    http::body_stream body;
    stream::jsonl_decoder lines;
    bool body_ended = false;
};

} // namespace chatwire::detail
