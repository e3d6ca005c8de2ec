#include "api_call.hpp"
#include "../detail/spawn.hpp"

#include "list_state.hpp"

#include <chatwire/chatbotkit.hpp>

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>

namespace chatwire::chatbotkit {
namespace detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace cd = chatwire::detail;

struct state : chatwire::detail::provider_state<options> {
    using provider_state::provider_state;
};

namespace {

error_code authorize(const state& st, http::request& r, diagnostics& diag) {
    if (auto ec = cd::check_header_value("secret", st.opts.secret, diag)) return ec;
    if (auto ec = cd::check_header_value("run-as user id", st.opts.run_as_user_id, diag)) return ec;
    r.headers.set(http::field::authorization,
                  (st.opts.scheme == auth_scheme::token ? "Token " : "Bearer ") + st.opts.secret);
    if (!st.opts.run_as_user_id.empty()) r.headers.set("X-RunAs-UserId", st.opts.run_as_user_id);
    return {};
}

json::array to_json(const std::vector<message>& messages) {
    json::array a;
    for (const auto& m : messages) a.push_back(json::object{{"type", m.type}, {"text", m.text}});
    return a;
}

json::object fields_to_json(const conversation_fields& f) {
    json::object body;
    if (!f.bot_id.empty()) body["botId"] = f.bot_id;
    if (!f.model.empty()) body["model"] = f.model;
    if (!f.backstory.empty()) body["backstory"] = f.backstory;
    if (!f.name.empty()) body["name"] = f.name;
    if (!f.description.empty()) body["description"] = f.description;
    if (f.meta) body["meta"] = *f.meta;
    return body;
}

asio::awaitable<error_code> call(state& st, http::request r, diagnostics& diag, json::value& out) {
    return cd::call_json(st.http, std::move(r), diag, cd::map_chatbotkit_error, out);
}

asio::awaitable<std::pair<error_code, std::string>> do_create(std::shared_ptr<state> st, conversation_fields f,
                                                              diagnostics& diag) {
    std::pair<error_code, std::string> out;
    diag.clear();
    json::object body = fields_to_json(f);
    if (!f.messages.empty()) body["messages"] = to_json(f.messages);
    json::value v(std::move(body));
    auto r = cd::json_request(http::verb::post, cd::join_url(st->opts.base_url, "/conversation/create"), &v);
    if ((out.first = authorize(*st, r, diag))) co_return out;
    json::value res;
    if ((out.first = co_await call(*st, std::move(r), diag, res))) co_return out;
    out.second = cd::string_at(res, "id");
    if (out.second.empty()) out.first = errc::bad_response;
    co_return out;
}

error_code build_complete(const state& st, const complete_request& req, bool stream, diagnostics& diag,
                          http::request& out) {
    diag.clear();
    json::object body;
    std::string path;
    if (!req.conversation_id.empty()) {
        if (auto ec = cd::check_not_empty("text", req.text, diag)) return ec;
        body["text"] = req.text;
        path = "/conversation/" + cd::encode_segment(req.conversation_id) + "/complete";
    } else {
        if (req.messages.empty()) {
            diag.detail = "a stateless completion needs messages";
            return errc::invalid_argument;
        }
        for (const auto& m : req.messages)
            if (auto ec = cd::check_not_empty("message text", m.text, diag)) return ec;
        body["messages"] = to_json(req.messages);
        path = "/conversation/complete";
    }
    if (!req.bot_id.empty()) body["botId"] = req.bot_id;
    if (!req.model.empty()) body["model"] = req.model;
    json::value v(std::move(body));
    out = cd::json_request(http::verb::post, cd::join_url(st.opts.base_url, path), &v);
    if (stream) out.headers.set(http::field::accept, "application/jsonl");
    return authorize(st, out, diag);
}

asio::awaitable<std::pair<error_code, completion>> do_complete(std::shared_ptr<state> st, complete_request req,
                                                               diagnostics& diag) {
    std::pair<error_code, completion> out;
    http::request r;
    if ((out.first = build_complete(*st, req, false, diag, r))) co_return out;
    json::value v;
    if ((out.first = co_await call(*st, std::move(r), diag, v))) co_return out;
    out.second.id = cd::string_at(v, "id");
    out.second.text = cd::string_at(v, "text");
    const auto& o = v.as_object();
    if (auto* u = o.if_contains("usage"); u && u->is_object()) {
        if (auto* t = u->as_object().if_contains("token"); t && t->is_number())
            out.second.tokens = t->to_number<std::uint64_t>();
    }
    if (auto* e = o.if_contains("end"); e && e->is_object()) out.second.end_reason = cd::string_at(*e, "reason");
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_stream>> do_stream(std::shared_ptr<state> st, complete_request req,
                                                              diagnostics& diag) {
    std::pair<error_code, chat_stream> out;
    http::request r;
    if ((out.first = build_complete(*st, req, true, diag, r))) co_return out;
    auto [ec, body] = co_await cd::open_stream(st->http, std::move(r), diag, cd::map_chatbotkit_error);
    if ((out.first = ec)) co_return out;
    out.second = chat_stream(st->executor, std::move(body), stream_format::chatbotkit_jsonl, req.conversation_id);
    co_return out;
}

asio::awaitable<std::pair<error_code, conversation_record>> do_fetch(std::shared_ptr<state> st, std::string id,
                                                                     diagnostics& diag) {
    std::pair<error_code, conversation_record> out;
    diag.clear();
    if ((out.first = cd::check_not_empty("conversation id", id, diag))) co_return out;
    auto r = cd::json_request(http::verb::get,
                              cd::join_url(st->opts.base_url, "/conversation/" + cd::encode_segment(id) + "/fetch"),
                              nullptr);
    if ((out.first = authorize(*st, r, diag))) co_return out;
    json::value v;
    if ((out.first = co_await call(*st, std::move(r), diag, v))) co_return out;
    from_json(v.as_object(), out.second);
    co_return out;
}

/// POSTs `body` to /conversation/{id}/<action>-like paths that answer {"id"}.
asio::awaitable<std::pair<error_code, std::string>> post_for_id(std::shared_ptr<state> st, std::string path,
                                                                json::object body, diagnostics& diag) {
    std::pair<error_code, std::string> out;
    json::value v(std::move(body));
    auto r = cd::json_request(http::verb::post, cd::join_url(st->opts.base_url, path), &v);
    if ((out.first = authorize(*st, r, diag))) co_return out;
    json::value res;
    if ((out.first = co_await call(*st, std::move(r), diag, res))) co_return out;
    out.second = cd::string_at(res, "id");
    if (out.second.empty()) out.first = errc::bad_response;
    co_return out;
}

} // namespace

void fetch_conversation(const std::shared_ptr<state>& st, std::string id, diagnostics& diag,
                        conversation_handler h) {
    cd::spawn_op<conversation_record>(st->executor, do_fetch(st, std::move(id), diag), std::move(h));
}

void update_conversation(const std::shared_ptr<state>& st, std::string id, conversation_fields f,
                         std::optional<json::object> merge_meta, diagnostics& diag, id_handler h) {
    diag.clear();
    auto body = fields_to_json(f);
    if (merge_meta) body["$update"] = std::move(*merge_meta);
    auto ec = cd::check_not_empty("conversation id", id, diag);
    cd::spawn_op<std::string>(
        st->executor,
        ec ? cd::refused<std::string>(ec)
           : post_for_id(st, "/conversation/" + cd::encode_segment(id) + "/update", std::move(body), diag),
        std::move(h));
}

void delete_conversation(const std::shared_ptr<state>& st, std::string id, diagnostics& diag, id_handler h) {
    diag.clear();
    auto ec = cd::check_not_empty("conversation id", id, diag);
    cd::spawn_op<std::string>(
        st->executor,
        ec ? cd::refused<std::string>(ec)
           : post_for_id(st, "/conversation/" + cd::encode_segment(id) + "/delete", json::object(), diag),
        std::move(h));
}

void create_message(const std::shared_ptr<state>& st, std::string conversation_id, message m, diagnostics& diag,
                    id_handler h) {
    diag.clear();
    auto ec = cd::check_not_empty("conversation id", conversation_id, diag);
    if (!ec) ec = cd::check_not_empty("message text", m.text, diag);
    json::object body{{"type", m.type.empty() ? "user" : m.type}, {"text", m.text}};
    cd::spawn_op<std::string>(
        st->executor,
        ec ? cd::refused<std::string>(ec)
           : post_for_id(st, "/conversation/" + cd::encode_segment(conversation_id) + "/message/create",
                         std::move(body), diag),
        std::move(h));
}

std::shared_ptr<cd::list_state> make_list(const std::shared_ptr<state>& st, std::string path,
                                          const list_options& opts) {
    auto s = std::make_shared<cd::list_state>(st->http, st->executor);
    s->url = cd::join_url(st->opts.base_url, path);
    s->headers.set(http::field::authorization,
                   (st->opts.scheme == auth_scheme::token ? "Token " : "Bearer ") + st->opts.secret);
    if (!st->opts.run_as_user_id.empty()) s->headers.set("X-RunAs-UserId", st->opts.run_as_user_id);
    s->take = opts.take;
    s->order = opts.order == list_order::asc ? "asc" : "desc";
    s->cursor = opts.cursor;
    s->stream = opts.stream;
    s->map_error = cd::map_chatbotkit_error;
    return s;
}

void create_conversation(const std::shared_ptr<state>& st, conversation_fields f, diagnostics& diag, id_handler h) {
    cd::spawn_op<std::string>(st->executor, do_create(st, std::move(f), diag), std::move(h));
}

void complete(const std::shared_ptr<state>& st, complete_request req, diagnostics& diag, completion_handler h) {
    cd::spawn_op<completion>(st->executor, do_complete(st, std::move(req), diag), std::move(h));
}

void complete_stream(const std::shared_ptr<state>& st, complete_request req, diagnostics& diag, stream_handler h) {
    cd::spawn_op<chat_stream>(st->executor, do_stream(st, std::move(req), diag), std::move(h));
}

} // namespace detail

client::client(boost::asio::any_io_executor ex, options opts)
    : state_(std::make_shared<detail::state>(std::move(ex), std::move(opts))) {}

http::client& client::transport() { return state_->http; }

pager<conversation_record> client::conversations(const list_options& opts) {
    return pager<conversation_record>(detail::make_list(state_, "/conversation/list", opts));
}

pager<message_record> client::messages(const std::string& conversation_id, const list_options& opts) {
    return pager<message_record>(detail::make_list(
        state_, "/conversation/" + chatwire::detail::encode_segment(conversation_id) + "/message/list", opts));
}

pager<bot_record> client::bots(const list_options& opts) {
    return pager<bot_record>(detail::make_list(state_, "/bot/list", opts));
}

} // namespace chatwire::chatbotkit
