#include "call.hpp"
#include "../detail/serial_executor.hpp"

#include <chatwire/detail/operation_impl.hpp>

#include <chatwire/api_key.hpp>
#include <chatwire/retry/pacing.hpp>
#include <chatwire/retry/schedule.hpp>

#include <openssl/evp.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace chatwire::detail {

namespace asio = boost::asio;
namespace json = boost::json;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_error_body = 64 * 1024;

provider_core::provider_core(asio::any_io_executor ex, std::string_view base_url,
                             const http::client_options& http_opts, const retry_policy& retry_opts,
                             attempt_observer observer, error_mapper map, std::shared_ptr<retry_store> shared)
    : executor(serial_executor(std::move(ex), http_opts.thread_safe)),
      http(executor, http_opts),
      map_error(map),
      retry(retry_opts),
      store(shared ? std::move(shared) : std::make_shared<local_retry_store>()),
      on_attempt(std::move(observer)) {
    api = http::detail::make_endpoint(base_url, setup_error);
    if (setup_error) setup_detail = "the base URL must be http(s)://host[:port][/path]";
}

std::string provider_core::fixed_header(std::string_view name, std::string_view value, std::string_view what) {
    std::string line;
    if (!http::detail::append_header(line, name, value) && !setup_error) {
        setup_error = errc::invalid_argument;
        setup_detail = std::string(what) + " must not contain CR or LF";
    }
    return line;
}

std::string provider_core::credential_header(std::string_view name, std::string_view scheme, std::string_view key,
                                             std::string_view what) {
    if (auto why = api_key_problem(key); !why.empty()) {
        if (!setup_error) {
            setup_error = errc::invalid_argument;
            setup_detail = "the " + std::string(what) + " " + why;
        }
        return {};
    }
    std::string value;
    value.reserve(scheme.size() + key.size());
    value.append(scheme).append(key);
    return fixed_header(name, value, what);
}

void provider_core::set_rate_key(std::string_view credential) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    rate_key = api.key;
    if (EVP_Digest(credential.data(), credential.size(), md, &len, EVP_sha256(), nullptr) != 1) return;
    static constexpr char hex[] = "0123456789abcdef";
    rate_key.push_back('#');
    for (unsigned i = 0; i < 16 && i < len; ++i) {  // 128 bits name a key well enough
        rate_key.push_back(hex[md[i] >> 4]);
        rate_key.push_back(hex[md[i] & 15]);
    }
}

namespace {

bool is_success(unsigned status) { return status >= 200 && status < 300; }

// Views of the request and the provider's state: nothing is copied until the
// transport renders the head into the connection's buffer.
http::detail::outgoing to_outgoing(const provider_core& p, const api_request& req) {
    static constexpr std::string_view json_body = "Content-Type: application/json\r\n";
    http::detail::outgoing out;
    out.method = req.method;
    out.target_prefix = p.api.prefix;
    out.target = req.path;
    out.header_lines = {req.accept, req.body.empty() ? std::string_view{} : json_body, req.fixed_lines, {}};
    out.body = req.body;
    return out;
}

// An error answer on a stream: its head (bounded) keeps the provider's code and message.
asio::awaitable<error_code> read_error_body(http::body_stream& body, std::string& text) {
    while (text.size() < max_error_body) {
        auto [ec, piece] = co_await body.async_read_some(tuple_awaitable);
        if (ec == errc::end_of_stream) break;
        if (ec) co_return ec;
        text.append(piece.substr(0, max_error_body - text.size()));
    }
    co_return error_code{};
}

} // namespace

