#include "api_call.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <ctime>

namespace chatwire::detail {

namespace asio = boost::asio;
namespace json = boost::json;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_error_body = 64 * 1024;

namespace {

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

std::string percent_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (unreserved(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    if (v.front() >= '0' && v.front() <= '9') {
        std::uint64_t secs = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
        if (ec != std::errc() || p != v.data() + v.size() || secs > 86400 * 7) return std::nullopt;
        return std::chrono::seconds(secs);
    }
    // An HTTP date in any of RFC 9110's three formats.
    std::string text(v);
    for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        std::tm tm{};
        const char* end = strptime(text.c_str(), fmt, &tm);
        if (!end || *end != '\0') continue;
        auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
        auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(when - std::chrono::system_clock::now());
        return std::max(delay, std::chrono::milliseconds(0));
    }
    return std::nullopt;
}

const json::object* as_object(std::string_view body, json::value& holder) {
    boost::system::error_code ec;
    holder = json::parse(body, ec);
    if (ec || !holder.is_object()) return nullptr;
    return &holder.as_object();
}

void keep_message(std::string_view body, diagnostics& diag) {
    if (diag.provider_message.empty()) diag.provider_message.assign(body.substr(0, 512));
}

} // namespace

std::string encode_segment(std::string_view s) {
    // "." and ".." are unreserved characters but path steps: encode them too.
    if (s == "." || s == "..") return s.size() == 1 ? "%2E" : "%2E%2E";
    return percent_encode(s);
}
std::string encode_query(std::string_view s) { return percent_encode(s); }

error_code check_header_value(std::string_view name, std::string_view value, diagnostics& diag) {
    if (value.find_first_of("\r\n") == std::string_view::npos) return {};
    diag.detail = std::string(name) + " must not contain CR or LF";
    return errc::invalid_argument;
}

error_code check_not_empty(std::string_view what, std::string_view value, diagnostics& diag) {
    if (!value.empty()) return {};
    diag.detail = std::string(what) + " must not be empty";
    return errc::invalid_argument;
}

std::string join_url(std::string_view base, std::string_view path) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    std::string out(base);
    out.append(path);
    return out;
}

http::request json_request(http::verb method, std::string url, const json::value* body) {
    http::request r;
    r.method = method;
    r.url = std::move(url);
    r.headers.set(http::field::accept, "application/json");
    if (body) {
        r.headers.set(http::field::content_type, "application/json");
        r.body = json::serialize(*body);
    }
    return r;
}

asio::awaitable<std::pair<error_code, http::response>> send(http::client& c, http::request req, diagnostics& diag) {
    auto [ec, res] = co_await c.async_request(std::move(req), diag, tuple_awaitable);
    co_return std::pair{ec, std::move(res)};
}

asio::awaitable<error_code> call_json(http::client& c, http::request req, diagnostics& diag, error_mapper map_error,
                                      json::value& out, http::fields* headers) {
    auto [ec, res] = co_await c.async_request(std::move(req), diag, tuple_awaitable);
    if (ec) co_return ec;
    if (headers) *headers = std::move(res.headers);
    const auto& h = headers ? *headers : res.headers;
    if (res.status < 200 || res.status >= 300) co_return map_error(res.status, h, res.body, diag);
    co_return parse_object(res.body, out, diag);
}

asio::awaitable<std::pair<error_code, http::body_stream>> open_stream(http::client& c, http::request req,
                                                                      diagnostics& diag, error_mapper map_error,
                                                                      http::fields* headers) {
    auto [ec, body] = co_await c.async_open(std::move(req), diag, tuple_awaitable);
    if (ec) co_return std::pair{ec, http::body_stream{}};
    if (headers) *headers = body.headers();
    if (body.status() >= 200 && body.status() < 300) co_return std::pair{error_code{}, std::move(body)};
    // An error answer: read its head (bounded) to keep the provider's code and message.
    std::string text;
    while (text.size() < max_error_body) {
        auto [rec, piece] = co_await body.async_read_some(tuple_awaitable);
        if (rec == errc::end_of_stream) break;
        if (rec) co_return std::pair{rec, http::body_stream{}};
        text.append(piece.substr(0, max_error_body - text.size()));
    }
    co_return std::pair{map_error(body.status(), body.headers(), text, diag), http::body_stream{}};
}

error_code parse_object(std::string_view body, json::value& out, diagnostics& diag) {
    boost::system::error_code ec;
    out = json::parse(body, ec);
    if (ec || !out.is_object()) {
        diag.detail = "the response is not a JSON object";
        return errc::bad_response;
    }
    return {};
}

