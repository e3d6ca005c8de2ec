// The cancellation sweep over the provider clients, against the emulator
// (TLS): chat_client::async_send and async_send_whole for each API, a reply
// stream's async_next and next() mid-stream, and a ChatBotKit pager.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"
#include "sweep.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <optional>

namespace asio = boost::asio;
namespace cbk = chatwire::chatbotkit;
using namespace std::chrono_literals;
using chatwire::api_kind;
using chatwire::chat_client;
using chatwire::chat_stream;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::open_fds;
using chatwire::testing::run_until;
using chatwire::testing::sweep;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

const char* name_of(api_kind a) {
    switch (a) {
    case api_kind::vectorshift: return "vectorshift";
    case api_kind::chatbotkit: return "chatbotkit";
    case api_kind::pollybot: return "pollybot";
    }
    return "?";
}

chatwire::emulator::options paced(std::chrono::milliseconds token_delay) {
    chatwire::emulator::options o;
    o.token_delay = token_delay;
    return o;
}

struct emulated : chatwire::testing::emulated {
    explicit emulated(chatwire::emulator::options o = {}) : chatwire::testing::emulated(std::move(o)) {
        baseline = open_fds();
    }
    ~emulated() {
        BOOST_TEST(run_until(io, [&] { return open_fds() == baseline; }, 5s),
                   "descriptors " << open_fds() << " at the end, baseline " << baseline);
    }

    chatwire::chat_options options_for(api_kind a) const {
        return chat_options_for(a);  // the default retry policy: a cancel must not be retried
    }

    /// Every descriptor of either side gone (the client was destroyed).
    bool fds_at_baseline() {
        const bool ok = run_until(io, [&] { return open_fds() == baseline; }, 5s);
        BOOST_TEST(ok, "descriptors " << open_fds() << ", baseline " << baseline);
        return ok;
    }

    std::size_t baseline = 0;
};

// ---- fresh calls (plain coroutines: nothing cancels them) ----------------------

asio::awaitable<error_code> chat_once(chat_client& c, std::string conversation) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send("Where is my order?", std::move(conversation), diag, tuple_awaitable);
    if (ec) co_return ec;
    int tokens = 0;
    for (;;) {
        auto [nec, ev] = co_await s.async_next(tuple_awaitable);
        if (nec == errc::end_of_stream) break;
        if (nec) co_return nec;
        if (ev.kind == chatwire::event_kind::token) ++tokens;
    }
    co_return tokens > 0 ? error_code{} : error_code(errc::bad_response);
}

asio::awaitable<void> expect_chat(chat_client& c, bool& ok) {
    auto ec = co_await chat_once(c, "");
    BOOST_TEST(!ec, "the fresh chat failed: " << ec.message());
    ok = !ec;
}

bool chat_succeeds(emulated& e, chat_client& c) {
    bool ok = false;
    chatwire::testing::run_coro(e.io, expect_chat(c, ok));
    return ok;
}

asio::awaitable<void> expect_whole(chat_client& c, bool& ok) {
    chatwire::diagnostics diag;
    auto [ec, reply] = co_await c.async_send_whole("Where is my order?", "", diag, tuple_awaitable);
    BOOST_TEST(!ec, "the fresh call failed: " << ec.message() << " " << diag.to_string());
    BOOST_TEST(!reply.text.empty());
    ok = !ec && !reply.text.empty();
}

/// A fresh call that is quick on a paced emulator (a whole reply is not paced).
bool whole_succeeds(emulated& e, chat_client& c) {
    bool ok = false;
    chatwire::testing::run_coro(e.io, expect_whole(c, ok));
    return ok;
}

/// Opens a reply stream without cancellation.
asio::awaitable<void> open_reply(chat_client& c, chat_stream& out) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send("Tell me about my order", "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    out = std::move(s);
}

