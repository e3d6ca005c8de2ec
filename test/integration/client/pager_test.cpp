#define BOOST_TEST_MODULE integration_pager
// chatwire::pager over every list, against the emulator: 1,000+ items at
// several page sizes, both orders, pages and stream; resuming from a cursor;
// faults on random pages; cancellation; an empty list; a list shape the
// pager has never seen, read by a codec written here; and, against a scripted
// server, lists whose cursors come back, a page cap, and a page's memory.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "list_server.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <fstream>
#include <malloc.h>
#include <random>
#include <set>

namespace asio = boost::asio;
namespace json = boost::json;
namespace cbk = chatwire::chatbotkit;
namespace vs = chatwire::vectorshift;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;
using namespace std::chrono_literals;

// A record type and a list shape the library has never seen: offset pages of
// {"results":[{"key","position"}],"next_offset"?} (test_server's /offset-list).
namespace offset_api {
struct entry {
    std::string key;
    std::int64_t position = -1;
};
void from_json(const json::object& o, entry& out) {
    out.key = o.at("key").as_string().c_str();
    out.position = o.at("position").to_number<std::int64_t>();
}

class codec final : public chatwire::page_codec {
public:
    codec(std::size_t total, std::size_t limit) : total_(total), limit_(limit) {}
    std::string page_target(std::string_view cursor) const override {
        return "/offset-list?total=" + std::to_string(total_) + "&limit=" + std::to_string(limit_) +
               "&offset=" + std::string(cursor.empty() ? "0" : cursor);
    }
    error_code read_page(const json::value& body, std::string_view, chatwire::list_page& out,
                         chatwire::diagnostics&) const override {
        const auto* results = body.as_object().if_contains("results");
        if (!results || !results->is_array()) return errc::bad_response;
        for (const auto& r : results->as_array()) out.items.push_back(r.as_object());
        if (const auto* next = body.as_object().if_contains("next_offset"))
            out.next = std::to_string(next->to_number<std::size_t>());
        return {};
    }
    std::string cursor_after(const json::object&, std::string_view page_cursor, std::size_t index) const override {
        const std::size_t offset = page_cursor.empty() ? 0 : std::stoul(std::string(page_cursor));
        return std::to_string(offset + index + 1);
    }

private:
    std::size_t total_, limit_;
};
} // namespace offset_api

#include <chatwire/detail/pager_impl.hpp>
CHATWIRE_INSTANTIATE_PAGER(offset_api::entry)

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t many = 1003;  // not a multiple of any page size used

struct emulated : chatwire::testing::emulated {
    cbk::options chatbotkit(chatwire::retry_policy retry = fast_retries()) const {
        cbk::options o;
        o.base_url = server.base_url() + "/api/v1";
        o.secret = "test-key";
        o.http = http();
        o.retry = retry;
        return o;
    }
    static chatwire::retry_policy fast_retries() {
        chatwire::retry_policy r;
        r.max_attempts = 4;
        r.base_delay = 5ms;
        r.max_delay = 20ms;
        return r;
    }
};

std::string fault_rule(const char* kind, int status = 0, int retry_after = -1, int events = -1, int stall_ms = 0) {
    json::object o;
    o["api"] = "chatbotkit";
    o["times"] = 1;
    o["kind"] = kind;
    if (status) o["status"] = status;
    if (retry_after >= 0) o["retry_after"] = retry_after;
    if (events >= 0) o["events"] = events;
    if (stall_ms) o["stall_ms"] = stall_ms;
    std::string rules = "[";  // appended, not "[" + ...: GCC 12 warns (-Wrestrict) of its own inlining
    rules += json::serialize(o);
    rules += "]";
    return rules;
}

std::vector<std::string> page_faults() {
    return {fault_rule("status", 503), fault_rule("status", 429, 1), fault_rule("reset_before_response"),
            fault_rule("status", 503), fault_rule("reset_before_response")};
}

