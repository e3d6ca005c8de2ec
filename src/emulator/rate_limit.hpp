#pragma once
// PollyBot's per-key sliding window: a request counts against the limit for
// `window` after it was accepted; refused requests do not count.
//
// Keys are whatever clients send, so the table holds a fixed-size digest of
// each key, never the key; keys whose window has emptied are swept out, and
// the number of keys is capped.
#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

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
    /// Beyond this many keys with requests in their window, the half least
    /// recently seen are forgotten (without a configured key every key is
    /// valid, so forgetting one lets nobody through who could not get through anyway).
    static constexpr std::size_t max_keys = 100'000;

    /// Counts a request by `key` at `now`. When `enforce` is false the request
    /// is always allowed and the window keeps at most `limit` entries.
    rate_verdict hit(std::string_view key, time_point now, std::size_t limit, std::chrono::seconds window,
                     bool enforce);
    /// The window of `key` as it stands, without counting anything.
    rate_verdict peek(std::string_view key, time_point now, std::size_t limit, std::chrono::seconds window) const;
    void clear();
    std::size_t keys() const noexcept { return hits_.size(); }

    using digest = std::array<std::uint64_t, 2>;  ///< the first 128 bits of the key's SHA-256
    static digest digest_of(std::string_view key);

private:
    struct digest_hash {
        std::size_t operator()(const digest& d) const noexcept { return static_cast<std::size_t>(d[0]); }
    };
    // A vector, not a deque: most keys hold a handful of times, and a deque
    // costs a 512-byte block even for one.
    std::unordered_map<digest, std::vector<time_point>, digest_hash> hits_;
    std::size_t sweep_at_ = initial_sweep;
    time_point sweep_due_{};
    static constexpr std::size_t initial_sweep = 1024;
    void sweep(time_point now, std::chrono::seconds window);
};

} // namespace chatwire::emulator::detail
