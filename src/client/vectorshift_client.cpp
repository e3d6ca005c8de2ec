#include "api_call.hpp"
#include "spawn.hpp"

#include <chatwire/vectorshift.hpp>

#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>

namespace chatwire::vectorshift {
namespace detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace cd = chatwire::detail;

struct state {
    state(asio::any_io_executor ex, options o) : opts(std::move(o)), http(ex, opts.http), executor(std::move(ex)) {}
    options opts;
    http::client http;
    asio::any_io_executor executor;
};

namespace {

error_code build_legacy(state& st, const run_request& req, bool stream, diagnostics& diag, http::request& out) {
    diag.clear();
    if (auto ec = cd::check_not_empty("input", req.input, diag)) return ec;
    if (req.chatbot_id.empty() && req.chatbot_name.empty()) {
        diag.detail = "one of chatbot_id and chatbot_name is required";
        return errc::invalid_argument;
    }
    if (auto ec = cd::check_header_value("api key", st.opts.api_key, diag)) return ec;
    json::object body;
    body["input"] = req.input;
    if (!req.chatbot_id.empty()) body["chatbot_id"] = req.chatbot_id;
    else body["chatbot_name"] = req.chatbot_name;
    if (!req.conversation_id.empty()) body["conversation_id"] = req.conversation_id;
    if (stream) body["stream"] = true;
    json::value v(std::move(body));
    out = cd::json_request(http::verb::post, cd::join_url(st.opts.base_url, "/api/chatbots/run"), &v);
    out.headers.set("Api-Key", st.opts.api_key);
    if (stream) out.headers.set(http::field::accept, "text/event-stream");
    return {};
}

error_code build_v1(state& st, const v1_run_request& req, bool stream, diagnostics& diag, http::request& out) {
    diag.clear();
    if (auto ec = cd::check_not_empty("text", req.text, diag)) return ec;
    if (auto ec = cd::check_not_empty("chatbot_id", req.chatbot_id, diag)) return ec;
    if (auto ec = cd::check_header_value("api key", st.opts.api_key, diag)) return ec;
    json::object body;
    body["text"] = req.text;
    if (!req.conversation_id.empty()) body["conversation_id"] = req.conversation_id;
    if (stream) body["stream"] = true;
    json::value v(std::move(body));
    out = cd::json_request(http::verb::post,
                           cd::join_url(st.opts.base_url, "/v1/chatbot/" + cd::encode_segment(req.chatbot_id) + "/run"),
                           &v);
    out.headers.set(http::field::authorization, "Bearer " + st.opts.api_key);
    if (stream) out.headers.set(http::field::accept, "text/event-stream");
    return {};
}

/// Sends and returns the JSON object of a successful run; failed runs (any
/// status, including 200 with status:"failed") become errors.
asio::awaitable<error_code> call(state& st, http::request r, diagnostics& diag, json::value& out) {
    auto [ec, res] = co_await cd::send(st.http, std::move(r), diag);
    if (ec) co_return ec;
    if (res.status < 200 || res.status >= 300)
        co_return cd::map_vectorshift_error(res.status, res.headers, res.body, diag);
    if (auto pec = cd::parse_object(res.body, out, diag)) co_return pec;
    if (cd::string_at(out, "status") == "failed")
        co_return cd::map_vectorshift_error(res.status, res.headers, res.body, diag);
    co_return error_code{};
}

asio::awaitable<std::pair<error_code, run_reply>> do_run(std::shared_ptr<state> st, run_request req,
                                                         diagnostics& diag) {
    std::pair<error_code, run_reply> out;
    http::request r;
    if ((out.first = build_legacy(*st, req, false, diag, r))) co_return out;
    json::value v;
    if ((out.first = co_await call(*st, std::move(r), diag, v))) co_return out;
    out.second.output = cd::string_at(v, "output");
    out.second.conversation_id = cd::string_at(v, "conversation_id");
    co_return out;
}

asio::awaitable<std::pair<error_code, v1_run_reply>> do_run_v1(std::shared_ptr<state> st, v1_run_request req,
                                                               diagnostics& diag) {
    std::pair<error_code, v1_run_reply> out;
    http::request r;
    if ((out.first = build_v1(*st, req, false, diag, r))) co_return out;
    json::value v;
    if ((out.first = co_await call(*st, std::move(r), diag, v))) co_return out;
    out.second.output_message = cd::string_at(v, "output_message");
    out.second.conversation_id = cd::string_at(v, "conversation_id");
    if (auto* q = v.as_object().if_contains("follow_up_questions"); q && q->is_array()) {
        for (const auto& item : q->as_array())
            if (item.is_string()) out.second.follow_up_questions.emplace_back(item.as_string());
    }
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_stream>> do_stream(std::shared_ptr<state> st, http::request r,
                                                              diagnostics& diag, std::string conversation_id) {
    std::pair<error_code, chat_stream> out;
    auto [ec, body] = co_await cd::open_stream(st->http, std::move(r), diag, cd::map_vectorshift_error);
    if ((out.first = ec)) co_return out;
    out.second = chat_stream(st->executor, std::move(body), stream_format::vectorshift_sse, std::move(conversation_id));
    co_return out;
}

template <class T>
asio::awaitable<std::pair<error_code, T>> failed(error_code ec) {
    co_return std::pair<error_code, T>{ec, T{}};
}

} // namespace

void run(const std::shared_ptr<state>& st, run_request req, diagnostics& diag, run_handler h) {
    cd::spawn_op<run_reply>(st->executor, do_run(st, std::move(req), diag), std::move(h));
}

void run_v1(const std::shared_ptr<state>& st, v1_run_request req, diagnostics& diag, v1_run_handler h) {
    cd::spawn_op<v1_run_reply>(st->executor, do_run_v1(st, std::move(req), diag), std::move(h));
}

void run_stream(const std::shared_ptr<state>& st, run_request req, diagnostics& diag, stream_handler h) {
    http::request r;
    auto ec = build_legacy(*st, req, true, diag, r);
    cd::spawn_op<chat_stream>(st->executor,
                              ec ? failed<chat_stream>(ec) : do_stream(st, std::move(r), diag, req.conversation_id),
                              std::move(h));
}

void run_v1_stream(const std::shared_ptr<state>& st, v1_run_request req, diagnostics& diag, stream_handler h) {
    http::request r;
    auto ec = build_v1(*st, req, true, diag, r);
    cd::spawn_op<chat_stream>(st->executor,
                              ec ? failed<chat_stream>(ec) : do_stream(st, std::move(r), diag, req.conversation_id),
                              std::move(h));
}

} // namespace detail

client::client(boost::asio::any_io_executor ex, options opts)
    : state_(std::make_shared<detail::state>(std::move(ex), std::move(opts))) {}

http::client& client::transport() { return state_->http; }

} // namespace chatwire::vectorshift
