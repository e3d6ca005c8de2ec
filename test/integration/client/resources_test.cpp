// Every non-chat endpoint of the clients against the emulator.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"

#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

namespace asio = boost::asio;
namespace cbk = chatwire::chatbotkit;
namespace vs = chatwire::vectorshift;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Literals built outside the coroutines: GCC 12 rejects braced string
// literals inside a coroutine body ("array used as initializer").
boost::json::object meta(const char* k1, const char* v1, const char* k2 = nullptr, const char* v2 = nullptr) {
    boost::json::object o;
    o[k1] = v1;
    if (k2) o[k2] = v2;
    return o;
}
cbk::message user_message(const char* text) { return cbk::message{"user", text}; }
cbk::list_options listing(std::size_t take, cbk::list_order order, bool stream = false) {
    cbk::list_options o;
    o.take = take;
    o.order = order;
    o.stream = stream;
    return o;
}
vs::upload_file binary_file() { return vs::upload_file{"notes.txt", std::string("binary\0data\xff", 12)}; }

using chatwire::testing::emulated;

asio::awaitable<std::string> create(cbk::client& c, std::string name) {
    chatwire::diagnostics diag;
    cbk::conversation_fields f;
    f.name = std::move(name);
    f.bot_id = "bot-a";
    f.meta = meta("tier", "gold", "region", "eu");
    auto [ec, id] = co_await c.async_create_conversation(std::move(f), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(id.rfind("cnv_", 0) == 0u);
    co_return id;
}

template <class T>
asio::awaitable<std::vector<T>> drain(chatwire::pager<T> p) {
    std::vector<T> out;
    for (;;) {
        auto [ec, item] = co_await p.async_next(tuple_awaitable);
        BOOST_TEST_REQUIRE(!ec, ec.message() << " " << p.get_diagnostics().to_string());
        if (!item) break;
        out.push_back(std::move(*item));
    }
    co_return out;
}

asio::awaitable<void> chatbotkit_resources(cbk::client& c) {
    chatwire::diagnostics diag;
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) ids.push_back(co_await create(c, "conversation " + std::to_string(i)));

    // Fetch.
    auto [fec, conv] = co_await c.async_fetch_conversation(ids[0], diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!fec, fec.message());
    BOOST_TEST(conv.id == ids[0]);
    BOOST_TEST(conv.name == "conversation 0");
    BOOST_TEST(conv.bot_id == "bot-a");
    BOOST_TEST(conv.created_at > 0);

    // Update: $update merges meta, meta replaces it.
    cbk::conversation_fields unchanged;  // a named value: GCC 12 mishandles a braced temporary here
    auto [uec, uid] = co_await c.async_update_conversation(ids[0], std::move(unchanged), meta("tier", "platinum"),
                                                           diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!uec, uec.message() << " " << diag.to_string());
    BOOST_TEST(uid == ids[0]);
    auto [f2, merged] = co_await c.async_fetch_conversation(ids[0], diag, tuple_awaitable);
    BOOST_TEST(merged.meta.at("tier").as_string() == "platinum");
    BOOST_TEST(merged.meta.at("region").as_string() == "eu");
    cbk::conversation_fields replace;
    replace.name = "renamed";
    replace.meta = meta("only", "yes");
    auto [rec, rid] = co_await c.async_update_conversation(ids[0], replace, std::nullopt, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!rec, rec.message());
    auto [f3, replaced] = co_await c.async_fetch_conversation(ids[0], diag, tuple_awaitable);
    BOOST_TEST(replaced.name == "renamed");
    BOOST_TEST(replaced.meta.size() == 1u);
    BOOST_TEST(replaced.meta.contains("only"));

    // Cursor pages of 3: 7 items in 3 pages plus the empty page that ends it.
    auto pages = c.conversations(listing(3, cbk::list_order::asc));
    auto listed = co_await drain(std::move(pages));
    BOOST_TEST(listed.size() == 7u);
    std::vector<std::string> listed_ids;
    for (auto& x : listed) listed_ids.push_back(x.id);
    BOOST_TEST(listed_ids == ids, boost::test_tools::per_element());

    auto desc = c.conversations(listing(3, cbk::list_order::desc));
    auto [pec, first_page] = co_await desc.async_next_page(tuple_awaitable);
    BOOST_TEST_REQUIRE(!pec);
    BOOST_TEST(first_page.size() == 3u);
    BOOST_TEST(first_page.front().id == ids.back());  // newest first
    BOOST_TEST(desc.pages_fetched() == 1u);

    // The same list streamed as JSON lines, in one request.
    auto streamed = c.conversations(listing(0, cbk::list_order::asc, true));
    auto all = co_await drain(std::move(streamed));
    BOOST_TEST(all.size() == 7u);

    // Messages: create, complete, list.
    auto [mec, mid] = co_await c.async_create_message(ids[1], user_message("a note"), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!mec, mec.message() << " " << diag.to_string());
    BOOST_TEST(mid.rfind("msg_", 0) == 0u);
    cbk::complete_request req;
    req.conversation_id = ids[1];
    req.text = "hello";
    auto [cec, done] = co_await c.async_complete(req, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!cec, cec.message());
    auto message_pages = c.messages(ids[1], listing(1, cbk::list_order::asc));
    auto msgs = co_await drain(std::move(message_pages));
    BOOST_TEST_REQUIRE(msgs.size() == 3u);
    BOOST_TEST(msgs[0].text == "a note");
    BOOST_TEST(msgs[1].type == "user");
    BOOST_TEST(msgs[1].text == "hello");
    BOOST_TEST(msgs[2].type == "bot");
    BOOST_TEST(msgs[2].text == done.text);

    // Stateless completion, streamed: the same text as the JSON answer.
    cbk::complete_request stateless;
    stateless.messages.push_back(user_message("What are your hours?"));
    auto [jec, whole] = co_await c.async_complete(stateless, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!jec, jec.message());
    auto [sec, stream] = co_await c.async_complete_stream(stateless, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!sec, sec.message());
    std::string streamed_text;
    for (;;) {
        auto [nec, ev] = co_await stream.async_next(tuple_awaitable);
        if (nec) {
            BOOST_TEST(nec == error_code(errc::end_of_stream), nec.message());
            break;
        }
        if (ev.kind == chatwire::event_kind::token) streamed_text.append(ev.text);
    }
    BOOST_TEST(streamed_text == whole.text);
    BOOST_TEST(!whole.text.empty());

    // Bots named in conversations exist.
    auto bot_pages = c.bots();
    auto bots = co_await drain(std::move(bot_pages));
    BOOST_TEST(bots.size() >= 1u);

    // Delete, then fetch is NOT_FOUND with the provider's code.
    auto [dec, did] = co_await c.async_delete_conversation(ids[2], diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!dec, dec.message());
    BOOST_TEST(did == ids[2]);
    auto [gone, unused] = co_await c.async_fetch_conversation(ids[2], diag, tuple_awaitable);
    BOOST_TEST(gone == error_code(errc::not_found));
    BOOST_TEST(diag.provider_code == "NOT_FOUND");
    BOOST_TEST(diag.http_status == 404);

    // Input checks.
    auto [empty, e2] = co_await c.async_fetch_conversation("", diag, tuple_awaitable);
    BOOST_TEST(empty == error_code(errc::invalid_argument));
}

