#include "provider_errors.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>

namespace chatwire::detail {

namespace json = boost::json;

namespace {

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

} // namespace

const json::object* as_object(std::string_view body, json::value& holder) {
    boost::system::error_code ec;
    holder = json::parse(body, ec);
    if (ec || !holder.is_object()) return nullptr;
    return &holder.as_object();
}

void keep_message(std::string_view body, diagnostics& diag) {
    if (diag.provider_message.empty()) diag.provider_message.assign(body.substr(0, 512));
}

void note_retry_after(const http::fields& headers, diagnostics& diag) {
    if (auto it = headers.find(http::field::retry_after); it != headers.end()) {
        if (auto d = parse_retry_after(it->value())) diag.retry_after = d;
    }
}

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
} // namespace chatwire::detail
