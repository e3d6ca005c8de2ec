// Lazily fetched ChatBotKit lists: cursor pages, or one JSON-lines stream.
#include "list_state.hpp"
#include "../detail/launch.hpp"

#include <chatwire/chatbotkit/records.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

namespace chatwire::detail {

namespace asio = boost::asio;
namespace json = boost::json;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

api_request list_request(const list_state& s) {
    api_request r;
    r.method = http::verb::get;
    r.path = s.path;
    char sep = '?';
    auto add = [&](std::string_view k, std::string_view v) {
        r.path.push_back(sep);
        r.path.append(k).append("=").append(encode_query(v));
        sep = '&';
    };
    if (!s.stream && !s.cursor.empty()) add("cursor", s.cursor);
    if (!s.order.empty()) add("order", s.order);
    if (!s.stream && s.take > 0) add("take", std::to_string(s.take));
    r.fixed_lines = s.auth;
    r.stream = s.stream;
    if (s.stream) r.accept = accept_jsonl;
    return r;
}

asio::awaitable<error_code> fetch_page(list_state& s) {
    json::value v;
    ++s.pages;
    if (auto ec = co_await call_json(*s.provider, list_request(s), s.diag, v)) co_return ec;
    const auto* items = v.as_object().if_contains("items");
    if (!items || !items->is_array()) {
        s.diag.detail = "a list without items";
        co_return errc::bad_response;
    }
    for (const auto& item : items->as_array())
        if (item.is_object()) s.buffer.push_back(item.as_object());
    auto next = string_at(v, "cursor");
    // An empty page or one without a cursor ends the list; so does a cursor
    // that does not move, which would otherwise loop for ever.
    if (items->as_array().empty() || next.empty() || next == s.cursor) s.done = true;
    s.cursor.assign(next);
    co_return error_code{};
}

/// Stream mode: decodes the lines at hand, reading more body when needed,
/// until at least one item is buffered or the body ended.
asio::awaitable<error_code> fetch_streamed(list_state& s) {
    if (!s.body.is_open() && !s.body_ended) {
        api_reply reply;
        auto ec = co_await call(*s.provider, list_request(s), s.diag, reply);
        ++s.pages;
        if (ec) co_return ec;
        s.body = std::move(reply.stream);
    }
    for (;;) {
        std::string_view line;
        error_code ec;
        auto st = s.lines.next(line, ec);
        if (st == stream::decode_status::error) co_return ec;
        if (st == stream::decode_status::event) {
            boost::system::error_code pec;
            auto v = json::parse(line, pec);
            if (pec || !v.is_object()) co_return errc::malformed_event;
            const auto& o = v.as_object();
            if (string_at(v, "type") == "item") {
                if (const auto* d = o.if_contains("data"); d && d->is_object()) s.buffer.push_back(d->as_object());
                co_return error_code{};
            }
            if (string_at(v, "type") == "error") {
                if (const auto* d = o.if_contains("data")) s.diag.provider_message = string_at(*d, "message");
                co_return errc::stream_error;
            }
            continue;  // other line types carry no item
        }
        if (s.body_ended) {
            s.done = true;
            co_return error_code{};
        }
        auto [rec, piece] = co_await s.body.async_read_some(tuple_awaitable);
        if (rec == errc::end_of_stream) {
            s.body_ended = true;
            s.lines.finish();
        } else if (rec) {
            co_return rec;
        } else {
            s.lines.feed(piece);
        }
    }
}

asio::awaitable<error_code> fill(std::shared_ptr<list_state> s) {
    while (s->buffer.empty() && !s->done) {
        auto ec = s->stream ? co_await fetch_streamed(*s) : co_await fetch_page(*s);
        if (ec) {
            s->done = true;
            co_return ec;
        }
    }
    co_return error_code{};
}

template <class T>
T convert(const json::object& o) {
    T t;
    chatbotkit::from_json(o, t);
    return t;
}

template <class T>
asio::awaitable<std::pair<error_code, std::optional<T>>> next_item(std::shared_ptr<list_state> s) {
    std::pair<error_code, std::optional<T>> out;
    if ((out.first = co_await fill(s))) co_return out;
    if (!s->buffer.empty()) {
        out.second = convert<T>(s->buffer.front());
        s->buffer.pop_front();
    }
    co_return out;
}

template <class T>
asio::awaitable<std::pair<error_code, std::vector<T>>> next_page(std::shared_ptr<list_state> s) {
    std::pair<error_code, std::vector<T>> out;
    if ((out.first = co_await fill(s))) co_return out;
    for (const auto& o : s->buffer) out.second.push_back(convert<T>(o));
    s->buffer.clear();
    co_return out;
}

} // namespace

template <class T>
void pager_next(std::shared_ptr<list_state> s, handler<std::optional<T>> h) {
    auto ex = s->provider->executor;
    launch<std::optional<T>>(ex, next_item<T>(std::move(s)), std::move(h));
}

template <class T>
void pager_next_page(std::shared_ptr<list_state> s, handler<std::vector<T>> h) {
    auto ex = s->provider->executor;
    launch<std::vector<T>>(ex, next_page<T>(std::move(s)), std::move(h));
}

const diagnostics& list_diagnostics(const list_state& s) noexcept { return s.diag; }
std::size_t list_pages(const list_state& s) noexcept { return s.pages; }

#define CHATWIRE_PAGER(T)                                                                                    \
    template void pager_next<T>(std::shared_ptr<list_state>, handler<std::optional<T>>);                     \
    template void pager_next_page<T>(std::shared_ptr<list_state>, handler<std::vector<T>>);
CHATWIRE_PAGER(chatbotkit::conversation_record)
CHATWIRE_PAGER(chatbotkit::message_record)
CHATWIRE_PAGER(chatbotkit::bot_record)
#undef CHATWIRE_PAGER

} // namespace chatwire::detail