asio::awaitable<void> vectorshift_v1(vs::client& c) {
    chatwire::diagnostics diag;
    vs::v1_run_request run;
    run.chatbot_id = "bot 1/with slash";
    run.text = "What are your hours?";
    auto [ec, reply] = co_await c.async_run_v1(run, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(!reply.output_message.empty());
    BOOST_TEST(!reply.conversation_id.empty());

    // The stream of the next turn equals its whole reply on a twin conversation.
    auto [sec, stream] = co_await c.async_run_v1_stream(run, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!sec, sec.message());
    std::string text;
    for (;;) {
        auto [nec, ev] = co_await stream.async_next(tuple_awaitable);
        if (nec) {
            BOOST_TEST(nec == error_code(errc::end_of_stream), nec.message());
            break;
        }
        if (ev.kind == chatwire::event_kind::token) text.append(ev.text);
    }
    BOOST_TEST(text == reply.output_message);

    auto [lec, list] = co_await c.async_list_chatbots(false, true, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!lec, lec.message());
    BOOST_TEST(list.object_ids.size() >= 1u);
    BOOST_TEST(list.objects.size() == list.object_ids.size());

    auto [fec, bot] = co_await c.async_fetch_chatbot(list.object_ids.front(), "", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!fec, fec.message() << " " << diag.to_string());
    BOOST_TEST(bot.at("_id").as_string() == list.object_ids.front());

    vs::upload_request up;
    up.chatbot_id = run.chatbot_id;
    up.conversation_id = reply.conversation_id;
    up.files.push_back(binary_file());
    auto [uec, uploaded] = co_await c.async_upload(up, diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!uec, uec.message() << " " << diag.to_string());
    BOOST_TEST(uploaded.conversation_id == reply.conversation_id);
    BOOST_TEST(!uploaded.knowledge_base_id.empty());
    BOOST_TEST(uploaded.uploaded_files.size() == 1u);
    BOOST_TEST(uploaded.errors.empty());

    auto [tec, status] = co_await c.async_terminate(run.chatbot_id, "run-123", diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!tec, tec.message());
    BOOST_TEST(status == "success");
    auto [bad, unused] = co_await c.async_terminate(run.chatbot_id, "", diag, tuple_awaitable);
    BOOST_TEST(bad == error_code(errc::invalid_argument));
}

} // namespace

BOOST_AUTO_TEST_CASE(chatbotkit_conversations_messages_bots_and_lists) {
    emulated emu;
    cbk::options o;
    o.base_url = emu.server.base_url() + "/api/v1";
    o.secret = "secret";
    o.run_as_user_id = "child-user";
    o.http = emu.http();
    cbk::client c(emu.io.get_executor(), o);
    run_coro(emu.io, chatbotkit_resources(c));
}

BOOST_AUTO_TEST_CASE(vectorshift_v1_run_list_fetch_upload_terminate) {
    emulated emu;
    vs::client c(emu.io.get_executor(), {emu.server.base_url(), "vs-key", emu.http(), {}, {}, {}});
    run_coro(emu.io, vectorshift_v1(c));
}
