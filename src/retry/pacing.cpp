#include <chatwire/retry/hints.hpp>
#include <chatwire/retry/pacing.hpp>

#include <charconv>

namespace chatwire {

namespace {

std::optional<std::uint64_t> plain_count(const http::fields& h, std::string_view name) {
    auto it = h.find(name);
    if (it == h.end()) return std::nullopt;
    std::string_view v(it->value().data(), it->value().size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return n;
}

} // namespace

std::optional<rate_window> read_rate_window(const http::fields& headers, std::chrono::system_clock::time_point now) {
    auto remaining = plain_count(headers, "X-RateLimit-Remaining");
    if (!remaining) return std::nullopt;
    auto it = headers.find("X-RateLimit-Reset");
    if (it == headers.end()) return std::nullopt;
    // The hint parser's rules: Unix seconds or a delay, garbage ignored, a
    // far reset held at hint_ceiling (and then refused by pace()).
    auto until = parse_ratelimit_reset(std::string_view(it->value().data(), it->value().size()), now);
    if (!until) return std::nullopt;
    return rate_window{*remaining, std::chrono::time_point_cast<std::chrono::system_clock::duration>(now + *until)};
}

pacing_verdict pace(const std::optional<rate_window>& window, std::chrono::system_clock::time_point now,
                    std::chrono::steady_clock::duration time_left, const retry_policy& policy) {
    using std::chrono::milliseconds;
    if (!policy.pace || !window || window->remaining > 0 || window->reset <= now) return {};
    const auto until_reset = std::chrono::ceil<milliseconds>(window->reset - now) + pacing_margin;
    pacing_verdict v{pacing_action::wait, until_reset};
    // The wait and at least a moment for the request itself must fit.
    if (until_reset > policy.max_hint || until_reset > max_plausible_hint || time_left <= until_reset)
        v.action = pacing_action::refuse;
    return v;
}

} // namespace chatwire