/// Replaces the emulator's fault script (through its admin route).
asio::awaitable<void> set_faults(emulated& e, std::string rules) {
    chatwire::http::client admin(e.io.get_executor(), e.http());
    chatwire::http::request r;
    r.method = chatwire::http::verb::post;
    r.url = e.server.base_url() + "/_emulator/faults";
    r.headers.set("X-Emulator-Admin-Token", e.server.admin_token());
    r.headers.set("Content-Type", "application/json");
    r.body = std::move(rules);
    chatwire::diagnostics diag;
    auto [ec, res] = co_await admin.async_request(std::move(r), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST_REQUIRE(res.status == 200u, res.body);
}

/// Requests the emulator has served on its conversation list route so far.
asio::awaitable<std::int64_t> list_hits(emulated& e) {
    chatwire::http::client admin(e.io.get_executor(), e.http());
    chatwire::http::request r;
    r.url = e.server.base_url() + "/_emulator/stats";
    r.headers.set("X-Emulator-Admin-Token", e.server.admin_token());
    chatwire::diagnostics diag;
    auto [ec, res] = co_await admin.async_request(std::move(r), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    std::int64_t n = 0;
    auto stats = json::parse(res.body);
    for (const auto& route : stats.at("routes").as_object())
        if (route.key().find("conversation/list") != std::string_view::npos) n += route.value().to_number<std::int64_t>();
    co_return n;
}

cbk::list_options listing(std::size_t take, cbk::list_order order, bool stream = false, std::string cursor = {}) {
    cbk::list_options o;
    o.take = take;
    o.order = order;
    o.stream = stream;
    o.cursor = std::move(cursor);
    return o;
}

asio::awaitable<std::vector<std::string>> create_conversations(cbk::client& c, std::size_t n) {
    std::vector<std::string> ids;
    chatwire::diagnostics diag;
    for (std::size_t i = 0; i < n; ++i) {
        cbk::conversation_fields f;
        f.name = "conversation " + std::to_string(i);
        auto [ec, id] = co_await c.async_create_conversation(std::move(f), diag, tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
        ids.push_back(id);
    }
    co_return ids;
}

/// Up to `limit` ids from the pager (all when 0), failing the test on an error.
template <class T>
asio::awaitable<std::vector<std::string>> walk(chatwire::pager<T>& p, std::size_t limit = 0) {
    std::vector<std::string> ids;
    while (limit == 0 || ids.size() < limit) {
        auto [ec, item] = co_await p.async_next(tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message() << " " << p.get_diagnostics().to_string());
        if (!item) break;
        ids.push_back(item->id);
    }
    co_return ids;
}

/// Every id exactly once, in order: a readable failure instead of 1,000 lines.
void expect_same(const std::vector<std::string>& got, const std::vector<std::string>& want, const std::string& what) {
    BOOST_TEST(got.size() == want.size(), what << ": " << got.size() << " items, expected " << want.size());
    std::set<std::string> distinct(got.begin(), got.end());
    BOOST_TEST(distinct.size() == got.size(), what << ": " << got.size() - distinct.size() << " repeated");
    auto mismatch = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
    BOOST_TEST((mismatch.first == got.end() && mismatch.second == want.end()),
               what << ": first difference at " << (mismatch.first - got.begin()));
}

std::vector<std::string> reversed(std::vector<std::string> v) {
    std::reverse(v.begin(), v.end());
    return v;
}

struct chatbotkit_world {
    chatbotkit_world() : c(e.io.get_executor(), e.chatbotkit()) {
        run_coro(e.io, [](chatbotkit_world& w) -> asio::awaitable<void> {
            w.ids = co_await create_conversations(w.c, many);
        }(*this), 120s);
    }
    emulated e;
    cbk::client c;
    std::vector<std::string> ids;  // oldest first
};

} // namespace

BOOST_AUTO_TEST_CASE(every_conversation_once_at_every_page_size_in_both_orders) {
    chatbotkit_world w;
    run_coro(w.e.io, [](chatbotkit_world& w) -> asio::awaitable<void> {
        for (std::size_t take : {1u, 7u, 100u}) {
            for (auto order : {cbk::list_order::asc, cbk::list_order::desc}) {
                const auto want = order == cbk::list_order::asc ? w.ids : reversed(w.ids);
                const auto what = "take " + std::to_string(take) + (order == cbk::list_order::asc ? " asc" : " desc");
                auto p = w.c.conversations(listing(take, order));
                auto got = co_await walk(p);
                expect_same(got, want, what);
                // Lazily, page by page: the last page is followed by the empty one that ends it.
                BOOST_TEST(p.pages_fetched() == (many + take - 1) / take + 1, what);
                BOOST_TEST(p.cursor() == want.back(), what);
            }
        }
        for (auto order : {cbk::list_order::asc, cbk::list_order::desc}) {
            auto s = w.c.conversations(listing(0, order, true));
            const auto want = order == cbk::list_order::asc ? w.ids : reversed(w.ids);
            auto got = co_await walk(s);
            expect_same(got, want, "stream");
            BOOST_TEST(s.pages_fetched() == 1u);  // one request for the whole list
        }
        // Whole pages: the sizes asked for, then the short last one.
        auto pages = w.c.conversations(listing(100, cbk::list_order::asc));
        std::vector<std::size_t> sizes;
        for (;;) {
            auto [ec, page] = co_await pages.async_next_page(tuple_awaitable);
            BOOST_TEST_REQUIRE(!ec, ec.message());
            if (page.empty()) break;
            sizes.push_back(page.size());
            BOOST_TEST(pages.cursor() == page.back().id);
        }
        BOOST_TEST(sizes.size() == 11u);
        BOOST_TEST(sizes.back() == many % 100);
        // Prefetching changes when pages are asked for, not what is listed.
        auto ahead_options = listing(7, cbk::list_order::desc);
        ahead_options.prefetch = true;
        auto ahead = w.c.conversations(ahead_options);
        const auto newest_first = reversed(w.ids);
        auto got = co_await walk(ahead);
        expect_same(got, newest_first, "prefetch");
        BOOST_TEST(ahead.pages_fetched() == (many + 6) / 7 + 1);
    }(w), 240s);
}

BOOST_AUTO_TEST_CASE(a_walk_stopped_half_way_resumes_from_its_cursor) {
    chatbotkit_world w;
    run_coro(w.e.io, [](chatbotkit_world& w) -> asio::awaitable<void> {
        const std::size_t half = many / 2;
        for (bool stream : {false, true}) {
            for (auto order : {cbk::list_order::asc, cbk::list_order::desc}) {
                const auto want = order == cbk::list_order::asc ? w.ids : reversed(w.ids);
                auto first = w.c.conversations(listing(7, order, stream));
                auto got = co_await walk(first, half);
                const std::string saved = first.cursor();
                BOOST_TEST(saved == got.back());
                // A new pager, from the saved cursor alone (half way through a page of 7).
                auto rest = w.c.conversations(listing(7, order, stream, saved));
                auto tail = co_await walk(rest);
                got.insert(got.end(), tail.begin(), tail.end());
                expect_same(got, want, stream ? "resumed stream" : "resumed pages");
            }
        }
        // A cursor saved from the stream resumes a walk over pages, and back.
        auto streamed = w.c.conversations(listing(0, cbk::list_order::asc, true));
        auto got = co_await walk(streamed, 10);
        auto paged = w.c.conversations(listing(3, cbk::list_order::asc, false, streamed.cursor()));
        auto more = co_await walk(paged, 10);
        auto back = w.c.conversations(listing(0, cbk::list_order::asc, true, paged.cursor()));
        auto tail = co_await walk(back);
        got.insert(got.end(), more.begin(), more.end());
        got.insert(got.end(), tail.begin(), tail.end());
        expect_same(got, w.ids, "stream, pages, stream");
    }(w), 120s);
}

BOOST_AUTO_TEST_CASE(faults_on_random_pages_lose_and_repeat_nothing) {
    chatbotkit_world w;
    int retried = 0;
    auto opts = w.e.chatbotkit();
    opts.on_attempt = [&](const chatwire::attempt_report& r) { retried += r.will_retry; };
    cbk::client c(w.e.io.get_executor(), opts);
    run_coro(w.e.io, [](chatbotkit_world& w, cbk::client& c, int& retried) -> asio::awaitable<void> {
        std::mt19937 random(12);  // fixed: a failure can be replayed
        const auto faults = page_faults();
        // Pages of 7, both orders: before a random item of randomly chosen
        // pages (two pages apart at least, so that each rule is met before the
        // next replaces it), the next request fails once.
        for (auto order : {cbk::list_order::asc, cbk::list_order::desc}) {
            retried = 0;
            std::set<std::size_t> pages;
            while (pages.size() < faults.size()) pages.insert(random() % (many / 14));
            std::set<std::size_t> at;
            for (auto page : pages) at.insert(page * 14 + random() % 7);
            const auto hits_before = co_await list_hits(w.e);
            auto p = c.conversations(listing(7, order));
            std::vector<std::string> got;
            std::size_t next_fault = 0;
            for (;;) {
                if (at.count(got.size())) co_await set_faults(w.e, faults[next_fault++]);
                auto [ec, item] = co_await p.async_next(tuple_awaitable);
                BOOST_TEST_REQUIRE(!ec, ec.message() << " " << p.get_diagnostics().to_string());
                if (!item) break;
                got.push_back(item->id);
            }
            expect_same(got, order == cbk::list_order::asc ? w.ids : reversed(w.ids), "pages with faults");
            // Each fault was met once and cost one request more. The statuses
            // went through the retry policy; the transport itself sends a GET
            // again on a new connection after a reset on a reused one.
            const auto hits_after = co_await list_hits(w.e);
            BOOST_TEST(hits_after - hits_before == std::int64_t(p.pages_fetched() + faults.size()));
            BOOST_TEST(retried == 3);
        }
        // The stream: reset after a random number of items, then the reopening
        // (after the last item handed out) refused once with a 503.
        for (auto order : {cbk::list_order::asc, cbk::list_order::desc}) {
            retried = 0;
            co_await set_faults(w.e, fault_rule("reset_after_events", 0, -1, int(random() % (many - 2)) + 1));
            auto s = c.conversations(listing(0, order, true));
            auto got = co_await walk(s, 1);
            co_await set_faults(w.e, fault_rule("status", 503));
            auto tail = co_await walk(s);
            got.insert(got.end(), tail.begin(), tail.end());
            expect_same(got, order == cbk::list_order::asc ? w.ids : reversed(w.ids), "stream with faults");
            BOOST_TEST(s.pages_fetched() == 2u);  // opened, and reopened once after the reset
            BOOST_TEST(retried == 1);             // the 503
        }
    }(w, c, retried), 120s);
}

BOOST_AUTO_TEST_CASE(a_failure_not_retried_leaves_the_pager_usable) {
    chatbotkit_world w;
    cbk::client c(w.e.io.get_executor(), w.e.chatbotkit(chatwire::retry_policy::none()));
    run_coro(w.e.io, [](chatbotkit_world& w, cbk::client& c) -> asio::awaitable<void> {
        // Pages, pages fetched one ahead (the failure then comes from the
        // prefetch, reported when its page is reached), and the stream.
        for (int mode : {0, 1, 2}) {
            const bool stream = mode == 2;
            auto options = listing(7, cbk::list_order::asc, stream);
            options.prefetch = mode == 1;
            auto p = c.conversations(options);
            std::vector<std::string> got;
            int failures = 0;
            for (std::size_t i = 0;; ++i) {
                // Pages: a 503 on the page after item 100 and after item 500.
                // Stream: the body reset after 300 items, then the reopening refused.
                if (!stream && (i == 100 || i == 500)) co_await set_faults(w.e, fault_rule("status", 503));
                if (stream && i == 0) co_await set_faults(w.e, fault_rule("reset_after_events", 0, -1, 300));
                auto [ec, item] = co_await p.async_next(tuple_awaitable);
                while (ec) {
                    ++failures;
                    BOOST_TEST(p.cursor() == (got.empty() ? std::string() : got.back()));
                    BOOST_TEST_REQUIRE(failures <= 2, ec.message());
                    if (stream && failures == 1) co_await set_faults(w.e, fault_rule("status", 503));
                    std::tie(ec, item) = co_await p.async_next(tuple_awaitable);  // the same page, again
                }
                if (!item) break;
                got.push_back(item->id);
            }
            BOOST_TEST(failures == 2, "mode " << mode);
            expect_same(got, w.ids, "after failures, mode " + std::to_string(mode));
        }
    }(w, c), 120s);
}

BOOST_AUTO_TEST_CASE(cancelled_in_the_middle_then_continued) {
    chatbotkit_world w;
    run_coro(w.e.io, [](chatbotkit_world& w) -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        // Pages; pages fetched one ahead (the cancel meets the wait for the
        // prefetched page, and ends that fetch too); the stream.
        for (int mode : {0, 1, 2}) {
            const bool stream = mode == 2;
            auto options = listing(7, cbk::list_order::asc, stream);
            options.prefetch = mode == 1;
            const auto hits_before = co_await list_hits(w.e);
            auto p = w.c.conversations(options);
            auto got = co_await walk(p, 7 * 20 + 3);  // stream: the stall below comes after 3 more items
            // The page fetched ahead has reached the server: the fault below is not for it.
            while (co_await list_hits(w.e) - hits_before < std::int64_t(p.pages_fetched()))
                co_await chatwire::testing::sleep_for(5ms);
            // The next request meets a server that stalls for 10 s; the caller gives up after 50 ms.
            co_await set_faults(w.e, fault_rule("stall", 0, -1, stream ? 3 : -1, 10'000));
            std::vector<std::string> more;
            if (stream) {
                // The open stream is not affected: reopen at the cursor. The
                // three items before the stall are handed out as they arrive.
                p = w.c.conversations(listing(7, cbk::list_order::asc, true, p.cursor()));
                more = co_await walk(p, 3);
            } else {
                // To the end of this page (prefetching: of the next one, fetched
                // already; the stalled request is the prefetch after it).
                more = co_await walk(p, mode == 1 ? 4 + 7 : 4);
            }
            got.insert(got.end(), more.begin(), more.end());
            asio::cancellation_signal cancel;
            asio::steady_timer t(ex, 50ms);
            t.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
            const auto started = std::chrono::steady_clock::now();
            auto [ec, item] = co_await p.async_next(asio::bind_cancellation_slot(cancel.slot(), tuple_awaitable));
            BOOST_TEST(ec == error_code(errc::cancelled), ec.message());
            BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));  // not the stall's 10 s
            co_await set_faults(w.e, "[]");
            auto rest = co_await walk(p);
            BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));  // nothing waited for the stall
            got.insert(got.end(), rest.begin(), rest.end());
            expect_same(got, w.ids, "after a cancel, mode " + std::to_string(mode));
        }
    }(w), 120s);
}

