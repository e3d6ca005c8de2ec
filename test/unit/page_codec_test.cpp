#define BOOST_TEST_MODULE unit_page_codec
// The list codecs without any I/O: what each asks for after a cursor, how it
// reads a page, and the cursor after an item.
#include <boost/test/unit_test.hpp>

#include <chatwire/chatbotkit.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

namespace cbk = chatwire::chatbotkit;
namespace json = boost::json;
using chatwire::errc;

BOOST_AUTO_TEST_CASE(chatbotkit_targets_carry_order_take_meta_and_cursor) {
    cbk::list_options o;
    o.take = 7;
    o.order = cbk::list_order::asc;
    o.meta.emplace_back("tier", "gold & silver");
    auto codec = cbk::conversation_list_codec(o);
    BOOST_TEST(codec->page_target("") == "/conversation/list?order=asc&meta.tier=gold%20%26%20silver&take=7");
    BOOST_TEST(codec->page_target("cnv_1") == "/conversation/list?cursor=cnv_1&order=asc&meta.tier=gold%20%26%20silver&take=7");
    // The stream asks for every item after the cursor: no take.
    BOOST_TEST(*codec->stream_target("cnv_1") == "/conversation/list?cursor=cnv_1&order=asc&meta.tier=gold%20%26%20silver");
    BOOST_TEST(cbk::message_list_codec("a/b")->page_target("") == "/conversation/a%2Fb/message/list?order=desc");
    BOOST_TEST(cbk::bot_list_codec()->page_target("") == "/bot/list?order=desc");
}

BOOST_AUTO_TEST_CASE(chatbotkit_pages_and_stream_lines_read) {
    auto codec = cbk::conversation_list_codec();
    chatwire::list_page page;
    chatwire::diagnostics diag;
    auto body = json::parse(R"({"items":[{"id":"a"},{"id":"b"}],"cursor":"b"})");
    BOOST_TEST(!codec->read_page(body, "", page, diag));
    BOOST_TEST(page.items.size() == 2u);
    BOOST_TEST(page.next == "b");
    BOOST_TEST(codec->cursor_after(page.items[0], "", 0) == "a");
    chatwire::list_page bad;
    BOOST_TEST(codec->read_page(json::parse(R"({"data":[]})"), "", bad, diag) == errc::bad_response);
    json::object item;
    BOOST_TEST(codec->read_stream_item(json::parse(R"({"type":"item","data":{"id":"c"}})"), item));
    BOOST_TEST(item.at("id").as_string() == "c");
    BOOST_TEST(!codec->read_stream_item(json::parse(R"({"type":"other","data":{}})"), item));
}

BOOST_AUTO_TEST_CASE(vectorshift_chatbots_are_one_page_resumed_by_id) {
    auto codec = chatwire::vectorshift::chatbot_list_codec();
    BOOST_TEST(codec->page_target("x") == "/v1/chatbots?include_shared=false&verbose=true");
    BOOST_TEST(!codec->stream_target(""));
    auto body = json::parse(R"({"status":"success","object_ids":["a","b","c"],
        "objects":[{"_id":"a","name":"A"},{"_id":"b"},{"_id":"c","deployed":true,"created_at":5}]})");
    chatwire::list_page all, after_a, lost;
    chatwire::diagnostics diag;
    BOOST_TEST(!codec->read_page(body, "", all, diag));
    BOOST_TEST(all.items.size() == 3u);
    BOOST_TEST(all.next.empty());
    BOOST_TEST(!codec->read_page(body, "a", after_a, diag));
    BOOST_TEST(after_a.items.size() == 2u);
    BOOST_TEST(codec->cursor_after(after_a.items.front(), "a", 0) == "b");
    BOOST_TEST(codec->read_page(body, "gone", lost, diag) == errc::invalid_argument);
    chatwire::vectorshift::chatbot_record r;
    from_json(all.items[2], r);
    BOOST_TEST(r.id == "c");
    BOOST_TEST(r.deployed);
    BOOST_TEST(r.created_at == 5);
    chatwire::list_page ids_only;
    BOOST_TEST(!codec->read_page(json::parse(R"({"object_ids":["x"]})"), "", ids_only, diag));
    BOOST_TEST(ids_only.items.at(0).at("_id").as_string() == "x");
    chatwire::list_page failed;
    BOOST_TEST(codec->read_page(json::parse(R"({"status":"failed","error":"no"})"), "", failed, diag) == errc::run_failed);
}

// take_page moves the items out of the parsed page (they keep its memory
// resource, none is copied); read_page leaves the page as it was.
BOOST_AUTO_TEST_CASE(take_page_moves_the_items_and_read_page_copies_them) {
    const auto text = R"({"items":[{"id":"a","name":"first"},{"id":"b"}],"cursor":"b"})";
    for (const auto& codec : {cbk::conversation_list_codec(), chatwire::vectorshift::chatbot_list_codec()}) {
        const bool vs = codec->page_target("").rfind("/v1/chatbots", 0) == 0;
        const auto body_text = vs ? R"({"status":"success","objects":[{"_id":"a"},{"_id":"b"}]})" : text;
        boost::json::monotonic_resource arena;
        json::value body = json::parse(body_text, &arena);
        const json::value copy = json::parse(body_text);
        chatwire::list_page read, taken;
        chatwire::diagnostics diag;
        BOOST_TEST_REQUIRE(!codec->read_page(body, "", read, diag));
        BOOST_TEST(body == copy);  // untouched
        BOOST_TEST_REQUIRE(!codec->take_page(std::move(body), "", taken, diag));
        BOOST_TEST_REQUIRE(taken.items.size() == 2u);
        BOOST_TEST(taken.items == read.items);
        BOOST_TEST(taken.items[0].storage().get() == static_cast<boost::json::memory_resource*>(&arena));
        BOOST_TEST(taken.next == read.next);
    }
}