/// A co_spawn completion for the sweep: an exception the coroutine ended with
/// is an error code, as the library's own calls report it.
auto spawn_done(std::function<void(error_code)> done) {
    return [done = std::move(done)](std::exception_ptr x, error_code ec) {
        if (x) {
            try {
                std::rethrow_exception(x);
            } catch (const boost::system::system_error& se) {
                // A cancelled coroutine throws at its next co_await of an operation.
                ec = se.code() == asio::error::operation_aborted ? error_code(errc::cancelled) : se.code();
            } catch (...) {
                ec = errc::bad_response;
            }
        }
        done(ec);
    };
}

// ---- async_send and async_send_whole --------------------------------------------

/// How a call is made: with a callback, or awaited in a coroutine that runs on
/// the client's executor (the operation then runs inside that coroutine, and
/// the cancel reaches it through the coroutine's co_spawn).
enum class caller { callback, coroutine };

asio::awaitable<error_code> send_awaited(chat_client& c, bool whole, chatwire::diagnostics& diag) {
    if (whole) {
        auto [ec, r] = co_await c.async_send_whole("Where is my order?", "", diag, tuple_awaitable);
        co_return !ec && r.text.empty() ? error_code(errc::bad_response) : ec;
    }
    auto [ec, s] = co_await c.async_send("Where is my order?", "", diag, tuple_awaitable);
    co_return !ec && !s.is_open() ? error_code(errc::bad_response) : ec;
}

void sweep_send(api_kind api, bool whole, bool pooled, caller how = caller::callback) {
    emulated e;
    std::optional<chat_client> c;
    chatwire::diagnostics diag;
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        c.emplace(e.io.get_executor(), e.options_for(api));
        if (pooled) BOOST_TEST(chat_succeeds(e, *c));  // leaves a connection in the pool
        if (how == caller::coroutine) {
            asio::co_spawn(e.io, send_awaited(*c, whole, diag), asio::bind_cancellation_slot(slot, spawn_done(done)));
        } else if (whole) {
            c->async_send_whole("Where is my order?", "", diag,
                                asio::bind_cancellation_slot(slot, [done](error_code ec, chatwire::chat_reply r) {
                                    if (!ec && r.text.empty()) ec = errc::bad_response;
                                    done(ec);
                                }));
        } else {
            // A stream that comes anyway is dropped unread: that too frees its connection.
            c->async_send("Where is my order?", "", diag,
                          asio::bind_cancellation_slot(slot, [done](error_code ec, chat_stream s) {
                              if (!ec && !s.is_open()) ec = errc::bad_response;
                              done(ec);
                          }));
        }
    };
    auto check = [&](int) {
        const bool fresh = chat_succeeds(e, *c);
        c.reset();
        return e.fds_at_baseline() && fresh;
    };
    auto name = std::string("chat_client::") + (whole ? "async_send_whole " : "async_send ") + name_of(api) +
                (pooled ? " pooled" : " new connection") + (how == caller::coroutine ? " awaited" : "");
    BOOST_TEST(sweep(e.io, name, start, check).ok);
}

// ---- a reply stream, mid-stream ---------------------------------------------------

/// Reads events with async_next, each bound to `slot`, until the end, an
/// error, or the first result after the cancel was emitted.
struct event_drain : std::enable_shared_from_this<event_drain> {
    chat_stream stream;
    asio::cancellation_slot slot;
    const bool* stop = nullptr;
    std::function<void(error_code)> done;
    int pending = 0;

    void next() {
        ++pending;
        stream.async_next(asio::bind_cancellation_slot(
            slot, [self = shared_from_this()](error_code ec, chatwire::event) { self->on_event(ec); }));
    }
    void on_event(error_code ec) {
        if (--pending != 0) BOOST_ERROR("an async_next completed twice");
        if (ec == errc::end_of_stream) return finish({});
        if (ec) return finish(ec);
        if (*stop) return finish({});
        next();
    }
    void finish(error_code ec) {
        auto d = std::move(done);
        d(ec);
    }
};

/// The same loop with the awaitable next(), as one coroutine that the
/// cancellation slot reaches through co_spawn.
asio::awaitable<error_code> next_loop(chat_stream& s, const bool& stop) {
    for (;;) {
        auto [ec, ev] = co_await s.next();
        if (ec == errc::end_of_stream) co_return error_code{};
        if (ec) co_return ec;
        if (stop) co_return error_code{};
    }
}