BOOST_AUTO_TEST_CASE(empty_lists_end_at_once) {
    emulated e;
    cbk::client c(e.io.get_executor(), e.chatbotkit());
    vs::options vo;
    vo.base_url = e.server.base_url();
    vo.api_key = "test-key";
    vo.http = e.http();
    vs::client v(e.io.get_executor(), vo);
    run_coro(e.io, [](cbk::client& c, vs::client& v) -> asio::awaitable<void> {
        for (bool stream : {false, true}) {
            for (auto order : {cbk::list_order::asc, cbk::list_order::desc}) {
                auto p = c.conversations(listing(7, order, stream));
                auto [ec, item] = co_await p.async_next(tuple_awaitable);
                BOOST_TEST(!ec, ec.message());
                BOOST_TEST(!item.has_value());
                BOOST_TEST(p.cursor().empty());
                BOOST_TEST(p.pages_fetched() == 1u);
                auto [again, none] = co_await p.async_next(tuple_awaitable);  // the end stays the end
                BOOST_TEST(!again);
                BOOST_TEST(!none.has_value());
                BOOST_TEST(p.pages_fetched() == 1u);
            }
        }
        auto bots = v.chatbots();
        auto [ec, bot] = co_await bots.async_next(tuple_awaitable);
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(!bot.has_value());
    }(c, v));
}

