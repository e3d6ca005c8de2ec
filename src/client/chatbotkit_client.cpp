#include "chatbotkit_state.hpp"
#include "page_walk.hpp"
#include "provider_errors.hpp"

#include "../detail/serial_executor.hpp"

#include <chatwire/detail/operation_impl.hpp>

#include <boost/json/monotonic_resource.hpp>

#include <boost/json/array.hpp>

namespace chatwire::chatbotkit {
namespace detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace cd = chatwire::detail;

namespace {

// ChatBotKit's error body: {"code": "NOT_FOUND", "message": "..."}.
constexpr cd::code_rule error_codes[] = {
    {"LIMITS_REACHED", errc::quota_exceeded},
    {"TOO_MANY_REQUESTS", errc::rate_limited, true},
    {"NOT_AUTHENTICATED", errc::unauthorized},
    {"NOT_AUTHORIZED", errc::forbidden},
    {"NO_SUBSCRIPTION", errc::payment_required},
    {"NOT_FOUND", errc::not_found},
    {"CONFLICT", errc::conflict},
    {"BAD_REQUEST", errc::bad_request},
    {"METHOD_NOT_ALLOWED", errc::bad_request},
    {"INTERNAL_SERVER_ERROR", errc::server_error},
};
constexpr cd::error_shape error_shape{"code", "message", error_codes};

error_code provider_error(unsigned status, const http::fields& headers, std::string_view body, diagnostics& diag) {
    return cd::map_provider_error(error_shape, status, headers, body, diag);
}

// ChatBotKit's routes live under a version ("/v1", "/api/v1" on the emulator):
// a base URL whose path does not end in one answers 404 for every call.
bool has_version_prefix(std::string_view path) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return false;
    const auto last = path.substr(slash + 1);
    return last.size() >= 2 && last[0] == 'v' && last.find_first_not_of("0123456789", 1) == std::string_view::npos;
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

cd::api_request make_request(const state& st, http::verb method, std::string path, const json::value* body) {
    cd::api_request r;
    r.method = method;
    r.path = std::move(path);
    if (body) r.body = cd::to_body(*body);
    r.fixed_lines = st.auth;
    return r;
}

/// POSTs `body` to paths that answer {"id"}.
asio::awaitable<std::pair<error_code, std::string>> post_for_id(std::shared_ptr<state> st, std::string path,
                                                                json::object body, diagnostics& diag) {
    std::pair<error_code, std::string> out;
    json::value v(std::move(body));
    json::value res;
    if ((out.first = co_await cd::call_json(*st, make_request(*st, http::verb::post, std::move(path), &v), diag, res)))
        co_return out;
    out.second = cd::string_at(res, "id");
    if (out.second.empty()) out.first = errc::bad_response;
    co_return out;
}

} // namespace

error_code build_complete(const state& st, const complete_request& req, bool stream, diagnostics& diag,
                          cd::api_request& out) {
    json::monotonic_resource arena(512);  // one allocation for the whole body
    json::object body(&arena);
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
    out = make_request(st, http::verb::post, std::move(path), &v);
    out.stream = stream;
    if (stream) out.accept = cd::accept_jsonl;
    return {};
}

namespace {

// usage.token is informational: a value that is not a count is ignored, not an error.
std::optional<std::uint64_t> token_count(const json::value& v) {
    boost::system::error_code ec;
    auto n = v.to_number<std::uint64_t>(ec);
    if (ec) return std::nullopt;
    return n;
}

asio::awaitable<std::pair<error_code, conversation_record>> do_fetch(std::shared_ptr<state> st, std::string id,
                                                                     diagnostics& diag) {
    std::pair<error_code, conversation_record> out;
    if ((out.first = cd::check_not_empty("conversation id", id, diag))) co_return out;
    json::value v;
    if ((out.first = co_await cd::call_json(
             *st, make_request(*st, http::verb::get, "/conversation/" + cd::encode_segment(id) + "/fetch", nullptr),
             diag, v)))
        co_return out;
    from_json(v.as_object(), out.second);
    co_return out;
}

template <class T>
asio::awaitable<std::pair<error_code, T>> refused(error_code ec) {
    co_return std::pair<error_code, T>{ec, T{}};
}

} // namespace

asio::awaitable<std::pair<error_code, std::string>> create_conversation_op(std::shared_ptr<state> st,
                                                                           conversation_fields f, diagnostics& diag) {
    json::object body = fields_to_json(f);
    if (!f.messages.empty()) body["messages"] = to_json(f.messages);
    return post_for_id(std::move(st), "/conversation/create", std::move(body), diag);
}

asio::awaitable<std::pair<error_code, completion>> complete_op(std::shared_ptr<state> st, complete_request req,
                                                               diagnostics& diag) {
    std::pair<error_code, completion> out;
    cd::api_request r;
    if ((out.first = build_complete(*st, req, false, diag, r))) co_return out;
    json::monotonic_resource arena(1024);  // one allocation for the whole reply
    json::value v(&arena);
    if ((out.first = co_await cd::call_json(*st, r, diag, v))) co_return out;
    out.second.id = cd::string_at(v, "id");
    out.second.text = cd::string_at(v, "text");
    const auto& o = v.as_object();
    if (auto* u = o.if_contains("usage"); u && u->is_object()) {
        if (auto* t = u->as_object().if_contains("token")) out.second.tokens = token_count(*t);
    }
    if (auto* e = o.if_contains("end"); e && e->is_object()) out.second.end_reason = cd::string_at(*e, "reason");
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_stream>> complete_stream_op(std::shared_ptr<state> st,
                                                                       complete_request req, diagnostics& diag) {
    std::pair<error_code, chat_stream> out;
    cd::api_request r;
    if ((out.first = build_complete(*st, req, true, diag, r))) co_return out;
    out.first = co_await cd::call_stream(*st, r, diag, stream_format::chatbotkit_jsonl, req.conversation_id,
                                         out.second);
    co_return out;
}

asio::awaitable<std::pair<error_code, std::string>> update_conversation_op(std::shared_ptr<state> st, std::string id,
                                                                           conversation_fields f,
                                                                           std::optional<json::object> merge_meta,
                                                                           diagnostics& diag) {
    auto body = fields_to_json(f);
    if (merge_meta) body["$update"] = std::move(*merge_meta);
    if (auto ec = cd::check_not_empty("conversation id", id, diag)) return refused<std::string>(ec);
    return post_for_id(std::move(st), "/conversation/" + cd::encode_segment(id) + "/update", std::move(body), diag);
}

asio::awaitable<std::pair<error_code, std::string>> delete_conversation_op(std::shared_ptr<state> st, std::string id,
                                                                           diagnostics& diag) {
    if (auto ec = cd::check_not_empty("conversation id", id, diag)) return refused<std::string>(ec);
    return post_for_id(std::move(st), "/conversation/" + cd::encode_segment(id) + "/delete", json::object(), diag);
}

asio::awaitable<std::pair<error_code, std::string>>
create_message_op(std::shared_ptr<state> st, std::string conversation_id, message m, diagnostics& diag) {
    auto ec = cd::check_not_empty("conversation id", conversation_id, diag);
    if (!ec) ec = cd::check_not_empty("message text", m.text, diag);
    if (ec) return refused<std::string>(ec);
    json::object body{{"type", m.type.empty() ? "user" : m.type}, {"text", m.text}};
    return post_for_id(std::move(st), "/conversation/" + cd::encode_segment(conversation_id) + "/message/create",
                       std::move(body), diag);
}

// Each operation's coroutine.
asio::awaitable<std::pair<error_code, std::string>> perform(create_conversation op) {
    return create_conversation_op(std::move(op.state), std::move(op.fields), *op.diag);
}
asio::awaitable<std::pair<error_code, completion>> perform(complete op) {
    return complete_op(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, chat_stream>> perform(complete_streamed op) {
    return complete_stream_op(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, conversation_record>> perform(fetch_conversation op) {
    return do_fetch(std::move(op.state), std::move(op.id), *op.diag);
}
asio::awaitable<std::pair<error_code, std::string>> perform(update_conversation op) {
    return update_conversation_op(std::move(op.state), std::move(op.id), std::move(op.fields),
                                  std::move(op.merge_meta), *op.diag);
}
asio::awaitable<std::pair<error_code, std::string>> perform(delete_conversation op) {
    return delete_conversation_op(std::move(op.state), std::move(op.id), *op.diag);
}
asio::awaitable<std::pair<error_code, std::string>> perform(create_message op) {
    return create_message_op(std::move(op.state), std::move(op.conversation_id), std::move(op.text), *op.diag);
}

std::shared_ptr<cd::page_walk> make_walk(const std::shared_ptr<state>& st, std::shared_ptr<const page_codec> codec,
                                         const pager_options& opts) {
    // The walk shares the client's state (its transport, endpoint and auth).
    return std::make_shared<cd::page_walk>(std::shared_ptr<cd::provider_core>(st, st.get()), st->auth,
                                           std::move(codec), opts);
}

state::state(asio::any_io_executor ex, options o)
    : provider_core(std::move(ex), o, &provider_error),
      opts(std::move(o)) {
    auth = credential_header("Authorization", opts.scheme == auth_scheme::token ? "Token " : "Bearer ", opts.secret,
                             "secret");
    if (!has_version_prefix(api.prefix))
        not_found_hint = "the base URL likely lacks ChatBotKit's version prefix /v1 (https://api.chatbotkit.com/v1)";
    if (!opts.run_as_user_id.empty()) auth += fixed_header("X-RunAs-UserId", opts.run_as_user_id, "run-as user id");
}

} // namespace detail


client::client(boost::asio::any_io_executor ex, options opts)
    : state_(std::make_shared<detail::state>(std::move(ex), std::move(opts))) {}

http::client& client::transport() { return state_->http; }

client client::with_retry(const retry_policy& policy) const {
    auto st = std::make_shared<detail::state>(*state_);
    st->retry = policy;
    return client(std::move(st));
}

pager<conversation_record> client::conversations(const list_options& opts) {
    return list<conversation_record>(conversation_list_codec(opts), paging(opts));
}

pager<message_record> client::messages(const std::string& conversation_id, const list_options& opts) {
    return list<message_record>(message_list_codec(conversation_id, opts), paging(opts));
}

pager<bot_record> client::bots(const list_options& opts) {
    return list<bot_record>(bot_list_codec(opts), paging(opts));
}

} // namespace chatwire::chatbotkit

// Each operation's entry points, compiled once.
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::create_conversation>;
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::complete>;
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::complete_streamed>;
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::fetch_conversation>;
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::update_conversation>;
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::delete_conversation>;
template struct chatwire::detail::operation<chatwire::chatbotkit::detail::create_message>;
