// What each provider's call sends, built without a socket: the path with its
// segments encoded, the JSON body, the client's credential line, the Accept
// line, and the inputs refused before anything is sent.
#include <boost/test/unit_test.hpp>

#include "../../src/client/chatbotkit_state.hpp"
#include "../../src/client/pollybot_state.hpp"
#include "../../src/client/vectorshift_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

namespace cd = chatwire::detail;
namespace json = boost::json;
using chatwire::diagnostics;
using chatwire::errc;
using chatwire::error_code;

namespace {

// An io_context that never runs: a client's state needs an executor, and
// building a request never touches it.
struct offline {
    boost::asio::io_context io;
};

json::object body_of(const cd::api_request& r) { return json::parse(r.body).as_object(); }

chatwire::pollybot::detail::state pollybot_state(offline& o) {
    chatwire::pollybot::options opts;
    opts.base_url = "https://127.0.0.1:8443";
    opts.api_key = "sk-workspace_test";
    return chatwire::pollybot::detail::state(o.io.get_executor(), opts);
}

chatwire::vectorshift::detail::state vectorshift_state(offline& o) {
    chatwire::vectorshift::options opts;
    opts.base_url = "https://127.0.0.1:8443";
    opts.api_key = "vs-key";
    return chatwire::vectorshift::detail::state(o.io.get_executor(), opts);
}

chatwire::chatbotkit::detail::state chatbotkit_state(offline& o) {
    chatwire::chatbotkit::options opts;
    opts.base_url = "https://127.0.0.1:8443/v1";
    opts.secret = "cbk-secret";
    return chatwire::chatbotkit::detail::state(o.io.get_executor(), opts);
}

} // namespace

BOOST_AUTO_TEST_SUITE(request_building)

BOOST_AUTO_TEST_CASE(pollybot_chat_encodes_the_chatbot_and_sends_only_what_is_set) {
    offline o;
    const auto st = pollybot_state(o);
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "bot/1 ?";
    req.message = "Where is \"my\" order?";
    diagnostics diag;
    cd::api_request whole;
    BOOST_TEST(!chatwire::pollybot::detail::build_chat(st, req, false, diag, whole));
    BOOST_TEST(whole.path == "/api/v1/chatbots/bot%2F1%20%3F/chat");
    BOOST_TEST(whole.method == chatwire::http::verb::post);
    BOOST_TEST(whole.accept == cd::accept_json);
    BOOST_TEST(!whole.stream);
    BOOST_TEST(whole.fixed_lines == "Authorization: Bearer sk-workspace_test\r\n");
    const auto body = body_of(whole);
    BOOST_TEST(body.at("message").as_string() == "Where is \"my\" order?");
    BOOST_TEST(!body.contains("stream"));           // the chatbot's own default
    BOOST_TEST(!body.contains("conversationId"));   // a new conversation
    BOOST_TEST(!body.contains("metadata"));

    req.conversation_id = "c-7";
    req.stream = false;
    req.metadata["ticket"] = 42;
    cd::api_request streamed;
    BOOST_TEST(!chatwire::pollybot::detail::build_chat(st, req, true, diag, streamed));
    BOOST_TEST(streamed.stream);
    BOOST_TEST(streamed.accept == cd::accept_sse);
    const auto sbody = body_of(streamed);
    BOOST_TEST(sbody.at("stream").as_bool());  // a streamed call asks for a stream whatever the request said
    BOOST_TEST(sbody.at("conversationId").as_string() == "c-7");
    BOOST_TEST(sbody.at("metadata").at("ticket").as_int64() == 42);
}