BOOST_AUTO_TEST_CASE(messages_bots_and_vectorshift_chatbots) {
    emulated e;
    cbk::client c(e.io.get_executor(), e.chatbotkit());
    vs::options vo;
    vo.base_url = e.server.base_url();
    vo.api_key = "test-key";
    vo.http = e.http();
    vs::client v(e.io.get_executor(), vo);
    run_coro(e.io, [](cbk::client& c, vs::client& v) -> asio::awaitable<void> {
        chatwire::diagnostics diag;
        // Messages of one conversation, with meta on every third.
        auto one = co_await create_conversations(c, 1);
        const auto conversation = one.front();
        std::vector<std::string> ids, gold;
        for (int i = 0; i < 40; ++i) {
            cbk::message m;
            m.type = "user";
            m.text = "note " + std::to_string(i);
            auto [ec, id] = co_await c.async_create_message(conversation, m, diag, tuple_awaitable);
            BOOST_TEST_REQUIRE(!ec, ec.message());
            ids.push_back(id);
        }
        for (bool stream : {false, true}) {
            auto p = c.messages(conversation, listing(7, cbk::list_order::asc, stream));
            auto listed = co_await walk(p);
            expect_same(listed, ids, "messages");
            auto half = c.messages(conversation, listing(7, cbk::list_order::desc, stream));
            auto got = co_await walk(half, 20);
            auto rest = c.messages(conversation, listing(7, cbk::list_order::desc, stream, half.cursor()));
            auto tail = co_await walk(rest);
            got.insert(got.end(), tail.begin(), tail.end());
            expect_same(got, reversed(ids), "messages resumed");
        }
        // Bots, filtered by meta.
        for (int i = 0; i < 30; ++i) {
            cbk::conversation_fields f;
            f.bot_id = "bot-" + std::to_string(i);
            json::object meta;
            meta["tier"] = i % 3 == 0 ? "gold" : "plain";
            f.meta = meta;
            auto [ec, id] = co_await c.async_create_conversation(std::move(f), diag, tuple_awaitable);
            BOOST_TEST_REQUIRE(!ec, ec.message());
            if (i % 3 == 0) gold.push_back(id);
        }
        auto bots = c.bots(listing(7, cbk::list_order::asc));
        auto bot_ids = co_await walk(bots);
        BOOST_TEST(bot_ids.size() >= 30u);
        auto gold_options = listing(4, cbk::list_order::asc);
        gold_options.meta.emplace_back("tier", "gold");
        for (bool stream : {false, true}) {
            gold_options.stream = stream;
            auto p = c.conversations(gold_options);
            auto listed = co_await walk(p);
            expect_same(listed, gold, "meta filter");
        }
        // VectorShift's chatbots: one page, resumable after a chatbot id.
        std::vector<std::string> chatbots;
        for (int i = 0; i < 12; ++i) {
            auto [ec, bot] = co_await v.async_fetch_chatbot("vs-bot-" + std::to_string(i), "", diag, tuple_awaitable);
            BOOST_TEST_REQUIRE(!ec, ec.message());
            chatbots.push_back("vs-bot-" + std::to_string(i));
        }
        auto all = v.chatbots();
        auto listed = co_await walk(all);
        expect_same(listed, chatbots, "chatbots");
        BOOST_TEST(all.pages_fetched() == 1u);
        auto first = v.chatbots();
        auto got = co_await walk(first, 5);
        vs::chatbot_list_options after;
        after.cursor = first.cursor();
        auto rest = v.chatbots(after);
        auto tail = co_await walk(rest);
        got.insert(got.end(), tail.begin(), tail.end());
        expect_same(got, chatbots, "chatbots resumed");
        after.cursor = "no-such-bot";
        auto lost = v.chatbots(after);
        auto [lec, none] = co_await lost.async_next(tuple_awaitable);
        BOOST_TEST(lec == error_code(errc::invalid_argument));
    }(c, v), 60s);
}

