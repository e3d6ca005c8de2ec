#include "pollybot_state.hpp"
#include "provider_errors.hpp"

#include "../detail/serial_executor.hpp"
#include "../stream/field_extractor.hpp"
#include "json_body.hpp"

#include <chatwire/detail/operation_impl.hpp>

#include <boost/json/serialize.hpp>

#include <charconv>

namespace chatwire::pollybot {
namespace detail {

namespace asio = boost::asio;
namespace json = boost::json;
namespace cd = chatwire::detail;

namespace {

// PollyBot's error body: {"success": false, "error": "...", "code": "RATE_LIMIT_EXCEEDED", "retryAfter": 60}.
constexpr cd::code_rule error_codes[] = {
    {"MISSING_AUTH_HEADER", errc::unauthorized},
    {"INVALID_API_KEY", errc::unauthorized},
    {"INSUFFICIENT_CREDITS", errc::payment_required},
    {"CHATBOT_NOT_FOUND", errc::not_found},
    {"CONVERSATION_NOT_FOUND", errc::not_found},
    {"RATE_LIMIT_EXCEEDED", errc::rate_limited},
    {"VALIDATION_ERROR", errc::bad_request},
};
constexpr cd::error_shape error_shape{"code", "error", error_codes, true};

error_code provider_error(unsigned status, const http::fields& headers, std::string_view body, diagnostics& diag) {
    return cd::map_provider_error(error_shape, status, headers, body, diag);
}

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
    st.last->limit = header_number(h, "X-RateLimit-Limit");
    st.last->remaining = header_number(h, "X-RateLimit-Remaining");
    st.last->reset = header_number(h, "X-RateLimit-Reset");
    st.last->used = header_number(h, "X-RateLimit-Used");
}

} // namespace

error_code build_chat(const state& st, const chat_request& req, bool stream, diagnostics& diag, cd::api_request& out) {
    if (auto ec = cd::check_not_empty("message", req.message, diag)) return ec;
    if (auto ec = cd::check_not_empty("chatbot_id", req.chatbot_id, diag)) return ec;
    cd::json_body body;
    body.add("message", req.message);
    if (!req.conversation_id.empty()) body.add("conversationId", req.conversation_id);
    if (stream) body.add_bool("stream", true);
    else if (req.stream) body.add_bool("stream", *req.stream);
    if (!req.metadata.empty()) body.add_json("metadata", json::serialize(req.metadata));
    out.path = "/api/v1/chatbots/" + cd::encode_segment(req.chatbot_id) + "/chat";
    out.body = std::move(body).take();
    out.fixed_lines = st.auth;
    out.stream = stream;
    if (stream) out.accept = cd::accept_sse;
    return {};
}

namespace {

// A chat reply read in one pass, without a DOM. The extractor is the
// thread's: a plain function, so no suspension point lies between the
// thread_local's lookup and its use (a coroutine resumed on another thread
// could keep using the first thread's), and a parse never calls out.
error_code read_chat_reply(const cd::api_reply& reply, chat_reply& out, diagnostics& diag) {
    enum field : std::size_t { data, response, conversation_id, message_id };
    thread_local stream::detail::field_extractor fields{
        {"data"}, {"data", "response"}, {"data", "conversationId"}, {"data", "messageId"}};
    if (fields.parse(reply.body) || !fields.is_object()) {
        diag.detail = "the response is not a JSON object";
        return errc::bad_response;
    }
    if (fields[data].kind != stream::detail::field_value::type::object) {
        // A success status with an error body still is an error.
        auto ec = provider_error(reply.status, reply.headers, reply.body, diag);
        return ec == errc::http_error ? make_error_code(errc::bad_response) : ec;
    }
    out.response = fields[response].text;
    out.conversation_id = fields[conversation_id].text;
    out.message_id = fields[message_id].text;
    return {};
}

} // namespace

state::state(asio::any_io_executor ex, options o)
    : provider_core(std::move(ex), o, &provider_error),
      opts(std::move(o)) {
    auth = credential_header("Authorization", "Bearer ", opts.api_key, "api key");
    if (!setup_error) set_rate_key(opts.api_key);  // PollyBot announces each key's window: pace by it
}

asio::awaitable<std::pair<error_code, chat_reply>> chat_op(std::shared_ptr<state> st, chat_request req,
                                                           diagnostics& diag) {
    std::pair<error_code, chat_reply> out;
    cd::api_request r;
    if ((out.first = build_chat(*st, req, false, diag, r))) co_return out;
    cd::api_reply reply;
    out.first = co_await cd::call(*st, r, diag, reply);
    if (reply.status != 0) note_rate_limit(*st, reply.headers);  // on errors too: a 429's headers matter most
    if (out.first) co_return out;
    if ((out.first = read_chat_reply(reply, out.second, diag))) co_return out;
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_stream>> chat_stream_op(std::shared_ptr<state> st, chat_request req,
                                                                   diagnostics& diag) {
    std::pair<error_code, chat_stream> out;
    cd::api_request r;
    if ((out.first = build_chat(*st, req, true, diag, r))) co_return out;
    http::fields headers;
    out.first = co_await cd::call_stream(*st, r, diag, stream_format::pollybot_sse, req.conversation_id, out.second,
                                         &headers);
    if (diag.http_status != 0) note_rate_limit(*st, headers);
    co_return out;
}

asio::awaitable<std::pair<error_code, chat_reply>> perform(chat op) {
    return chat_op(std::move(op.state), std::move(op.request), *op.diag);
}

asio::awaitable<std::pair<error_code, chat_stream>> perform(chat_streamed op) {
    return chat_stream_op(std::move(op.state), std::move(op.request), *op.diag);
}

} // namespace detail


client::client(boost::asio::any_io_executor ex, options opts)
    : state_(std::make_shared<detail::state>(std::move(ex), std::move(opts))) {}

rate_limit client::last_rate_limit() const { return *state_->last; }
http::client& client::transport() { return state_->http; }

client client::with_retry(const retry_policy& policy) const {
    auto st = std::make_shared<detail::state>(*state_);
    st->retry = policy;
    return client(std::move(st));
}

} // namespace chatwire::pollybot

// Each operation's entry points, compiled once.
template struct chatwire::detail::operation<chatwire::pollybot::detail::chat>;
template struct chatwire::detail::operation<chatwire::pollybot::detail::chat_streamed>;
