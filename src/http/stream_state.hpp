#pragma once
// What a body_stream holds: the leased connection, the parser and the pieces
// of body that the last parse produced (views into the connection's buffer);
// over HTTP/2, the stream instead (no lease, no parser).
#include "client_state.hpp"
#include "h2_stream.hpp"
#include "piece_body.hpp"
#include "response_parser.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace chatwire::http::detail {

struct stream_state {
    stream_state(std::shared_ptr<client_state> c, lease l, deadline d)
        : client(std::move(c)), conn(std::move(l)), dl(d) {}

    std::shared_ptr<client_state> client;
    lease conn;
    std::shared_ptr<h2_stream> h2;  // set for a body read over HTTP/2
    deadline dl;
    std::optional<boost::beast::http::response_parser<piece_body>> parser;  // set up by the request
    std::vector<std::string_view> pieces;  // handed out one per read
    std::size_t next_piece = 0;
    std::size_t parsed_bytes = 0;          // buffer bytes the parser used for `pieces`
    std::size_t read_size = 4 * 1024;      // the next socket read's room (grows while reads fill it)
    unsigned status = 0;
    fields headers;
    bool finished = false;                 // the whole body was read
    bool closed = false;                   // closed early or failed
    bool reading = false;                  // an async_read_some has not completed yet
    error_code refused;                    // why the body cannot be read at all (reads report it)
};

} // namespace chatwire::http::detail