BOOST_AUTO_TEST_CASE(a_codec_for_a_shape_the_pager_has_never_seen) {
    asio::io_context io;
    chatwire::testing::test_server server(io);
    cbk::options o;  // any client lends its transport and retry policy to a codec
    o.base_url = server.url("");
    o.secret = "unused";
    o.http.tls.extra_ca_pem = server.certificate_pem();
    cbk::client c(io.get_executor(), o);
    run_coro(io, [](cbk::client& c) -> asio::awaitable<void> {
        auto codec = std::make_shared<offset_api::codec>(53, 10);
        auto p = c.list<offset_api::entry>(codec);
        std::vector<std::int64_t> positions;
        std::string half_way;
        for (;;) {
            auto [ec, item] = co_await p.async_next(tuple_awaitable);
            BOOST_TEST_REQUIRE(!ec, ec.message() << " " << p.get_diagnostics().to_string());
            if (!item) break;
            BOOST_TEST(item->key == "k" + std::to_string(item->position));
            positions.push_back(item->position);
            if (positions.size() == 26) half_way = p.cursor();
        }
        BOOST_TEST_REQUIRE(positions.size() == 53u);
        for (std::size_t i = 0; i < positions.size(); ++i) BOOST_TEST(positions[i] == std::int64_t(i));
        BOOST_TEST(p.pages_fetched() == 6u);  // the last page has no next_offset: no empty page needed
        BOOST_TEST(half_way == "26");
        chatwire::pager_options from;
        from.cursor = half_way;
        from.prefetch = true;
        auto rest = c.list<offset_api::entry>(codec, from);
        auto [ec, page] = co_await rest.async_next_page(tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message());
        BOOST_TEST_REQUIRE(!page.empty());
        BOOST_TEST(page.front().position == 26);
        // Raw JSON objects work for any list too.
        auto raw = c.list<json::object>(codec);
        auto [rec, first] = co_await raw.async_next(tuple_awaitable);
        BOOST_TEST_REQUIRE(!rec);
        BOOST_TEST(first->at("key").as_string() == "k0");
    }(c));
}