void note_retry_after(const http::fields& headers, diagnostics& diag) {
    if (auto it = headers.find(http::field::retry_after); it != headers.end()) {
        if (auto d = parse_retry_after(it->value())) diag.retry_after = d;
    }
}

namespace {
// The least specific hint: X-RateLimit-Reset, epoch seconds when large, else a delay.
void note_ratelimit_reset(const http::fields& headers, diagnostics& diag) {
    if (diag.retry_after) return;
    auto it = headers.find("X-RateLimit-Reset");
    if (it == headers.end()) return;
    auto v = it->value();
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < 0) return;
    constexpr std::int64_t epoch_threshold = 1'000'000'000;  // 2001: anything above is a date
    std::int64_t delay = n;
    if (n >= epoch_threshold) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        delay = std::max<std::int64_t>(0, n - now);
    }
    if (delay <= 86400) diag.retry_after = std::chrono::seconds(delay);
}
} // namespace

std::string_view string_at(const json::value& v, std::string_view key) {
    if (!v.is_object()) return {};
    auto* p = v.as_object().if_contains(key);
    if (!p || !p->is_string()) return {};
    return p->get_string();
}

error_code map_vectorshift_error(unsigned status, const http::fields& headers, std::string_view body,
                                 diagnostics& diag) {
    diag.http_status = static_cast<int>(status);
    note_retry_after(headers, diag);
    json::value holder;
    if (as_object(body, holder)) {
        diag.provider_message = string_at(holder, "error");
        if (auto st = string_at(holder, "status"); !st.empty()) diag.provider_code = st;
    }
    keep_message(body, diag);
    if (status == 429) note_ratelimit_reset(headers, diag);
    if (status >= 200 && status < 300) return errc::run_failed;  // status:"failed" with HTTP 200
    return errc_from_http_status(static_cast<int>(status));
}

error_code map_chatbotkit_error(unsigned status, const http::fields& headers, std::string_view body,
                                diagnostics& diag) {
    diag.http_status = static_cast<int>(status);
    note_retry_after(headers, diag);
    json::value holder;
    if (as_object(body, holder)) {
        diag.provider_code = string_at(holder, "code");
        diag.provider_message = string_at(holder, "message");
    }
    keep_message(body, diag);
    if (status == 429) note_ratelimit_reset(headers, diag);
    std::string_view code = diag.provider_code;
    auto ends_with = [&](std::string_view suffix) {
        return code.size() >= suffix.size() && code.substr(code.size() - suffix.size()) == suffix;
    };
    if (code == "LIMITS_REACHED") return errc::quota_exceeded;
    if (ends_with("TOO_MANY_REQUESTS")) return errc::rate_limited;
    if (code == "NOT_AUTHENTICATED") return errc::unauthorized;
    if (code == "NOT_AUTHORIZED") return errc::forbidden;
    if (code == "NO_SUBSCRIPTION") return errc::payment_required;
    if (code == "NOT_FOUND") return errc::not_found;
    if (code == "CONFLICT") return errc::conflict;
    if (code == "BAD_REQUEST" || code == "METHOD_NOT_ALLOWED") return errc::bad_request;
    if (code == "INTERNAL_SERVER_ERROR") return errc::server_error;
    return errc_from_http_status(static_cast<int>(status));
}

error_code map_pollybot_error(unsigned status, const http::fields& headers, std::string_view body,
                              diagnostics& diag) {
    diag.http_status = static_cast<int>(status);
    note_retry_after(headers, diag);
    json::value holder;
    if (auto* o = as_object(body, holder)) {
        diag.provider_code = string_at(holder, "code");
        diag.provider_message = string_at(holder, "error");
        if (auto* ra = o->if_contains("retryAfter"); ra && !diag.retry_after) {
            if (ra->is_int64() && ra->as_int64() >= 0) diag.retry_after = std::chrono::seconds(ra->as_int64());
            else if (ra->is_uint64()) diag.retry_after = std::chrono::seconds(ra->as_uint64());
        }
    }
    keep_message(body, diag);
    if (status == 429) note_ratelimit_reset(headers, diag);
    std::string_view code = diag.provider_code;
    if (code == "MISSING_AUTH_HEADER" || code == "INVALID_API_KEY") return errc::unauthorized;
    if (code == "INSUFFICIENT_CREDITS") return errc::payment_required;
    if (code == "CHATBOT_NOT_FOUND" || code == "CONVERSATION_NOT_FOUND") return errc::not_found;
    if (code == "RATE_LIMIT_EXCEEDED") return errc::rate_limited;
    if (code == "VALIDATION_ERROR") return errc::bad_request;
    return errc_from_http_status(static_cast<int>(status));
}

} // namespace chatwire::detail
