#pragma once
// PollyBot's per-key sliding window: a request counts against the limit for
// `window` after it was accepted; refused requests do not count.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace chatwire::emulator::detail {

struct rate_verdict {
    bool allowed = true;
    std::size_t limit = 0, remaining = 0, used = 0;
    std::int64_t reset_epoch_s = 0;   ///< when the oldest counted request leaves the window
    std::int64_t retry_after_s = 0;   ///< when refused: seconds until one slot frees
};

class sliding_window {
public:
    using time_point = std::chrono::system_clock::time_point;
    /// Counts a request by `key` at `now`. When `enforce` is false the request
    /// is always allowed and the window keeps at most `limit` entries.
    rate_verdict hit(const std::string& key, time_point now, std::size_t limit,
                     std::chrono::seconds window, bool enforce);
    void clear() { hits_.clear(); }

private:
    std::unordered_map<std::string, std::deque<time_point>> hits_;
};

} // namespace chatwire::emulator::detail