namespace {

std::string method_name(http::verb v) {
    auto name = boost::beast::http::to_string(v);
    return std::string(name.data(), name.size());
}

// The URL an attempt went to: the key travels in a header, never here.
std::string url_of(const provider_core& p, const api_request& req) { return p.api.key + p.api.prefix + req.path; }

// Before an attempt: whether the key's window was said to be used up, so
// that the attempt waits for its reset (holding no connection), or the call
// ends at once when the reset is further off than the policy or the deadline
// allow. A plain function: a call that need not wait pays no coroutine frame.
pacing_verdict pacing_for(const provider_core& p, const retry_policy& policy,
                          std::chrono::steady_clock::time_point end) {
    if (!policy.pace || p.rate_key.empty()) return {};
    const auto left = end == std::chrono::steady_clock::time_point::max() ? std::chrono::steady_clock::duration::max()
                                                                          : end - std::chrono::steady_clock::now();
    return pace(p.store->window(p.rate_key), std::chrono::system_clock::now(), left, policy);
}

error_code refuse_paced(const pacing_verdict& verdict, const retry_policy& policy, diagnostics& diag) {
    diag.retry_after = verdict.delay;  // what it would have waited, for the caller to decide
    diag.detail = "the key's rate-limit window resets in " + std::to_string(verdict.delay.count()) +
                  " ms: longer than " + (verdict.delay > policy.max_hint ? "max_hint" : "the call's time left");
    return errc::rate_limited;
}

// What a response said about the key's window, kept for the next request.
void note_window(provider_core& p, const http::fields& headers) {
    if (p.rate_key.empty()) return;
    if (auto w = read_rate_window(headers, std::chrono::system_clock::now())) p.store->note_window(p.rate_key, *w);
}

// A stale pooled connection's request, resent by the transport at once: an
// attempt of its own in diagnostics.
void note_stale_resend(const provider_core& p, const api_request& req, diagnostics& diag, error_code why) {
    ++diag.attempts;
    diag.failed_attempts.push_back({0, {}, why, std::chrono::milliseconds(0), to_string(retry_reason::stale_connection),
                                    method_name(req.method), url_of(p, req)});
}

struct attempt_decision {
    std::optional<std::chrono::milliseconds> delay;
    retry_reason reason;
    std::optional<std::chrono::milliseconds> hint;
};

// Tells the client's observer, if any, how an attempt went.
void report(const provider_core& p, const api_request& req, const diagnostics& diag, error_code ec,
            std::chrono::steady_clock::time_point started, std::chrono::milliseconds paced,
            const attempt_decision* decision) {
    if (!p.on_attempt) return;
    attempt_report r;
    r.paced = paced;
    r.attempt = diag.attempts;
    r.method = req.method;
    r.target = req.path;
    r.origin = p.api.key;
    r.http_status = diag.http_status;
    r.provider_code = diag.provider_code;
    r.ec = ec;
    r.latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (decision) {
        r.hint = decision->hint;
        r.will_retry = decision->delay.has_value();
        r.delay = decision->delay.value_or(std::chrono::milliseconds(0));
        r.reason = decision->reason;
    }
    p.on_attempt(r);
}

// The provider's reading of an error answer, with the client's hint on a 404.
error_code map_answer(const provider_core& p, const api_reply& r, diagnostics& diag) {
    auto ec = p.map_error(r.status, r.headers, r.body, diag);
    if (ec == errc::not_found && !p.not_found_hint.empty())
        diag.detail += (diag.detail.empty() ? "" : "; ") + p.not_found_hint;
    return ec;
}

// What one attempt left in diagnostics is not carried into the next.
void forget_attempt(diagnostics& diag) {
    diag.http_status = 0;
    diag.provider_code.clear();
    diag.provider_message.clear();
    diag.request_id.clear();
    diag.retry_after.reset();
    diag.detail.clear();
}

} // namespace

