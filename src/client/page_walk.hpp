#pragma once
// The state behind chatwire::pager: the list's codec, where the walk stands,
// the page being handed out (or the open list stream), and the page fetched
// ahead. Nothing here knows a provider's list shape.
#include "call.hpp"
#include "seen_cursors.hpp"

#include <chatwire/page_codec.hpp>
#include <chatwire/pager.hpp>
#include <chatwire/stream/reply_decoder.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

namespace chatwire::detail {

/// A page fetched ahead, in the background, while the current one is handed out.
struct prefetched_page {
    explicit prefetched_page(const boost::asio::any_io_executor& ex, std::string cursor)
        : asked_with(std::move(cursor)), ready(ex, boost::asio::steady_timer::time_point::max()) {}
    std::string asked_with;
    bool finished = false;
    error_code ec;
    list_page page;
    diagnostics diag;
    boost::asio::steady_timer ready;       ///< cancelled when finished: wakes a waiter
    boost::asio::cancellation_signal stop; ///< ends the fetch when the walk goes away
};

struct page_walk {
    page_walk(std::shared_ptr<provider_core> p, std::string_view auth, std::shared_ptr<const page_codec> c,
              const pager_options& opts);
    ~page_walk();

    std::shared_ptr<provider_core> provider;
    std::string_view auth;  ///< the provider's header lines (the provider outlives the walk)
    std::shared_ptr<const page_codec> codec;
    bool stream = false;
    bool prefetch = false;
    std::size_t max_pages = 0;  ///< 0: no cap

    std::string cursor;     ///< after the last item handed out
    bool done = false;      ///< the list ended
    std::size_t requests = 0;
    diagnostics diag;
    /// Page cursors asked for (pages), or the cursor after each item handed
    /// out (the stream), with the walk's start: one met again is a loop.
    seen_cursors seen;

    // Cursor pages: the page being handed out.
    struct held_page {
        std::string asked_with;
        list_page page;
        std::size_t next = 0;  ///< the next item to hand out
    };
    std::optional<held_page> current;
    std::shared_ptr<prefetched_page> ahead;

    // The list stream: open from the first item after `cursor` on.
    http::body_stream body;
    std::optional<stream::reply_decoder> decoder;
    bool body_clean_end = false;
    std::size_t streamed = 0;  ///< items handed out from the open stream
};

} // namespace chatwire::detail
