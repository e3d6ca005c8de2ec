#pragma once
// How one cursor-paginated list of an API is asked for and read. The pager
// knows cursors and pages; a codec knows one list's shape: the request for
// the page after a cursor, the items and the next cursor in its answer, and
// the cursor that stands after a given item. A codec does no I/O, holds no
// state that changes, and is shared by every walk of its list.
#include <chatwire/error.hpp>
#include <chatwire/stream/format.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatwire {

/// One page as a codec read it.
struct list_page {
    std::vector<boost::json::object> items;  ///< in the list's order
    /// The cursor that asks for the page after this one; empty when this page
    /// is the last. (The pager also ends at an empty page; a cursor already
    /// followed in the same walk ends it with errc::pagination_loop.)
    std::string next;
};

/// How one list is asked for and read: the request for the page after a
/// cursor, and the items and next cursor of an answer. One per list shape.
class page_codec {
public:
    virtual ~page_codec() = default;

    /// The path and query, after the client's base URL, of the page after
    /// `cursor` (an empty cursor asks for the first page).
    virtual std::string page_target(std::string_view cursor) const = 0;

    /// Reads the answer to page_target(cursor) into `out` (empty on entry).
    /// An answer of another shape is errc::bad_response, said in diag.detail.
    virtual error_code read_page(const boost::json::value& body, std::string_view cursor, list_page& out,
                                 diagnostics& diag) const = 0;

    /// The same, from a body the codec may take apart: a codec that moves the
    /// items out instead of copying them holds a page in memory once, not
    /// twice. By default, read_page().
    virtual error_code take_page(boost::json::value&& body, std::string_view cursor, list_page& out,
                                 diagnostics& diag) const {
        return read_page(body, cursor, out, diag);
    }

    /// Where a walk stands after handing out `item`, the `index`-th item
    /// (from 0) of the page asked for with `page_cursor`: page_target() of
    /// that cursor asks for the items after it. An API whose cursors name
    /// items returns the item's id; one with offsets, page offset + index + 1.
    virtual std::string cursor_after(const boost::json::object& item, std::string_view page_cursor,
                                     std::size_t index) const = 0;

    /// The list as one streamed response of every item after `cursor`, when
    /// the API has one: its target; nullopt when it has none.
    virtual std::optional<std::string> stream_target(std::string_view /*cursor*/) const { return std::nullopt; }
    /// The stream's format (its framing and the mapper that finds the items).
    virtual stream::format stream_format_of() const { return stream::format::chatbotkit_jsonl; }
    /// The item in one line of the stream (an `item` event's whole payload):
    /// false when the line carries none.
    virtual bool read_stream_item(const boost::json::value& /*line*/, boost::json::object& /*item*/) const {
        return false;
    }
};

/// How a walk starts and runs.
struct pager_options {
    /// Continue after this cursor (a pager's cursor() saved earlier); empty:
    /// from the start of the list.
    std::string cursor;
    /// The list as one JSON-lines stream instead of cursor pages (for a codec
    /// that has one; the others ignore it).
    bool stream = false;
    /// Ask for the next page while the current one is handed out, so that it
    /// is at hand when the current one runs out (cursor pages only).
    bool prefetch = false;
    /// At most this many requests (cursor pages, or openings of the list
    /// stream, prefetches included; retries not counted); 0: no cap. A walk
    /// that reaches the cap with more of the list to fetch ends with
    /// errc::page_limit_reached (after every item already fetched was handed
    /// out); its cursor() resumes it. A list that ends within the cap ends as
    /// usual, with std::nullopt.
    std::size_t max_pages = 0;
};

} // namespace chatwire
