#pragma once
// The typed edge of chatwire::pager<T>: the walk hands out JSON objects, and
// these templates turn them into T through ADL `from_json`. Include this in
// one source file per record type and instantiate there:
//
//   namespace mine { struct thing {...}; void from_json(const boost::json::object&, thing&); }
//   #include <chatwire/detail/pager_impl.hpp>
//   CHATWIRE_INSTANTIATE_PAGER(mine::thing)
#include <chatwire/detail/operation_impl.hpp>
#include <chatwire/pager.hpp>

#include <boost/json/storage_ptr.hpp>

#include <type_traits>
#include <utility>

namespace chatwire::detail {

/// The untyped walk, compiled in the library: the next item, or the next
/// page, as JSON objects.
boost::asio::awaitable<std::pair<error_code, std::optional<boost::json::object>>>
walk_next_item(std::shared_ptr<page_walk> walk);
boost::asio::awaitable<std::pair<error_code, std::vector<boost::json::object>>>
walk_next_page(std::shared_ptr<page_walk> walk);

template <class T>
T item_from_json(boost::json::object&& o) {
    if constexpr (std::is_same_v<T, boost::json::object>) {
        // A page's items share one arena: an item handed out gets memory of
        // its own, so that keeping it does not keep its whole page.
        if (o.storage().get() == boost::json::storage_ptr().get()) return std::move(o);
        return boost::json::object(o, boost::json::storage_ptr());
    } else {
        T t{};
        from_json(std::as_const(o), t);  // found by ADL, in T's namespace
        return t;
    }
}

template <class T>
boost::asio::awaitable<std::pair<error_code, std::optional<T>>> perform(next_item<T> op) {
    auto [ec, o] = co_await walk_next_item(std::move(op.state));
    std::pair<error_code, std::optional<T>> out{ec, std::nullopt};
    if (o) out.second = item_from_json<T>(std::move(*o));
    co_return out;
}

template <class T>
boost::asio::awaitable<std::pair<error_code, std::vector<T>>> perform(next_page<T> op) {
    auto [ec, objects] = co_await walk_next_page(std::move(op.state));
    std::pair<error_code, std::vector<T>> out{ec, {}};
    out.second.reserve(objects.size());
    for (auto& o : objects) out.second.push_back(item_from_json<T>(std::move(o)));
    co_return out;
}

} // namespace chatwire::detail

/// Compiles chatwire::pager<T>'s operations for `T` in this source file.
#define CHATWIRE_INSTANTIATE_PAGER(T)                                                \
    template struct chatwire::detail::operation<chatwire::detail::next_item<T>>;    \
    template struct chatwire::detail::operation<chatwire::detail::next_page<T>>;
