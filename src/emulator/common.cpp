// Ids, request helpers, JSON framing and each API's error bodies.
#include "internal.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace chatwire::emulator::detail {

namespace json = boost::json;

// ---- ids -------------------------------------------------------------------
std::uint64_t id_source::next() {
    std::uint64_t z = seed_ + 0x9e3779b97f4a7c15ull * ++counter_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

namespace {
constexpr std::string_view base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view base36 = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view hexdigits = "0123456789abcdef";
} // namespace

std::string id_source::prefixed(std::string_view prefix, std::size_t length) {
    std::string s(prefix);
    std::uint64_t bits = next();
    for (std::size_t i = 0; i < length; ++i) {
        if (i % 10 == 9) bits = next();
        s += base62[bits % 62];
        bits /= 62;
    }
    return s;
}

std::string id_source::cuid() {
    std::string s = "cm";
    std::uint64_t bits = next();
    for (std::size_t i = 0; i < 23; ++i) {
        if (i % 12 == 11) bits = next();
        s += base36[bits % 36];
        bits /= 36;
    }
    return s;
}

std::string id_source::hex(std::size_t length) {
    std::string s;
    std::uint64_t bits = next();
    for (std::size_t i = 0; i < length; ++i) {
        if (i % 16 == 15) bits = next();
        s += hexdigits[bits & 15];
        bits >>= 4;
    }
    return s;
}

// ---- one request -------------------------------------------------------------
std::int64_t call::now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hexval = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> call::query_params() const {
    std::vector<std::pair<std::string, std::string>> out;
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        auto eq = part.find('=');
        if (!part.empty())
            out.emplace_back(percent_decode(part.substr(0, eq)),
                             eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1)));
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return out;
}

std::optional<std::string> call::query_param(std::string_view name) const {
    for (auto& [k, v] : query_params())
        if (k == name) return std::move(v);
    return std::nullopt;
}

bool call::wants_jsonl() const {
    return req.header("accept").find("application/jsonl") != std::string_view::npos;
}

// ---- JSON and framing --------------------------------------------------------
std::string to_json(const json::value& v) { return json::serialize(v); }

std::string sse_event(const json::value& v) {
    std::string s = "data: ";
    s += json::serialize(v);
    s += "\n\n";
    return s;
}

std::string jsonl_line(const json::value& v) {
    std::string s = json::serialize(v);
    s += '\n';
    return s;
}

response_plan json_response(int status, const json::value& body) {
    response_plan p;
    p.status = status;
    p.body = json::serialize(body);
    return p;
}

std::optional<json::object> parse_object(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

// ---- error bodies ------------------------------------------------------------
response_plan vs_error(int status, std::string_view message) {
    return json_response(status, json::object{{"status", "failed"}, {"error", message}});
}

response_plan vs_auth_error(std::string_view message) {
    return json_response(401, json::object{{"error", message}});
}

response_plan cbk_error(int status, std::string_view code, std::string_view message) {
    return json_response(status, json::object{{"message", message}, {"code", code}});
}

response_plan pb_error(int status, std::string_view code, std::string_view message,
                       std::optional<std::uint64_t> retry_after) {
    json::object o{{"success", false}, {"error", message}, {"code", code}};
    if (retry_after) o["retryAfter"] = *retry_after;
    return json_response(status, o);
}

namespace {

struct status_text {
    int status;
    std::string_view code, message;
};

constexpr status_text cbk_codes[] = {
    {400, "BAD_REQUEST", "Request is malformed"},
    {401, "NOT_AUTHENTICATED", "Not authenticated"},
    {402, "NO_SUBSCRIPTION", "No subscription"},
    {403, "NOT_AUTHORIZED", "Not authorized"},
    {404, "NOT_FOUND", "Not found"},
    {405, "METHOD_NOT_ALLOWED", "Method not allowed"},
    {409, "CONFLICT", "There is a conflict when dealing with the resource"},
    {429, "TOO_MANY_REQUESTS", "Too many requests"},
    {500, "INTERNAL_SERVER_ERROR", "Internal server error"},
};

constexpr status_text pb_codes[] = {
    {400, "VALIDATION_ERROR", "Invalid request body"},
    {401, "INVALID_API_KEY", "Invalid or inactive API key"},
    {402, "INSUFFICIENT_CREDITS", "Insufficient credits to generate AI response. Please upgrade your plan."},
    {404, "CHATBOT_NOT_FOUND", "Chatbot not found or access denied"},
    {429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded. Please wait before sending another message."},
    {500, "INTERNAL_ERROR", "Internal server error"},
};

constexpr status_text vs_codes[] = {
    {400, "", "Bad request"},
    {401, "", "Invalid API key"},
    {402, "", "Payment required"},
    {403, "", "Forbidden"},
    {404, "", "Chatbot not found"},
    {429, "", "Rate limit exceeded"},
    {500, "", "Internal server error"},
    {503, "", "Service unavailable"},
};

template <std::size_t N>
const status_text* find(const status_text (&table)[N], int status) {
    for (const auto& s : table)
        if (s.status == status) return &s;
    return nullptr;
}

} // namespace

response_plan api_error(enum api a, int status, std::string_view code, std::string_view message,
                        std::optional<std::uint64_t> retry_after) {
    response_plan p;
    switch (a) {
    case api::chatbotkit: {
        const auto* s = find(cbk_codes, status);
        p = cbk_error(status, !code.empty() ? code : s ? s->code : std::string_view("INTERNAL_SERVER_ERROR"),
                      !message.empty() ? message : s ? s->message : std::string_view("Error"));
        break;
    }
    case api::pollybot: {
        const auto* s = find(pb_codes, status);
        if (status == 429 && !retry_after) retry_after = 60;
        p = pb_error(status, !code.empty() ? code : s ? s->code : std::string_view("INTERNAL_ERROR"),
                     !message.empty() ? message : s ? s->message : std::string_view("Error"),
                     status == 429 ? retry_after : std::nullopt);
        break;
    }
    case api::vectorshift:
    case api::admin: {
        const auto* s = find(vs_codes, status);
        auto text = !message.empty() ? message : s ? s->message : std::string_view("Error");
        p = status == 401 ? vs_auth_error(text) : vs_error(status, text);
        break;
    }
    }
    if (retry_after) p.headers.emplace_back("Retry-After", std::to_string(*retry_after));
    return p;
}

std::string in_stream_error_event(enum api a, std::string_view route_key, stream_framing f,
                                  std::string_view code, std::string_view message,
                                  std::string_view conversation_id) {
    json::value ev;
    switch (a) {
    case api::chatbotkit:
        ev = json::object{{"type", "error"}, {"data", json::object{{"message", message}}}};
        break;
    case api::pollybot:
        ev = json::object{{"type", "error"}, {"error", message}, {"code", code}};
        break;
    case api::vectorshift:
    case api::admin:
        if (route_key.find("/v1/") != std::string_view::npos)
            ev = json::object{{"status", "failed"},
                              {"conversation_id", conversation_id},
                              {"output_message", ""},
                              {"error", message}};
        else
            ev = json::object{{"status", "failed"}, {"error", message}};
        break;
    }
    return f == stream_framing::jsonl ? jsonl_line(ev) : sse_event(ev);
}

} // namespace chatwire::emulator::detail
