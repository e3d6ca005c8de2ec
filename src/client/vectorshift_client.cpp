#include "provider_errors.hpp"
#include "vectorshift_state.hpp"

#include "../detail/serial_executor.hpp"
#include "../stream/field_extractor.hpp"
#include "json_body.hpp"

#include <chatwire/detail/operation_impl.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace chatwire::vectorshift {
namespace detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace cd = chatwire::detail;

namespace {

// VectorShift's error body: {"status": "failed", "error": "..."}, also with
// HTTP 200 for a failed run; the HTTP status decides the errc.
constexpr cd::error_shape error_shape{"status", "error", {}, false, true};

error_code provider_error(unsigned status, const http::fields& headers, std::string_view body, diagnostics& diag) {
    return cd::map_provider_error(error_shape, status, headers, body, diag);
}

} // namespace

error_code build_legacy(const state& st, const run_request& req, bool stream, diagnostics& diag,
                        cd::api_request& out) {
    if (auto ec = cd::check_not_empty("input", req.input, diag)) return ec;
    if (req.chatbot_id.empty() && req.chatbot_name.empty()) {
        diag.detail = "one of chatbot_id and chatbot_name is required";
        return errc::invalid_argument;
    }
    cd::json_body body;
    body.add("input", req.input);
    if (!req.chatbot_id.empty())
        body.add("chatbot_id", req.chatbot_id);
    else
        body.add("chatbot_name", req.chatbot_name);
    if (!req.conversation_id.empty()) body.add("conversation_id", req.conversation_id);
    if (stream) body.add_bool("stream", true);
    out.path = "/api/chatbots/run";
    out.body = std::move(body).take();
    out.fixed_lines = st.legacy_auth;
    out.stream = stream;
    if (stream) out.accept = cd::accept_sse;
    return {};
}

error_code build_v1(const state& st, const v1_run_request& req, bool stream, diagnostics& diag,
                    cd::api_request& out) {
    if (auto ec = cd::check_not_empty("text", req.text, diag)) return ec;
    if (auto ec = cd::check_not_empty("chatbot_id", req.chatbot_id, diag)) return ec;
    cd::json_body body;
    body.add("text", req.text);
    if (!req.conversation_id.empty()) body.add("conversation_id", req.conversation_id);
    if (stream) body.add_bool("stream", true);
    out.path = "/v1/chatbot/" + cd::encode_segment(req.chatbot_id) + "/run";
    out.body = std::move(body).take();
    out.fixed_lines = st.bearer_auth;
    out.stream = stream;
    if (stream) out.accept = cd::accept_sse;
    return {};
}

namespace {

// The reply of a run: a JSON object, whose status:"failed" is an error.
error_code checked_run(const cd::api_reply& reply, json::value& out, diagnostics& diag) {
    if (auto ec = cd::parse_object(reply.body, out, diag)) return ec;
    if (cd::string_at(out, "status") == "failed")
        return provider_error(200, reply.headers, reply.body, diag);
    return {};
}

cd::api_request v1_request(const state& st, http::verb method, std::string path, const json::value* body) {
    cd::api_request r;
    r.method = method;
    r.path = "/v1" + path;
    if (body) r.body = cd::to_body(*body);
    r.fixed_lines = st.bearer_auth;
    return r;
}

/// Sends and returns the JSON object of a successful run; failed runs (any
/// status, including 200 with status:"failed") become errors.
asio::awaitable<error_code> call(state& st, const cd::api_request& r, diagnostics& diag, json::value& out) {
    cd::api_reply reply;
    if (auto ec = co_await cd::call(st, r, diag, reply)) co_return ec;
    co_return checked_run(reply, out, diag);
}

// A legacy run's reply read in one pass, without a DOM (the common call's
// whole cost of JSON); the extractor is reused by every call on the thread
// (a parse never suspends, so calls cannot interleave in it).
error_code read_run_reply(const cd::api_reply& reply, run_reply& out, diagnostics& diag) {
    enum field : std::size_t { output, conversation_id, status };
    thread_local stream::detail::field_extractor fields{{"output"}, {"conversation_id"}, {"status"}};
    if (fields.parse(reply.body) || !fields.is_object()) {
        diag.detail = "the response is not a JSON object";
        return errc::bad_response;
    }
    if (fields[status].is_string() && fields[status].text == "failed")
        return provider_error(200, reply.headers, reply.body, diag);
    out.output = fields[output].text;
    out.conversation_id = fields[conversation_id].text;
    return {};
}

} // namespace