void sweep_events(api_kind api, bool awaitable_next, asio::cancellation_type type, std::chrono::milliseconds pace) {
    emulated e(paced(pace));
    chat_client c(e.io.get_executor(), e.options_for(api));
    bool stop = false;
    std::shared_ptr<event_drain> reader;
    chat_stream stream;  // for next()
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        chat_stream s;
        chatwire::testing::run_coro(e.io, open_reply(c, s));
        if (!awaitable_next) {
            reader = std::make_shared<event_drain>();
            reader->stream = std::move(s);
            reader->slot = slot;
            reader->stop = &stop;
            reader->done = std::move(done);
            reader->next();
            return;
        }
        stream = std::move(s);
        asio::co_spawn(e.io, next_loop(stream, stop), asio::bind_cancellation_slot(slot, spawn_done(std::move(done))));
    };
    auto check = [&](int) {
        reader.reset();
        stream = chat_stream{};  // a stream not read to its end closes its connection
        if (!whole_succeeds(e, c)) return false;
        // Every descriptor left belongs to a connection idle in the pool (two
        // each: both ends). Usually one; two when the turn above ran while
        // the released stream's connection still read its body's end.
        auto expected = [&] { return e.baseline + 2 * c.pool_stats().open; };
        const bool fds = run_until(
            e.io, [&] { return c.pool_stats().idle == c.pool_stats().open && open_fds() == expected(); },
            5s * chatwire::testing::test_time_scale);
        BOOST_TEST(fds, "descriptors " << open_fds() << ", expected " << expected() << " for "
                                       << c.pool_stats().open << " connection(s), " << c.pool_stats().idle
                                       << " idle");
        return fds;
    };
    auto name = std::string(awaitable_next ? "chat_stream::next() " : "chat_stream::async_next ") + name_of(api) +
                (pace.count() > 0 ? " paced" : " unpaced");
    BOOST_TEST(sweep(e.io, name, start, check, {.type = type, .emitted_flag = &stop}).ok);
}

// ---- the ChatBotKit pager -----------------------------------------------------------

asio::awaitable<void> create_conversations(cbk::client& c, int n) {
    for (int i = 0; i < n; ++i) {
        chatwire::diagnostics diag;
        cbk::conversation_fields f;
        f.name = "conversation " + std::to_string(i);
        auto [ec, id] = co_await c.async_create_conversation(std::move(f), diag, tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    }
}

cbk::list_options listing(bool stream) {
    cbk::list_options o;
    o.take = stream ? 0 : 2;
    o.order = cbk::list_order::asc;
    o.stream = stream;
    return o;
}

asio::awaitable<void> count_items(chatwire::pager<cbk::conversation_record> p, std::size_t& n, error_code& failed) {
    for (;;) {
        auto [ec, item] = co_await p.async_next(tuple_awaitable);
        if (ec) {
            failed = ec;
            co_return;
        }
        if (!item) co_return;
        ++n;
    }
}

struct item_drain : std::enable_shared_from_this<item_drain> {
    explicit item_drain(chatwire::pager<cbk::conversation_record> p) : pager(std::move(p)) {}
    chatwire::pager<cbk::conversation_record> pager;
    asio::cancellation_slot slot;
    const bool* stop = nullptr;
    std::function<void(error_code)> done;
    std::size_t items = 0;
    int pending = 0;

    void next() {
        ++pending;
        pager.async_next(asio::bind_cancellation_slot(
            slot, [self = shared_from_this()](error_code ec, std::optional<cbk::conversation_record> item) {
                self->on_item(ec, item.has_value());
            }));
    }
    void on_item(error_code ec, bool got) {
        if (--pending != 0) BOOST_ERROR("a pager async_next completed twice");
        if (ec) return finish(ec);
        if (!got) return finish({});
        ++items;
        if (*stop) return finish({});
        next();
    }
    void finish(error_code ec) {
        auto d = std::move(done);
        d(ec);
    }
};

void sweep_pager(bool stream, asio::cancellation_type type) {
    emulated e;
    cbk::options o;
    o.base_url = e.server.base_url() + "/api/v1";
    o.secret = "test-key";
    o.http.tls.extra_ca_pem = e.server.certificate_pem();
    std::optional<cbk::client> c;
    c.emplace(e.io.get_executor(), o);
    constexpr int total = 5;
    chatwire::testing::run_coro(e.io, create_conversations(*c, total));
    bool stop = false;
    std::shared_ptr<item_drain> reader;
    auto start = [&](asio::cancellation_slot slot, std::function<void(error_code)> done) {
        reader = std::make_shared<item_drain>(c->conversations(listing(stream)));
        reader->slot = slot;
        reader->stop = &stop;
        reader->done = std::move(done);
        reader->next();
    };
    auto check = [&](int) {
        reader.reset();
        std::size_t n = 0;
        error_code failed;
        chatwire::testing::run_coro(e.io, count_items(c->conversations(listing(stream)), n, failed));
        BOOST_TEST(!failed, "the fresh list failed: " << failed.message());
        BOOST_TEST(n == std::size_t(total));
        const auto s = c->transport().stats();
        BOOST_TEST(s.open == s.idle, "connections in use: " << s.open - s.idle);
        const bool fds = run_until(e.io, [&] { return open_fds() == e.baseline + 2 * c->transport().stats().open; },
                                   5s * chatwire::testing::test_time_scale);
        BOOST_TEST(fds, "descriptors " << open_fds() << ", expected " << e.baseline + 2 * c->transport().stats().open);
        return !failed && n == std::size_t(total) && s.open == s.idle && fds;
    };
    auto name = std::string("chatbotkit pager async_next ") + (stream ? "(JSON lines)" : "(pages of 2)");
    BOOST_TEST(sweep(e.io, name, start, check, {.type = type, .emitted_flag = &stop}).ok);
    c.reset();
}

} // namespace

