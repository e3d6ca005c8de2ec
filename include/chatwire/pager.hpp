#pragma once
// A cursor-paginated list as an async generator of items. The pager knows
// cursors and pages; a page_codec knows the list's shape, and each item turns
// into a T through `from_json(const boost::json::object&, T&)`, found by ADL.
// A new list or record type therefore never edits the pager.
//
// Pages are fetched only when the items at hand run out (or one page ahead,
// with pager_options::prefetch), so memory stays bounded by one page (plus
// the prefetched one); the JSON-lines list stream hands items out as they
// arrive. A page is parsed into one arena of at most 16 times its bytes (a
// page that needs more is errc::body_limit_exceeded), and the items handed
// out own their memory. The end is an empty page or a page without a next
// cursor; a short page is never taken for the last one.
//
// A list that comes back to a cursor the walk already followed (A -> B -> A,
// or a page naming its own cursor; over the stream, an item already handed
// out) ends the walk with errc::pagination_loop, the cursor in
// diagnostics::detail; that page's items are not handed out.
// pager_options::max_pages caps the requests of a walk: at the cap, with
// more to fetch, the walk ends with errc::page_limit_reached and cursor()
// resumes it.
//
// Every page goes through the client's retry policy. The cursor moves only
// when an item is handed out, so a page that failed and is asked for again
// neither repeats nor skips an item. A failure that was not retried ends
// async_next with the error and leaves the pager usable: calling it again
// asks for the same page. Likewise after a cancellation. An item whose
// `from_json` throws is the one exception: the call ends with the error the
// exception stands for, and that item (async_next_page: that batch) is
// passed over.
//
// One operation at a time per pager (as for any Asio I/O object). Use a pager
// on its client's executor and destroy it there.
//
// The templates below are compiled once per record type: the library's own
// record types in the library; for another T, include
// <chatwire/detail/pager_impl.hpp> in one source file and write
// CHATWIRE_INSTANTIATE_PAGER(T) there.
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chatwire {

template <class T>
class pager;

namespace detail {
struct page_walk;
boost::asio::any_io_executor walk_executor(const page_walk& walk) noexcept;
/// pager<T>'s operations, each described once (see detail::initiate).
template <class Result>
struct walk_step {
    using result = Result;
    std::shared_ptr<page_walk> state;
    boost::asio::any_io_executor executor() const { return walk_executor(*state); }
};
template <class T>
struct next_item : walk_step<std::optional<T>> {};
template <class T>
struct next_page : walk_step<std::vector<T>> {};
/// Makes pagers: for the library's clients only.
struct pager_access {
    template <class T>
    static pager<T> make(std::shared_ptr<page_walk> walk) {
        return pager<T>(std::move(walk));
    }
};
const diagnostics& walk_diagnostics(const page_walk& walk) noexcept;
std::size_t walk_requests(const page_walk& walk) noexcept;
const std::string& walk_cursor(const page_walk& walk) noexcept;
} // namespace detail

/// The items of one list, one at a time or a page at a time, resumable from
/// cursor(). Made by a client's list functions (or `list<T>(codec, ...)`).
template <class T>
class pager {
public:
    /// The next item: void(error_code, std::optional<T>); std::nullopt after
    /// the last. On an error the pager stays usable: call again to retry.
    template <class CompletionToken>
    auto async_next(CompletionToken&& token) {
        return detail::initiate(std::forward<CompletionToken>(token), detail::next_item<T>{{walk_}});
    }

    /// The items of the next page (the rest of the current one first; over
    /// the list stream, the items one read of the body brought):
    /// void(error_code, std::vector<T>); empty after the last.
    template <class CompletionToken>
    auto async_next_page(CompletionToken&& token) {
        return detail::initiate(std::forward<CompletionToken>(token), detail::next_page<T>{{walk_}});
    }

    /// Where the walk stands after the last item handed out: a pager made
    /// with this cursor (pager_options::cursor, list_options::cursor, or
    /// `chatwire list --after`) continues with the item after it. Over
    /// ChatBotKit's lists, pages or stream alike, it is the id of the last
    /// item handed out; before the first item, the cursor the walk began at.
    const std::string& cursor() const noexcept { return detail::walk_cursor(*walk_); }

    /// Filled when a fetch failed.
    const diagnostics& get_diagnostics() const noexcept { return detail::walk_diagnostics(*walk_); }
    /// Requests made so far (pages, or stream openings; retries not counted).
    std::size_t pages_fetched() const noexcept { return detail::walk_requests(*walk_); }

private:
    friend struct detail::pager_access;
    explicit pager(std::shared_ptr<detail::page_walk> walk) : walk_(std::move(walk)) {}
    std::shared_ptr<detail::page_walk> walk_;
};

} // namespace chatwire

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::detail::next_item<boost::json::object>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_page<boost::json::object>>;
