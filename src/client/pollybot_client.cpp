#include "api_call.hpp"
#include "../detail/spawn.hpp"

#include <chatwire/pollybot.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace chatwire::pollybot {
namespace detail {

namespace asio = boost::asio;
namespace json = boost::json;
using chatwire::detail::spawn_op;

struct state : chatwire::detail::provider_state<options> {
    using provider_state::provider_state;
    rate_limit last;  // of the most recent response
};

namespace {

std::optional<std::uint64_t> header_number(const http::fields& h, std::string_view name) {
    auto it = h.find(name);
    if (it == h.end()) return std::nullopt;
    auto v = it->value();
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return n;
}

void note_rate_limit(state& st, const http::fields& h) {
    st.last.limit = header_number(h, "X-RateLimit-Limit");
    st.last.remaining = header_number(h, "X-RateLimit-Remaining");
    st.last.reset = header_number(h, "X-RateLimit-Reset");
    st.last.used = header_number(h, "X-RateLimit-Used");
}

error_code build(state& st, const chat_request& req, bool stream, diagnostics& diag, http::request& out) {
    diag.clear();
    if (auto ec = chatwire::detail::check_not_empty("message", req.message, diag)) return ec;
    if (auto ec = chatwire::detail::check_not_empty("chatbot_id", req.chatbot_id, diag)) return ec;
    if (auto ec = chatwire::detail::check_header_value("api key", st.opts.api_key, diag)) return ec;
    json::object body;
    body["message"] = req.message;
    if (!req.conversation_id.empty()) body["conversationId"] = req.conversation_id;
    if (stream) body["stream"] = true;
    else if (req.stream) body["stream"] = *req.stream;
    if (!req.metadata.empty()) body["metadata"] = req.metadata;
    json::value v(std::move(body));
    out = chatwire::detail::json_request(
        http::verb::post,
        chatwire::detail::join_url(st.opts.base_url,
                                   "/api/v1/chatbots/" + chatwire::detail::encode_segment(req.chatbot_id) + "/chat"),
        &v);
    out.headers.set(http::field::authorization, "Bearer " + st.opts.api_key);
    if (stream) out.headers.set(http::field::accept, "text/event-stream");
    return {};
}

asio::awaitable<std::pair<error_code, chat_reply>> run_chat(std::shared_ptr<state> st, chat_request req,
                                                            diagnostics& diag) {
    std::pair<error_code, chat_reply> out;
    http::request r;
    if ((out.first = build(*st, req, false, diag, r))) co_return out;
    auto [ec, res] = co_await chatwire::detail::send(st->http, std::move(r), diag);
    if (ec) {
        out.first = ec;
        co_return out;
    }
    note_rate_limit(*st, res.headers);
    if (res.status < 200 || res.status >= 300) {
        out.first = chatwire::detail::map_pollybot_error(res.status, res.headers, res.body, diag);
        co_return out;
    }
    json::value v;
    if ((out.first = chatwire::detail::parse_object(res.body, v, diag))) co_return out;
    const auto* data = v.as_object().if_contains("data");
    if (!data || !data->is_object()) {
        // A success status with an error body still is an error.
        out.first = chatwire::detail::map_pollybot_error(res.status, res.headers, res.body, diag);
        if (out.first == errc::http_error) out.first = errc::bad_response;
        co_return out;
    }
    out.second.response = chatwire::detail::string_at(*data, "response");
    out.second.conversation_id = chatwire::detail::string_at(*data, "conversationId");
    out.second.message_id = chatwire::detail::string_at(*data, "messageId");
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_stream>> run_stream(std::shared_ptr<state> st, chat_request req,
                                                               diagnostics& diag) {
    std::pair<error_code, chat_stream> out;
    http::request r;
    if ((out.first = build(*st, req, true, diag, r))) co_return out;
    http::fields headers;
    auto [ec, body] = co_await chatwire::detail::open_stream(st->http, std::move(r), diag,
                                                             chatwire::detail::map_pollybot_error, &headers);
    note_rate_limit(*st, headers);  // on errors too: a 429's headers matter most
    if (ec) {
        out.first = ec;
        co_return out;
    }
    out.second = chat_stream(st->executor, std::move(body), stream_format::pollybot_sse, req.conversation_id);
    co_return out;
}

} // namespace

void chat(const std::shared_ptr<state>& st, chat_request req, diagnostics& diag, reply_handler h) {
    spawn_op<chat_reply>(st->executor, run_chat(st, std::move(req), diag), std::move(h));
}

void chat_stream_op(const std::shared_ptr<state>& st, chat_request req, diagnostics& diag, stream_handler h) {
    spawn_op<chat_stream>(st->executor, run_stream(st, std::move(req), diag), std::move(h));
}

} // namespace detail

client::client(boost::asio::any_io_executor ex, options opts)
    : state_(std::make_shared<detail::state>(std::move(ex), std::move(opts))) {}

rate_limit client::last_rate_limit() const { return state_->last; }
http::client& client::transport() { return state_->http; }

} // namespace chatwire::pollybot
