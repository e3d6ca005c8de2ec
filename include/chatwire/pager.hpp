#pragma once
// A cursor-paginated list as an async generator of items: the next page is
// fetched only when the items at hand run out. The end is an empty page or a
// page without a cursor; a short page is never taken for the last one.
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace chatwire {

namespace detail {
struct list_state;
template <class T>
void pager_next(std::shared_ptr<list_state> state, handler<std::optional<T>> h);
template <class T>
void pager_next_page(std::shared_ptr<list_state> state, handler<std::vector<T>> h);
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
        return detail::initiate<std::optional<T>>(std::forward<CompletionToken>(token), &detail::pager_next<T>,
                                                   state_);
    }

    /// The items of the next page (the buffered rest of the current one
    /// first): void(error_code, std::vector<T>); empty after the last.
    template <class CompletionToken>
    auto async_next_page(CompletionToken&& token) {
        return detail::initiate<std::vector<T>>(std::forward<CompletionToken>(token), &detail::pager_next_page<T>,
                                                 state_);
    }

    /// Filled when a fetch failed.
    const diagnostics& get_diagnostics() const noexcept { return detail::list_diagnostics(*state_); }
    /// Requests made so far (pages, or 1 for a streamed list).
    std::size_t pages_fetched() const noexcept { return detail::list_pages(*state_); }

private:
    std::shared_ptr<detail::list_state> state_;
};

} // namespace chatwire
