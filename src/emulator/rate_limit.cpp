#include "rate_limit.hpp"

namespace chatwire::emulator::detail {

namespace {
std::int64_t ceil_seconds(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    return (ms + 999) / 1000;
}
} // namespace

rate_verdict sliding_window::hit(const std::string& key, time_point now, std::size_t limit,
                                 std::chrono::seconds window, bool enforce) {
    auto& q = hits_[key];
    while (!q.empty() && q.front() + window <= now) q.pop_front();

    rate_verdict v;
    v.limit = limit;
    if (enforce && q.size() >= limit) {
        v.allowed = false;
        v.used = q.size();
        v.remaining = 0;
        auto frees_at = q.empty() ? now + window : q.front() + window;
        v.reset_epoch_s = ceil_seconds(frees_at);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(frees_at - now).count();
        v.retry_after_s = wait <= 0 ? 1 : (wait + 999) / 1000;
        return v;
    }
    q.push_back(now);
    while (!enforce && q.size() > limit) q.pop_front();
    v.used = q.size();
    v.remaining = limit > q.size() ? limit - q.size() : 0;
    v.reset_epoch_s = ceil_seconds(q.front() + window);
    return v;
}

} // namespace chatwire::emulator::detail