namespace {

using chatwire::testing::list_server;

std::shared_ptr<const std::string> text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

/// ChatBotKit's page shape: the items, and the last one's id as the cursor.
list_server::reply page_of(const std::vector<std::string>& ids) {
    json::array items;
    for (const auto& id : ids) items.push_back(json::object{{"id", id}, {"name", id}});
    json::object page{{"items", std::move(items)}};
    if (!ids.empty()) page["cursor"] = ids.back();
    return {"application/json", text(json::serialize(page))};
}

/// A ChatBotKit client of a scripted server, with retries that do not slow a test down.
cbk::client scripted_client(asio::io_context& io, const list_server& server) {
    cbk::options o;
    o.base_url = server.base_url() + "/api/v1";
    o.secret = "test-key";
    o.retry = emulated::fast_retries();
    return cbk::client(io.get_executor(), o);
}

/// "k3" and the like.
std::string id_of(char prefix, int i) {
    std::string id(1, prefix);
    id += std::to_string(i);
    return id;
}

/// The index in "k<i>" (or "e<i>"), -1 for an empty cursor.
int index_of(const std::string& cursor) { return cursor.empty() ? -1 : std::stoi(cursor.substr(1)); }

struct walked {
    std::vector<std::string> ids;
    error_code ec;
};

/// Up to `limit` items, stopping at the first error (which is kept).
template <class T>
asio::awaitable<walked> walk_until_error(chatwire::pager<T>& p, std::size_t limit) {
    walked out;
    while (out.ids.size() < limit) {
        auto [ec, item] = co_await p.async_next(tuple_awaitable);
        if (ec) {
            out.ec = ec;
            break;
        }
        if (!item) break;
        out.ids.push_back(item->id);
    }
    co_return out;
}

long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

} // namespace