BOOST_AUTO_TEST_CASE(chat_client_async_send_at_every_suspension_point) {
    for (auto api : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot}) sweep_send(api, false, false);
    sweep_send(api_kind::pollybot, false, true);
}

BOOST_AUTO_TEST_CASE(chat_client_async_send_whole_at_every_suspension_point) {
    for (auto api : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot}) sweep_send(api, true, false);
    sweep_send(api_kind::vectorshift, true, true);
}

// Awaited on the client's executor, the call runs inside the caller's coroutine
// (no co_spawn of its own): the cancel must meet it at the same points.
BOOST_AUTO_TEST_CASE(awaited_calls_at_every_suspension_point) {
    for (auto api : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot})
        sweep_send(api, true, false, caller::coroutine);
    sweep_send(api_kind::pollybot, false, false, caller::coroutine);
    sweep_send(api_kind::vectorshift, true, true, caller::coroutine);
}

// Paced (1 ms between events), every event is a read of its own, so the
// cancel meets each event's read. Unpaced, the emulator writes the events back
// to back: after the first read they are at hand, and next() takes them
// without suspending (a cancel then has nothing to meet, and must not break
// anything either).
BOOST_AUTO_TEST_CASE(chat_stream_async_next_mid_stream) {
    for (auto api : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot})
        sweep_events(api, false, asio::cancellation_type::terminal, 1ms);
    sweep_events(api_kind::pollybot, false, asio::cancellation_type::partial, 1ms);
    sweep_events(api_kind::pollybot, false, asio::cancellation_type::total, 1ms);
}

BOOST_AUTO_TEST_CASE(chat_stream_next_mid_stream) {
    sweep_events(api_kind::pollybot, true, asio::cancellation_type::terminal, 1ms);
    for (auto api : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot})
        sweep_events(api, true, asio::cancellation_type::terminal, 0ms);
}

BOOST_AUTO_TEST_CASE(chatbotkit_pager_over_pages) {
    sweep_pager(false, asio::cancellation_type::terminal);
    sweep_pager(true, asio::cancellation_type::terminal);
    sweep_pager(false, asio::cancellation_type::partial);
    sweep_pager(false, asio::cancellation_type::total);
}
