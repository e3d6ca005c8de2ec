// The walk behind every chatwire::pager: cursor pages (with one page fetched
// ahead, on request) or one streamed list, through the client's retry policy.
// The list's shape is the codec's; the cursor moves only as items are handed
// out, so a failed page asked for again neither repeats nor skips an item.
#include "page_arena.hpp"
#include "page_walk.hpp"

#include <chatwire/chatbotkit/records.hpp>
#include <chatwire/detail/pager_impl.hpp>
#include <chatwire/retry/schedule.hpp>
#include <chatwire/vectorshift/records.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

namespace chatwire::detail {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

api_request list_request(std::string_view auth, std::string target, bool stream, stream::format format) {
    api_request r;
    r.method = http::verb::get;
    r.path = std::move(target);
    r.fixed_lines = auth;
    r.idempotent = true;  // a list page may be asked for again at any time
    r.stream = stream;
    if (stream) r.accept = format == stream::format::chatbotkit_jsonl ? accept_jsonl : accept_sse;
    return r;
}

// What a walk's diagnostics say of a cursor: enough to recognise it, never a page of text.
std::string quoted_cursor(std::string_view cursor) {
    constexpr std::size_t shown = 200;
    std::string out = "\"" + std::string(cursor.substr(0, shown)) + "\"";
    if (cursor.size() > shown) out += "...";
    return out;
}

error_code loop_at(std::string_view cursor, diagnostics& diag) {
    diag.detail = "the list came back to the cursor " + quoted_cursor(cursor) + ", already followed in this walk";
    return errc::pagination_loop;
}

/// One whole page, read by the codec into a page-sized arena.
asio::awaitable<error_code> fetch_page(provider_core& p, std::string_view auth, const page_codec& codec,
                                       std::string cursor, list_page& out, diagnostics& diag) {
    api_reply reply;
    auto r = list_request(auth, codec.page_target(cursor), false, {});
    if (auto ec = co_await call(p, r, diag, reply)) co_return ec;
    const std::size_t bytes = reply.body.size();
    try {
        json::value v(page_arena(bytes));
        if (auto ec = parse_object(reply.body, v, diag)) co_return ec;
        reply = api_reply{};  // the text goes before the items are handed out
        if (auto ec = codec.take_page(std::move(v), cursor, out, diag)) co_return ec;
    } catch (const page_too_large&) {
        out = list_page{};
        diag.detail = "a page of " + std::to_string(bytes) + " bytes took more than " +
                      std::to_string(page_memory_factor) + " times that to parse";
        co_return make_error_code(errc::body_limit_exceeded);
    }
    // An empty page ends the list.
    if (out.items.empty()) out.next.clear();
    co_return error_code{};
}

asio::awaitable<void> prefetch(std::shared_ptr<provider_core> p, std::string_view auth,
                               std::shared_ptr<const page_codec> codec, std::shared_ptr<prefetched_page> slot) {
    co_await asio::this_coro::throw_if_cancelled(false);  // the root of its coroutine: as an operation's
    slot->ec = co_await fetch_page(*p, auth, *codec, slot->asked_with, slot->page, slot->diag);
}

bool at_cap(const page_walk& w) { return w.max_pages != 0 && w.requests >= w.max_pages; }

error_code cap_reached(page_walk& w) {
    w.diag.clear();
    w.diag.detail = "stopped after " + std::to_string(w.requests) + " requests (max_pages); the cursor resumes the walk";
    return errc::page_limit_reached;
}

void start_prefetch(page_walk& w) {
    if (!w.prefetch || w.stream || w.ahead || !w.current || w.current->page.next.empty()) return;
    if (at_cap(w) || w.seen.contains(w.current->page.next)) return;  // the walk ends there: nothing to fetch
    auto slot = std::make_shared<prefetched_page>(w.provider->executor, w.current->page.next);
    w.ahead = slot;
    ++w.requests;
    asio::co_spawn(w.provider->executor, prefetch(w.provider, w.auth, w.codec, slot),
                   asio::bind_cancellation_slot(slot->stop.slot(), [slot](std::exception_ptr e) {
                       if (e) slot->ec = error_from(e);
                       slot->finished = true;
                       slot->ready.cancel();
                   }));
}

/// The page to hand out from: returns with an item at hand in `current`, or
/// with the list ended.
asio::awaitable<error_code> ensure_page(std::shared_ptr<page_walk> w) {
    while (!w->done && !(w->current && w->current->next < w->current->page.items.size())) {
        if (w->current && w->current->page.next.empty()) {
            w->done = true;
            w->current.reset();
            break;
        }
        std::string want = w->current ? w->current->page.next : w->cursor;
        list_page page;
        if (auto ahead = w->ahead; ahead && ahead->asked_with == want) {
            if (!ahead->finished) {
                co_await ahead->ready.async_wait(tuple_awaitable);
                if (!ahead->finished) {
                    // Cancelled while waiting: the fetch ends too (it may be what
                    // hangs), and the next call asks for the page afresh.
                    ahead->stop.emit(asio::cancellation_type::terminal);
                    w->ahead.reset();
                    co_return make_error_code(errc::cancelled);
                }
            }
            w->ahead.reset();
            w->diag = std::move(ahead->diag);
            if (ahead->ec) co_return ahead->ec;  // the next call asks for the page itself
            page = std::move(ahead->page);
        } else {
            if (at_cap(*w)) co_return cap_reached(*w);
            w->diag.clear();
            ++w->requests;
            if (auto ec = co_await fetch_page(*w->provider, w->auth, *w->codec, want, page, w->diag)) co_return ec;
        }
        // A page whose next cursor was followed before (its own included)
        // starts the list over: its items are not handed out, and asking for
        // it again meets the same loop.
        w->seen.note(want);
        if (!page.next.empty() && w->seen.contains(page.next)) co_return loop_at(page.next, w->diag);
        if (page.items.empty()) {
            w->done = true;
            w->current.reset();
            break;
        }
        w->current = page_walk::held_page{std::move(want), std::move(page), 0};
        start_prefetch(*w);
    }
    co_return error_code{};
}

json::object take_item(page_walk& w) {
    auto& c = *w.current;
    const std::size_t index = c.next++;
    json::object item = std::move(c.page.items[index]);
    const bool last = c.next == c.page.items.size();
    w.cursor = last && !c.page.next.empty() ? c.page.next : w.codec->cursor_after(item, c.asked_with, index);
    if (last) c.page.items = {};  // the page's memory goes now, not with the next page
    return item;
}

// The list stream.

void close_stream(page_walk& w) {
    w.body.close();
    w.body = http::body_stream{};
    w.decoder.reset();
}

asio::awaitable<error_code> open_stream(page_walk& w) {
    if (at_cap(w)) co_return cap_reached(w);
    w.diag.clear();
    auto target = w.codec->stream_target(w.cursor);
    if (!target) {
        w.diag.detail = "this list has no stream";
        co_return make_error_code(errc::invalid_argument);
    }
    api_reply reply;
    ++w.requests;
    auto r = list_request(w.auth, std::move(*target), true, w.codec->stream_format_of());
    if (auto ec = co_await call(*w.provider, r, w.diag, reply)) co_return ec;
    w.body = std::move(reply.stream);
    stream::reply_options limits;
    limits.max_event_bytes = w.provider->http.options().limits.max_event_bytes;
    limits.max_reply_bytes = w.provider->http.options().limits.max_reply_bytes;
    w.decoder.emplace(w.codec->stream_format_of(), limits);
    w.body_clean_end = false;
    w.streamed = 0;
    co_return error_code{};
}

// A list stream ends cleanly when its body does: the list has no terminal
// event, so the decoder's "truncated" after a clean end is the list's end.
// A body that broke off (a reset, a cut) is reopened after the last item
// handed out, as a retry under the client's policy; nothing is repeated.
enum class decoded { item, none, ended };

decoded decode_item(page_walk& w, error_code& ec, json::object& item) {
    stream::event ev;
    while (w.decoder->next(ec, ev)) {
        if (ec) {
            if (ec == errc::truncated_stream && w.body_clean_end) {
                ec = {};
                w.done = true;
                close_stream(w);
            }
            return decoded::ended;
        }
        if (ev.kind != stream::event_kind::item) continue;
        boost::system::error_code pec;
        auto line = json::parse(ev.raw, pec);
        if (pec) {
            ec = errc::malformed_event;
            return decoded::ended;
        }
        if (!w.codec->read_stream_item(line, item)) continue;
        auto after = w.codec->cursor_after(item, {}, w.streamed);
        if (!after.empty()) {
            if (w.seen.contains(after)) {
                // The list came back to an item already handed out. The
                // stream is closed: asking again reopens it after the cursor.
                close_stream(w);
                ec = loop_at(after, w.diag);
                return decoded::ended;
            }
            w.seen.note(after);
        }
        w.cursor = std::move(after);
        ++w.streamed;
        return decoded::item;
    }
    return decoded::none;
}

asio::awaitable<error_code> stream_item(std::shared_ptr<page_walk> w, std::optional<json::object>& out) {
    std::optional<retry_schedule> resumes;
    for (;;) {
        if (w->done) co_return error_code{};
        if (!w->decoder)
            if (auto ec = co_await open_stream(*w)) co_return ec;
        error_code ec;
        json::object item;
        switch (decode_item(*w, ec, item)) {
        case decoded::item: out = std::move(item); co_return error_code{};
        case decoded::ended: {
            if (!ec || ec == errc::pagination_loop) co_return ec;  // the list's end, or its loop
            const auto& d = w->decoder->diagnostics();
            w->diag.provider_code = d.provider_code;
            w->diag.provider_message = d.provider_message;
            w->diag.detail = d.detail;
            close_stream(*w);
            if (ec != errc::truncated_stream) co_return ec;  // the provider's error line, a bad line: as they are
            if (!resumes) resumes.emplace(w->provider->retry, w->provider->store.get());
            failure_info info;
            info.method = http::verb::get;
            info.idempotent = true;
            info.request_written = true;
            info.response_started = true;
            auto delay = resumes->next_delay(ec, info, w->diag);
            if (!delay) co_return ec;
            if (is_cancelled(co_await asio::this_coro::cancellation_state)) co_return make_error_code(errc::cancelled);
            asio::steady_timer wait(w->provider->executor, *delay);
            if (auto [wec] = co_await wait.async_wait(tuple_awaitable); wec) co_return make_error_code(errc::cancelled);
            continue;
        }
        case decoded::none: break;
        }
        error_code rec;
        std::string_view piece;
        // Bytes already received come without a trip through the event loop.
        // A cancel whose signal came while the last read's completion was
        // queued found nothing to cancel: it is honoured before the next read.
        if (!w->body.try_read_some(rec, piece)) {
            if (is_cancelled(co_await asio::this_coro::cancellation_state)) {
                close_stream(*w);  // the next call reopens after the cursor
                co_return make_error_code(errc::cancelled);
            }
            std::tie(rec, piece) = co_await w->body.async_read_some(tuple_awaitable);
        }
        if (rec == errc::end_of_stream) {
            w->body_clean_end = true;
            w->decoder->finish(rec);
        } else if (rec == errc::cancelled) {
            close_stream(*w);  // the next call reopens after the cursor
            co_return rec;
        } else if (rec) {
            w->decoder->finish(rec);
        } else {
            w->decoder->feed(piece);
        }
    }
}

} // namespace