asio::awaitable<error_code> call(provider_core& p, const api_request& req, diagnostics& diag, api_reply& out) {
    if (p.setup_error) {
        diag.detail = p.setup_detail;
        co_return p.setup_error;
    }
    const auto wire = to_outgoing(p, req);
    const auto end = http::detail::call_deadline(p.http.options().timeouts, !req.stream);
    const retry_policy& policy = req.retry ? *req.retry : p.retry;
    retry_schedule schedule(policy, p.store.get(), end);  // every call counts toward the shared budget
    for (;;) {
        // A cancel that came while the last step's completion was queued
        // (the pacing wait, a backoff) found nothing to cancel: honoured here,
        // before a connection is taken or opened.
        if (is_cancelled(co_await asio::this_coro::cancellation_state)) co_return make_error_code(errc::cancelled);
        std::chrono::milliseconds paced{0};
        if (const auto v = pacing_for(p, policy, end); v.action != pacing_action::go) {
            if (v.action == pacing_action::refuse) co_return refuse_paced(v, policy, diag);
            asio::steady_timer wait(p.executor, v.delay);
            auto [wec] = co_await wait.async_wait(tuple_awaitable);
            if (wec || is_cancelled(co_await asio::this_coro::cancellation_state))
                co_return make_error_code(errc::cancelled);
            paced = v.delay;
            diag.paced += v.delay;
        }
        ++diag.attempts;
        // The clock is read only for an observer: a call nobody watches pays nothing.
        const auto started = p.on_attempt ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        http::detail::attempt_info info;
        // One attempt: the exchange, then the status mapped to errc + diagnostics.
        error_code ec;
        if (!req.stream) {
            http::response res;
            ec = co_await http::detail::exchange(p.http, p.api, wire, diag, res, end, info);
            if (info.stale_resend) note_stale_resend(p, req, diag, info.stale_resend);
            if (!ec) {
                out.status = res.status;
                out.headers = std::move(res.headers);
                out.body = std::move(res.body);
                note_window(p, out.headers);
                if (is_success(out.status)) {
                    report(p, req, diag, ec, started, paced, nullptr);
                    co_return ec;
                }
                ec = map_answer(p, out, diag);
            }
        } else {
            ec = co_await http::detail::open(p.http, p.api, wire, diag, out.stream, end, info);
            if (info.stale_resend) note_stale_resend(p, req, diag, info.stale_resend);
            if (!ec) {
                out.status = out.stream.status();
                out.headers = out.stream.headers();
                note_window(p, out.headers);
                if (is_success(out.status)) {
                    report(p, req, diag, ec, started, paced, nullptr);
                    co_return ec;
                }
                ec = co_await read_error_body(out.stream, out.body);
                out.stream = http::body_stream{};
                if (!ec) ec = map_answer(p, out, diag);
            }
        }
        failure_info failure;
        failure.method = req.method;
        failure.idempotent = req.idempotent;
        failure.request_written = info.request_written;
        failure.response_started = info.response_started;
        failure.connection_reused = info.connection_reused;
        failure.hint = diag.retry_after;
        const error_code attempt_ec = ec;
        const int status = diag.http_status;
        std::string code = diag.provider_code;
        // A cancel that came while the last step's completion was queued is
        // honoured here, not after a backoff nobody could cancel any more.
        if (is_cancelled(co_await asio::this_coro::cancellation_state))
            co_return make_error_code(errc::cancelled);
        auto delay = schedule.next_delay(ec, failure, diag);
        diag.failed_attempts.push_back({status, std::move(code), attempt_ec,
                                        delay.value_or(std::chrono::milliseconds(0)),
                                        to_string(schedule.last_reason()), method_name(req.method), url_of(p, req)});
        if (p.on_attempt) {
            attempt_decision decision{delay, schedule.last_reason(), failure.hint};
            report(p, req, diag, attempt_ec, started, paced, &decision);
        }
        if (!delay) co_return ec;
        out = api_reply{};
        forget_attempt(diag);
        asio::steady_timer wait(p.executor, *delay);
        auto [wec] = co_await wait.async_wait(tuple_awaitable);
        if (wec) co_return make_error_code(errc::cancelled);
    }
}

asio::awaitable<error_code> call_json(provider_core& p, const api_request& req, diagnostics& diag, json::value& out,
                                      http::fields* headers) {
    api_reply reply;
    auto ec = co_await call(p, req, diag, reply);
    if (headers) *headers = std::move(reply.headers);
    if (ec) co_return ec;
    co_return parse_object(reply.body, out, diag);
}

asio::awaitable<error_code> call_stream(provider_core& p, const api_request& req, diagnostics& diag,
                                        stream_format format, std::string conversation_id, chat_stream& out,
                                        http::fields* headers) {
    api_reply reply;
    auto ec = co_await call(p, req, diag, reply);
    if (headers) *headers = std::move(reply.headers);
    if (ec) co_return ec;
    stream::reply_options limits;
    limits.max_reply_bytes = p.http.options().limits.max_reply_bytes;
    limits.max_event_bytes = p.http.options().limits.max_event_bytes;
    out = chat_stream(p.executor, std::move(reply.stream), format, std::move(conversation_id), limits);
    co_return error_code{};
}

std::string to_body(const json::value& v) { return json::serialize(v); }

error_code parse_object(std::string_view body, json::value& out, diagnostics& diag) {
    boost::system::error_code ec;
    out = json::parse(body, ec, out.storage());
    if (ec || !out.is_object()) {
        diag.detail = "the response is not a JSON object";
        return errc::bad_response;
    }
    return {};
}

error_code check_not_empty(std::string_view what, std::string_view value, diagnostics& diag) {
    if (!value.empty()) return {};
    diag.detail = std::string(what) + " must not be empty";
    return errc::invalid_argument;
}

} // namespace chatwire::detail