asio::awaitable<std::pair<error_code, run_reply>> run_op(std::shared_ptr<state> st, run_request req,
                                                         diagnostics& diag) {
    std::pair<error_code, run_reply> out;
    cd::api_request r;
    if ((out.first = build_legacy(*st, req, false, diag, r))) co_return out;
    cd::api_reply reply;
    if ((out.first = co_await cd::call(*st, r, diag, reply))) co_return out;
    out.first = read_run_reply(reply, out.second, diag);
    co_return out;
}

namespace {

// Both endpoints stream the same way; only the request differs.
template <class Request, class Build>
asio::awaitable<std::pair<error_code, chat_stream>> stream_op(std::shared_ptr<state> st, Request req,
                                                              diagnostics& diag, Build build) {
    std::pair<error_code, chat_stream> out;
    cd::api_request r;
    if ((out.first = build(*st, req, true, diag, r))) co_return out;
    out.first = co_await cd::call_stream(*st, r, diag, stream_format::vectorshift_sse, req.conversation_id, out.second);
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_stream>> run_v1_stream_op(std::shared_ptr<state> st, v1_run_request req,
                                                                     diagnostics& diag) {
    return stream_op(std::move(st), std::move(req), diag, &build_v1);
}

} // namespace

asio::awaitable<std::pair<error_code, chat_stream>> run_stream_op(std::shared_ptr<state> st, run_request req,
                                                                  diagnostics& diag) {
    return stream_op(std::move(st), std::move(req), diag, &build_legacy);
}

namespace {

asio::awaitable<std::pair<error_code, v1_run_reply>> do_run_v1(std::shared_ptr<state> st, v1_run_request req,
                                                               diagnostics& diag) {
    std::pair<error_code, v1_run_reply> out;
    cd::api_request r;
    if ((out.first = build_v1(*st, req, false, diag, r))) co_return out;
    json::value v;
    if ((out.first = co_await call(*st, r, diag, v))) co_return out;
    out.second.output_message = cd::string_at(v, "output_message");
    out.second.conversation_id = cd::string_at(v, "conversation_id");
    if (auto* q = v.as_object().if_contains("follow_up_questions"); q && q->is_array()) {
        for (const auto& item : q->as_array())
            if (item.is_string()) out.second.follow_up_questions.emplace_back(item.as_string());
    }
    co_return out;
}

std::vector<std::string> strings_at(const json::value& v, std::string_view key) {
    std::vector<std::string> out;
    if (const auto* a = v.as_object().if_contains(key); a && a->is_array())
        for (const auto& item : a->as_array())
            if (item.is_string()) out.emplace_back(item.as_string());
    return out;
}

asio::awaitable<std::pair<error_code, chatbot_list>> do_list(std::shared_ptr<state> st, bool shared, bool verbose,
                                                             diagnostics& diag) {
    std::pair<error_code, chatbot_list> out;
    std::string path = std::string("/chatbots?include_shared=") + (shared ? "true" : "false") +
                       "&verbose=" + (verbose ? "true" : "false");
    json::value v;
    if ((out.first = co_await call(*st, v1_request(*st, http::verb::get, path, nullptr), diag, v))) co_return out;
    out.second.object_ids = strings_at(v, "object_ids");
    if (const auto* a = v.as_object().if_contains("objects"); a && a->is_array())
        for (const auto& item : a->as_array())
            if (item.is_object()) out.second.objects.push_back(item.as_object());
    co_return out;
}

asio::awaitable<std::pair<error_code, json::object>> do_fetch(std::shared_ptr<state> st, std::string id,
                                                              std::string name, diagnostics& diag) {
    std::pair<error_code, json::object> out;
    if (id.empty() && name.empty()) {
        diag.detail = "one of id and name is required";
        out.first = errc::invalid_argument;
        co_return out;
    }
    auto path = id.empty() ? "/chatbot?name=" + cd::encode_query(name) : "/chatbot?id=" + cd::encode_query(id);
    json::value v;
    if ((out.first = co_await call(*st, v1_request(*st, http::verb::get, path, nullptr), diag, v))) co_return out;
    if (const auto* o = v.as_object().if_contains("object"); o && o->is_object()) out.second = o->as_object();
    else out.first = errc::bad_response;
    co_return out;
}

asio::awaitable<std::pair<error_code, upload_reply>> do_upload(std::shared_ptr<state> st, upload_request req,
                                                               diagnostics& diag) {
    std::pair<error_code, upload_reply> out;
    if ((out.first = cd::check_not_empty("chatbot_id", req.chatbot_id, diag))) co_return out;
    if (req.files.empty()) {
        diag.detail = "no files to upload";
        out.first = errc::invalid_argument;
        co_return out;
    }
    json::array files;
    for (const auto& f : req.files) {
        json::object o{{"type", "file"}, {"raw_bytes", cd::base64(f.bytes)}};
        if (!f.name.empty()) o["name"] = f.name;
        files.push_back(std::move(o));
    }
    json::object body{{"files", std::move(files)}};
    if (!req.conversation_id.empty()) body["conversation_id"] = req.conversation_id;
    json::value bv(std::move(body));
    json::value v;
    if ((out.first = co_await call(
             *st, v1_request(*st, http::verb::post, "/chatbot/" + cd::encode_segment(req.chatbot_id) + "/upload", &bv),
             diag, v)))
        co_return out;
    out.second.conversation_id = cd::string_at(v, "conversation_id");
    out.second.knowledge_base_id = cd::string_at(v, "knowledge_base_id");
    out.second.uploaded_files = strings_at(v, "uploaded_files");
    out.second.errors = strings_at(v, "errors");
    co_return out;
}

asio::awaitable<std::pair<error_code, std::string>> do_terminate(std::shared_ptr<state> st, std::string chatbot_id,
                                                                 std::string run_id, diagnostics& diag) {
    std::pair<error_code, std::string> out;
    if ((out.first = cd::check_not_empty("chatbot_id", chatbot_id, diag))) co_return out;
    if ((out.first = cd::check_not_empty("pipeline_run_id", run_id, diag))) co_return out;
    json::value bv(json::object{{"pipeline_run_id", run_id}});
    json::value v;
    if ((out.first = co_await call(
             *st, v1_request(*st, http::verb::post, "/chatbot/" + cd::encode_segment(chatbot_id) + "/terminate", &bv),
             diag, v)))
        co_return out;
    out.second = cd::string_at(v, "status");
    co_return out;
}

} // namespace

// Each operation's coroutine.
asio::awaitable<std::pair<error_code, run_reply>> perform(run op) {
    return run_op(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, chat_stream>> perform(run_streamed op) {
    return run_stream_op(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, v1_run_reply>> perform(run_v1 op) {
    return do_run_v1(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, chat_stream>> perform(run_v1_streamed op) {
    return run_v1_stream_op(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, chatbot_list>> perform(list_chatbots op) {
    return do_list(std::move(op.state), op.include_shared, op.verbose, *op.diag);
}
asio::awaitable<std::pair<error_code, json::object>> perform(fetch_chatbot op) {
    return do_fetch(std::move(op.state), std::move(op.id), std::move(op.name), *op.diag);
}
asio::awaitable<std::pair<error_code, upload_reply>> perform(upload op) {
    return do_upload(std::move(op.state), std::move(op.request), *op.diag);
}
asio::awaitable<std::pair<error_code, std::string>> perform(terminate op) {
    return do_terminate(std::move(op.state), std::move(op.chatbot_id), std::move(op.pipeline_run_id), *op.diag);
}

state::state(asio::any_io_executor ex, options o)
    : provider_core(std::move(ex), o, &provider_error),
      opts(std::move(o)) {
    legacy_auth = credential_header("Api-Key", "", opts.api_key, "api key");
    bearer_auth = credential_header("Authorization", "Bearer ", opts.api_key, "api key");
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

} // namespace chatwire::vectorshift

// Each operation's entry points, compiled once.
template struct chatwire::detail::operation<chatwire::vectorshift::detail::run>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::run_streamed>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::run_v1>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::run_v1_streamed>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::list_chatbots>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::fetch_chatbot>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::upload>;
template struct chatwire::detail::operation<chatwire::vectorshift::detail::terminate>;
