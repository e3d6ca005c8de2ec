#pragma once
// A cursor-paginated list as an async generator of items: the next page is
// fetched only when the items at hand run out. The end is an empty page or a
// page without a cursor; a short page is never taken for the last one.
#include <chatwire/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace chatwire {

namespace detail {
struct list_state;
template <class T>
void pager_next(const std::shared_ptr<list_state>& state,
                boost::asio::any_completion_handler<void(error_code, std::optional<T>)> handler);
template <class T>
void pager_next_page(const std::shared_ptr<list_state>& state,
                     boost::asio::any_completion_handler<void(error_code, std::vector<T>)> handler);
const diagnostics& list_diagnostics(const list_state& state) noexcept;
std::size_t list_pages(const list_state& state) noexcept;
} // namespace detail

template <class T>
class pager {
public:
    explicit pager(std::shared_ptr<detail::list_state> state) : state_(std::move(state)) {}

    /// The next item: void(error_code, std::optional<T>); std::nullopt after the last.
    template <class CompletionToken>
    auto async_next(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::optional<T>)>(
            [](auto h, std::shared_ptr<detail::list_state> s) {
                detail::pager_next<T>(
                    s, boost::asio::any_completion_handler<void(error_code, std::optional<T>)>(std::move(h)));
            },
            token, state_);
    }

    /// The items of the next page (the buffered rest of the current one
    /// first): void(error_code, std::vector<T>); empty after the last.
    template <class CompletionToken>
    auto async_next_page(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::vector<T>)>(
            [](auto h, std::shared_ptr<detail::list_state> s) {
                detail::pager_next_page<T>(
                    s, boost::asio::any_completion_handler<void(error_code, std::vector<T>)>(std::move(h)));
            },
            token, state_);
    }

    /// Filled when a fetch failed.
    const diagnostics& get_diagnostics() const noexcept { return detail::list_diagnostics(*state_); }
    /// Requests made so far (pages, or 1 for a streamed list).
    std::size_t pages_fetched() const noexcept { return detail::list_pages(*state_); }

private:
    std::shared_ptr<detail::list_state> state_;
};

} // namespace chatwire
