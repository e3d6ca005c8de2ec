#include "provider_errors.hpp"

#include <chatwire/retry/hints.hpp>

#include <boost/json/parse.hpp>

#include <chrono>

namespace chatwire::detail {

namespace json = boost::json;

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

} // namespace chatwire::detail
