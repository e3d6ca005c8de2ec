#pragma once
// The typed edge of chatwire::pager<T>: the walk hands out JSON objects, and
// these templates turn them into T through ADL `from_json`. Include this in
// one source file per record type and instantiate there:
//
//   namespace mine { struct thing {...}; void from_json(const boost::json::object&, thing&); }
//   #include <chatwire/detail/pager_impl.hpp>
//   CHATWIRE_INSTANTIATE_PAGER(mine::thing)
#include <chatwire/pager.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/json/storage_ptr.hpp>

#include <type_traits>
#include <utility>

namespace chatwire::detail {

/// The untyped walk: the next item, or the next page, as JSON objects.
void walk_next(std::shared_ptr<page_walk> walk, handler<std::optional<boost::json::object>> h);
void walk_next_page(std::shared_ptr<page_walk> walk, handler<std::vector<boost::json::object>> h);
boost::asio::any_io_executor walk_executor(const page_walk& walk) noexcept;

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

/// `h` wrapped so that the walk completes it on its own executor and with its
/// own cancellation slot, converting the items on the way.
template <class From, class To, class Convert>
handler<From> converting(handler<To> h, const page_walk& walk, Convert convert) {
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    auto ex = boost::asio::get_associated_executor(h, walk_executor(walk));
    return handler<From>(boost::asio::bind_cancellation_slot(
        slot, boost::asio::bind_executor(ex, [h = std::move(h), convert](error_code ec, From from) mutable {
            std::move(h)(ec, convert(std::move(from)));
        })));
}

template <class T>
void pager_next(std::shared_ptr<page_walk> walk, handler<std::optional<T>> h) {
    auto wrapped = converting<std::optional<boost::json::object>>(
        std::move(h), *walk, [](std::optional<boost::json::object> o) -> std::optional<T> {
            if (!o) return std::nullopt;
            return item_from_json<T>(std::move(*o));
        });
    walk_next(std::move(walk), std::move(wrapped));
}

template <class T>
void pager_next_page(std::shared_ptr<page_walk> walk, handler<std::vector<T>> h) {
    auto wrapped = converting<std::vector<boost::json::object>>(
        std::move(h), *walk, [](std::vector<boost::json::object> objects) {
            std::vector<T> out;
            out.reserve(objects.size());
            for (auto& o : objects) out.push_back(item_from_json<T>(std::move(o)));
            return out;
        });
    walk_next_page(std::move(walk), std::move(wrapped));
}

} // namespace chatwire::detail

/// Compiles chatwire::pager<T>'s operations for `T` in this source file.
#define CHATWIRE_INSTANTIATE_PAGER(T)                                                                         \
    template void chatwire::detail::pager_next<T>(std::shared_ptr<chatwire::detail::page_walk>,                \
                                                  chatwire::detail::handler<std::optional<T>>);               \
    template void chatwire::detail::pager_next_page<T>(std::shared_ptr<chatwire::detail::page_walk>,           \
                                                       chatwire::detail::handler<std::vector<T>>);
