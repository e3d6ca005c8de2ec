#pragma once
// The state behind chatwire::pager: where the list lives, the cursor, and the
// items fetched but not yet handed out.
#include "api_call.hpp"

#include <chatwire/pager.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>

#include <boost/json/object.hpp>

#include <deque>
#include <optional>

namespace chatwire::detail {

struct list_state {
    list_state(http::client c, boost::asio::any_io_executor ex) : http(std::move(c)), executor(std::move(ex)) {}

    http::client http;
    boost::asio::any_io_executor executor;
    std::string url;          ///< the list action, without query
    http::fields headers;     ///< authorization and the like
    std::size_t take = 0;
    std::string order;        ///< "asc" / "desc"
    std::string cursor;
    bool stream = false;
    error_mapper map_error = nullptr;

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
