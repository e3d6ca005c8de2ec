#include "provider_errors.hpp"

#include <chatwire/retry/hints.hpp>

#include <boost/json/parse.hpp>

#include <chrono>

namespace chatwire::detail {

namespace json = boost::json;

std::string_view string_at(const json::value& v, std::string_view key) {
    if (!v.is_object()) return {};
    auto* p = v.as_object().if_contains(key);
    if (!p || !p->is_string()) return {};
    return p->get_string();
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

// One parser orders every source; here only those before the body's are taken.
void note_retry_after(const http::fields& headers, diagnostics& diag) {
    auto hint = find_server_hint(headers, nullptr, std::chrono::system_clock::now());
    if (hint && (hint->source == hint_source::retry_after_ms || hint->source == hint_source::retry_after))
        diag.retry_after = hint->delay;
}

void note_body_retry_after(const json::value& retry_after, diagnostics& diag) {
    if (diag.retry_after) return;
    if (auto d = parse_json_retry_after(retry_after)) diag.retry_after = d;
}

// With the header hints already absent or unusable, what the parser finds now
// is one of the rate-limit fields.
void note_ratelimit_reset(const http::fields& headers, diagnostics& diag) {
    if (diag.retry_after) return;
    if (auto hint = find_server_hint(headers, nullptr, std::chrono::system_clock::now())) diag.retry_after = hint->delay;
}

error_code map_provider_error(const error_shape& shape, unsigned status, const http::fields& headers,
                              std::string_view body, diagnostics& diag) {
    diag.http_status = static_cast<int>(status);
    note_retry_after(headers, diag);
    json::value holder;
    if (const auto* o = as_object(body, holder)) {
        diag.provider_code = string_at(holder, shape.code_key);
        diag.provider_message = string_at(holder, shape.message_key);
        if (shape.body_retry_after)
            if (const auto* ra = o->if_contains("retryAfter")) note_body_retry_after(*ra, diag);
    }
    keep_message(body, diag);
    if (status == 429) note_ratelimit_reset(headers, diag);
    const std::string_view code = diag.provider_code;
    for (const auto& rule : shape.codes) {
        const bool match = rule.suffix ? code.ends_with(rule.code) : code == rule.code;
        if (match) return rule.ec;
    }
    if (shape.success_status_is_run_failed && status >= 200 && status < 300) return errc::run_failed;
    return errc_from_http_status(static_cast<int>(status));
}

} // namespace chatwire::detail