// Cursors that come back after 1, 2 or 3 pages (k0 -> k0; k0 -> k1 -> k0;
// k0 -> k1 -> k2 -> k0), and a stream whose items come round again: the walk
// ends with errc::pagination_loop at the first repeat, the cursor named in
// diagnostics, every item handed out once. Before, such a list was asked for
// until someone killed the process.
BOOST_AUTO_TEST_CASE(cursors_that_come_back_end_the_walk_with_pagination_loop) {
    for (int period : {1, 2, 3}) {
        for (bool stream : {false, true}) {
            std::string what = "period ";
            what += std::to_string(period);
            what += stream ? ", stream" : ", pages";
            asio::io_context io;
            list_server server(io, [period](std::string_view target) -> list_server::reply {
                if (list_server::param(target, "take").empty()) {  // the stream: every item, going round four times
                    std::string lines;
                    for (int i = 0; i < 4 * period; ++i)
                        lines += json::serialize(json::object{
                                     {"type", "item"}, {"data", {{"id", id_of('k', i % period)}}}}) +
                                 "\n";
                    return {"application/jsonl", text(std::move(lines))};
                }
                const int at = index_of(list_server::param(target, "cursor"));
                return page_of({id_of('k', (at + 1) % period)});
            });
            auto c = scripted_client(io, server);
            run_coro(io, [](cbk::client& c, list_server& server, int period, bool stream,
                            std::string what) -> asio::awaitable<void> {
                auto options = listing(stream ? 0 : 1, cbk::list_order::asc, stream);
                auto p = c.conversations(options);
                auto got = co_await walk_until_error(p, 50);
                BOOST_TEST(got.ec == error_code(errc::pagination_loop), what << ": " << got.ec.message());
                std::vector<std::string> once;
                for (int i = 0; i < period; ++i) once.push_back(id_of('k', i));
                BOOST_TEST(got.ids == once, what);
                BOOST_TEST(p.get_diagnostics().detail.find("\"k0\"") != std::string::npos,
                           what << ": " << p.get_diagnostics().detail);
                BOOST_TEST(p.cursor() == once.back(), what);
                // Pages: one request per page, and the one whose cursor came back.
                BOOST_TEST(server.requests() == (stream ? 1 : period + 1), what);
                // Asked again, the list loops again: nothing more is handed out.
                auto [again, none] = co_await p.async_next(tuple_awaitable);
                BOOST_TEST(again == error_code(errc::pagination_loop), what);
                BOOST_TEST(!none.has_value(), what);
            }(c, server, period, stream, what));
        }
    }
}

