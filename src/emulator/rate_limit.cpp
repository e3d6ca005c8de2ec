#include "rate_limit.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace chatwire::emulator::detail {

namespace {

std::int64_t ceil_seconds(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    return (ms + 999) / 1000;
}

using time_point = sliding_window::time_point;

// Drops the times that have left the window.
void expire(std::vector<time_point>& q, time_point now, std::chrono::seconds window) {
    auto live = std::find_if(q.begin(), q.end(), [&](time_point t) { return t + window > now; });
    q.erase(q.begin(), live);
}

rate_verdict verdict_of(const std::vector<time_point>& q, time_point now, std::size_t limit,
                        std::chrono::seconds window) {
    rate_verdict v;
    v.limit = limit;
    v.used = q.size();
    v.remaining = limit > q.size() ? limit - q.size() : 0;
    v.reset_epoch_s = ceil_seconds(q.empty() ? now + window : q.front() + window);
    return v;
}

} // namespace

sliding_window::digest sliding_window::digest_of(std::string_view key) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    digest d{};
    if (EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr) == 1 && len >= sizeof d)
        std::memcpy(d.data(), md, sizeof d);
    return d;
}

rate_verdict sliding_window::hit(std::string_view key, time_point now, std::size_t limit,
                                 std::chrono::seconds window, bool enforce) {
    if (hits_.size() >= sweep_at_ || (now >= sweep_due_ && !hits_.empty())) sweep(now, window);
    auto& q = hits_[digest_of(key)];
    expire(q, now, window);

    if (enforce && q.size() >= limit) {
        auto v = verdict_of(q, now, limit, window);
        v.allowed = false;
        v.remaining = 0;
        auto frees_at = q.empty() ? now + window : q.front() + window;
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(frees_at - now).count();
        v.retry_after_s = wait <= 0 ? 1 : (wait + 999) / 1000;
        return v;
    }
    q.push_back(now);
    if (!enforce && q.size() > limit) q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(q.size() - limit));
    return verdict_of(q, now, limit, window);
}

rate_verdict sliding_window::peek(std::string_view key, time_point now, std::size_t limit,
                                  std::chrono::seconds window) const {
    auto it = hits_.find(digest_of(key));
    if (it == hits_.end()) return verdict_of({}, now, limit, window);
    auto q = it->second;
    expire(q, now, window);
    return verdict_of(q, now, limit, window);
}

void sliding_window::clear() {
    hits_.clear();
    sweep_at_ = initial_sweep;
    sweep_due_ = {};
}

// Called when the table has doubled since the last sweep (so its cost is
// spread over the requests that grew it), and once a window has passed since
// the last one (so that keys gone quiet leave with their window).
void sliding_window::sweep(time_point now, std::chrono::seconds window) {
    const bool at_cap = hits_.size() >= max_keys;
    std::erase_if(hits_, [&](const auto& kv) { return kv.second.empty() || kv.second.back() + window <= now; });
    if (at_cap && hits_.size() > max_keys / 2) {
        // Keep the half most recently seen, so the next sweep is as far off.
        std::vector<time_point> last;
        last.reserve(hits_.size());
        for (const auto& kv : hits_) last.push_back(kv.second.back());
        auto nth = last.begin() + static_cast<std::ptrdiff_t>(last.size() - max_keys / 2);
        std::nth_element(last.begin(), nth, last.end());
        const auto cut = *nth;
        std::size_t extra = hits_.size() - max_keys / 2;
        // Older than the cut first, then as many of those at the cut as needed.
        auto drop = [&extra](bool candidate) { return candidate && extra > 0 && (--extra, true); };
        std::erase_if(hits_, [&](const auto& kv) { return drop(kv.second.back() < cut); });
        std::erase_if(hits_, [&](const auto& kv) { return drop(kv.second.back() == cut); });
    }
    hits_.rehash(0);  // give back the bucket array of a table that shrank
    sweep_at_ = std::max(initial_sweep, std::min(2 * hits_.size(), max_keys));
    sweep_due_ = now + window;
}

} // namespace chatwire::emulator::detail