page_walk::page_walk(std::shared_ptr<provider_core> p, std::string_view a, std::shared_ptr<const page_codec> c,
                     const pager_options& opts)
    : provider(std::move(p)), auth(a), codec(std::move(c)), stream(opts.stream && codec->stream_target("")),
      prefetch(opts.prefetch), max_pages(opts.max_pages), cursor(opts.cursor) {
    // The stream notes the cursor after each item: an item named by the
    // cursor the walk began after is a repeat too. (Pages note the cursors
    // they are asked with, this one first.)
    if (stream && !cursor.empty()) seen.note(cursor);
}

page_walk::~page_walk() {
    if (ahead && !ahead->finished) ahead->stop.emit(asio::cancellation_type::terminal);
}

asio::awaitable<std::pair<error_code, std::optional<json::object>>> walk_next_item(std::shared_ptr<page_walk> w) {
    std::pair<error_code, std::optional<json::object>> out;
    if (w->stream) {
        out.first = co_await stream_item(w, out.second);
        co_return out;
    }
    if ((out.first = co_await ensure_page(w))) co_return out;
    if (!w->done) out.second = take_item(*w);
    co_return out;
}

asio::awaitable<std::pair<error_code, std::vector<json::object>>> walk_next_page(std::shared_ptr<page_walk> w) {
    std::pair<error_code, std::vector<json::object>> out;
    if (w->stream) {
        std::optional<json::object> first;
        if ((out.first = co_await stream_item(w, first)) || !first) co_return out;
        out.second.push_back(std::move(*first));
        // Then whatever the bytes at hand hold; a final code waits for the next call.
        json::object item;
        error_code ignored;
        while (w->decoder && decode_item(*w, ignored, item) == decoded::item) out.second.push_back(std::move(item));
        // A loop found here closed the stream: the next call reopens it and meets the loop again.
        co_return out;
    }
    if ((out.first = co_await ensure_page(w))) co_return out;
    while (!w->done && w->current->next < w->current->page.items.size()) out.second.push_back(take_item(*w));
    co_return out;
}

asio::any_io_executor walk_executor(const page_walk& w) noexcept { return w.provider->executor; }
const diagnostics& walk_diagnostics(const page_walk& w) noexcept { return w.diag; }
std::size_t walk_requests(const page_walk& w) noexcept { return w.requests; }
const std::string& walk_cursor(const page_walk& w) noexcept { return w.cursor; }

} // namespace chatwire::detail

// The library's record types (and raw JSON objects) are compiled here, once.
CHATWIRE_INSTANTIATE_PAGER(boost::json::object)
CHATWIRE_INSTANTIATE_PAGER(chatwire::chatbotkit::conversation_record)
CHATWIRE_INSTANTIATE_PAGER(chatwire::chatbotkit::message_record)
CHATWIRE_INSTANTIATE_PAGER(chatwire::chatbotkit::bot_record)
CHATWIRE_INSTANTIATE_PAGER(chatwire::vectorshift::chatbot_record)