// A list that never ends (e1, e2 -> e3, e4 -> ...), walked with a cap of
// three pages, with and without prefetching: three requests, every item of
// them handed out, then errc::page_limit_reached; the cursor resumes the
// walk exactly. A list that ends within the cap ends as usual.
BOOST_AUTO_TEST_CASE(max_pages_ends_an_endless_list_with_page_limit_reached) {
    asio::io_context io;
    list_server endless(io, [](std::string_view target) {
        const int at = index_of(list_server::param(target, "cursor"));
        const int from = at < 0 ? 1 : at + 1;
        return page_of({id_of('e', from), id_of('e', from + 1)});
    });
    list_server finite(io, [](std::string_view target) {
        const int at = index_of(list_server::param(target, "cursor"));
        if (at >= 4) return page_of({});
        return page_of({id_of('e', at < 0 ? 1 : at + 1), id_of('e', at < 0 ? 2 : at + 2)});
    });
    auto c = scripted_client(io, endless);
    auto f = scripted_client(io, finite);
    run_coro(io, [](cbk::client& c, cbk::client& f, list_server& endless) -> asio::awaitable<void> {
        int before = 0;
        for (bool prefetch : {false, true}) {
            auto options = listing(2, cbk::list_order::asc);
            options.prefetch = prefetch;
            options.max_pages = 3;
            auto p = c.conversations(options);
            before = endless.requests();
            auto got = co_await walk_until_error(p, 100);
            BOOST_TEST(got.ec == error_code(errc::page_limit_reached), got.ec.message());
            BOOST_TEST(got.ids == (std::vector<std::string>{"e1", "e2", "e3", "e4", "e5", "e6"}));
            BOOST_TEST(p.pages_fetched() == 3u);
            BOOST_TEST(endless.requests() - before == 3);
            BOOST_TEST(p.cursor() == "e6");
            auto [again, none] = co_await p.async_next(tuple_awaitable);  // the cap stays the cap
            BOOST_TEST(again == error_code(errc::page_limit_reached));
            BOOST_TEST(endless.requests() - before == 3);
            // Resumed from the cursor, with a cap of its own.
            auto rest_options = listing(2, cbk::list_order::asc, false, p.cursor());
            rest_options.max_pages = 1;
            auto rest = c.conversations(rest_options);
            auto tail = co_await walk_until_error(rest, 100);
            BOOST_TEST(tail.ec == error_code(errc::page_limit_reached));
            BOOST_TEST(tail.ids == (std::vector<std::string>{"e7", "e8"}));
        }
        // Four items in two pages and the empty one: within a cap of three, the usual end.
        auto options = listing(2, cbk::list_order::asc);
        options.max_pages = 3;
        auto p = f.conversations(options);
        auto got = co_await walk_until_error(p, 100);
        BOOST_TEST(!got.ec, got.ec.message());
        BOOST_TEST(got.ids.size() == 4u);
        BOOST_TEST(p.pages_fetched() == 3u);
    }(c, f, endless));
}

// An 8 MB page of small items: the walk's peak memory, over what the
// process held before, stays a small multiple of the page's bytes. It was
// 14 times here, 18 elsewhere (the page as a JSON tree, and every item
// copied out of it).
BOOST_AUTO_TEST_CASE(a_page_of_small_items_costs_a_small_multiple_of_its_bytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // The sanitizers' allocators (ASan's quarantine keeps freed blocks) make
    // resident memory say nothing of the walk's: as stress_emulator_rss, not
    // measured there.
    BOOST_TEST_MESSAGE("page memory not measured under a sanitizer");
    return;
#endif
    std::string page = "{\"items\":[";
    int n = 0;
    while (page.size() < 8'000'000 - 64) {
        if (n) page += ',';
        page += "{\"id\":\"i";
        page += std::to_string(n++);
        page += "\"}";
    }
    page += "]}";
    const auto body = text(std::move(page));
    asio::io_context io;
    list_server server(io, [&](std::string_view target) -> list_server::reply {
        if (!list_server::param(target, "cursor").empty()) return page_of({});
        return {"application/json", body};
    });
    auto c = scripted_client(io, server);
    // Free heap handed back, then the high-water mark starts again from here
    // (Linux: clear_refs "5"), so that earlier tests' memory neither counts
    // nor hides what this walk takes.
    malloc_trim(0);
    { std::ofstream("/proc/self/clear_refs") << "5"; }
    const long base = rss_kib();
    BOOST_TEST_REQUIRE(peak_rss_kib() <= base + 1024, "the peak could not be reset");
    run_coro(io, [](cbk::client& c, int n) -> asio::awaitable<void> {
        auto p = c.list<json::object>(cbk::conversation_list_codec(listing(0, cbk::list_order::asc)));
        int items = 0;
        for (;;) {
            auto [ec, item] = co_await p.async_next(tuple_awaitable);
            BOOST_TEST_REQUIRE(!ec, ec.message() << " " << p.get_diagnostics().to_string());
            if (!item) break;
            ++items;
        }
        BOOST_TEST(items == n);
    }(c, n), 120s);
    const double growth = double(peak_rss_kib() - base) * 1024 / double(body->size());
    BOOST_TEST_MESSAGE("peak memory over the walk: " << growth << " times the page's " << body->size() << " bytes");
    BOOST_TEST(growth < 12.0, "the walk's peak was " << growth << " times the page");
}