BOOST_AUTO_TEST_CASE(pollybot_chat_refuses_empty_inputs_before_sending) {
    offline o;
    const auto st = pollybot_state(o);
    chatwire::pollybot::chat_request req;
    req.chatbot_id = "bot";
    diagnostics diag;
    cd::api_request r;
    BOOST_TEST(chatwire::pollybot::detail::build_chat(st, req, false, diag, r) == errc::invalid_argument);
    BOOST_TEST(diag.detail.find("message") != std::string::npos);
    req.message = "hi";
    req.chatbot_id.clear();
    diagnostics diag2;
    BOOST_TEST(chatwire::pollybot::detail::build_chat(st, req, false, diag2, r) == errc::invalid_argument);
    BOOST_TEST(diag2.detail.find("chatbot_id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(vectorshift_legacy_run_names_the_chatbot_once_with_the_api_key_header) {
    offline o;
    const auto st = vectorshift_state(o);
    chatwire::vectorshift::run_request req;
    req.input = "hello";
    req.chatbot_id = "id-1";
    req.chatbot_name = "ignored when an id is given";
    diagnostics diag;
    cd::api_request r;
    BOOST_TEST(!chatwire::vectorshift::detail::build_legacy(st, req, true, diag, r));
    BOOST_TEST(r.path == "/api/chatbots/run");
    BOOST_TEST(r.fixed_lines == "Api-Key: vs-key\r\n");
    BOOST_TEST(r.accept == cd::accept_sse);
    const auto body = body_of(r);
    BOOST_TEST(body.at("chatbot_id").as_string() == "id-1");
    BOOST_TEST(!body.contains("chatbot_name"));
    BOOST_TEST(body.at("stream").as_bool());

    req.chatbot_id.clear();
    req.chatbot_name.clear();
    BOOST_TEST(chatwire::vectorshift::detail::build_legacy(st, req, false, diag, r) == errc::invalid_argument);
}

BOOST_AUTO_TEST_CASE(vectorshift_v1_run_uses_bearer_and_an_encoded_path) {
    offline o;
    const auto st = vectorshift_state(o);
    chatwire::vectorshift::v1_run_request req;
    req.chatbot_id = "a b";
    req.text = "hello";
    req.conversation_id = "conv";
    diagnostics diag;
    cd::api_request r;
    BOOST_TEST(!chatwire::vectorshift::detail::build_v1(st, req, false, diag, r));
    BOOST_TEST(r.path == "/v1/chatbot/a%20b/run");
    BOOST_TEST(r.fixed_lines == "Authorization: Bearer vs-key\r\n");
    BOOST_TEST(r.accept == cd::accept_json);
    const auto body = body_of(r);
    BOOST_TEST(body.at("text").as_string() == "hello");
    BOOST_TEST(body.at("conversation_id").as_string() == "conv");
    BOOST_TEST(!body.contains("stream"));
}

BOOST_AUTO_TEST_CASE(chatbotkit_complete_continues_a_conversation_or_sends_the_messages) {
    offline o;
    const auto st = chatbotkit_state(o);
    chatwire::chatbotkit::complete_request req;
    req.conversation_id = "c/1";
    req.text = "and then?";
    req.model = "gpt-4o";
    diagnostics diag;
    cd::api_request r;
    BOOST_TEST(!chatwire::chatbotkit::detail::build_complete(st, req, true, diag, r));
    BOOST_TEST(r.path == "/conversation/c%2F1/complete");  // after the base URL's /v1
    BOOST_TEST(r.fixed_lines.find("Authorization: Bearer cbk-secret\r\n") != std::string_view::npos);
    BOOST_TEST(r.accept == cd::accept_jsonl);
    BOOST_TEST(r.stream);
    auto body = body_of(r);
    BOOST_TEST(body.at("text").as_string() == "and then?");
    BOOST_TEST(body.at("model").as_string() == "gpt-4o");
    BOOST_TEST(!body.contains("botId"));

    chatwire::chatbotkit::complete_request stateless;
    stateless.messages.push_back({"user", "hi"});
    cd::api_request s;
    BOOST_TEST(!chatwire::chatbotkit::detail::build_complete(st, stateless, false, diag, s));
    BOOST_TEST(s.path == "/conversation/complete");
    body = body_of(s);
    BOOST_TEST(body.at("messages").as_array().size() == 1u);
    BOOST_TEST(body.at("messages").as_array()[0].at("text").as_string() == "hi");

    chatwire::chatbotkit::complete_request empty;
    BOOST_TEST(chatwire::chatbotkit::detail::build_complete(st, empty, false, diag, s) == errc::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
