#pragma once
// Proactive pacing: when a response said a key's rate-limit window is used up
// (`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`), the next request with
// that key waits for the reset instead of being sent to earn a 429. Without
// I/O: the loop asks pace() before each attempt and waits or stops as told.
#include <chatwire/http/message.hpp>
#include <chatwire/retry/policy.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace chatwire {

/// What a server last said about a key's window.
struct rate_window {
    std::uint64_t remaining = 0;                    ///< requests left before the reset
    std::chrono::system_clock::time_point reset{};  ///< when the window frees a slot again
};

/// Waited after the announced reset: the server's clock and ours differ by a
/// little, and `X-RateLimit-Reset` counts in whole seconds.
inline constexpr std::chrono::milliseconds pacing_margin{50};

/// The window `headers` announce: `X-RateLimit-Remaining` and
/// `X-RateLimit-Reset` (Unix seconds, or seconds from `now` when small), both
/// needed and both plain numbers; nullopt otherwise.
std::optional<rate_window> read_rate_window(const http::fields& headers, std::chrono::system_clock::time_point now);

enum class pacing_action {
    go,      ///< send now
    wait,    ///< wait `delay`, then send
    refuse,  ///< the reset is further than the policy's max_hint or than the call's time left
};

/// What pace() decided for the next request with a key.
struct pacing_verdict {
    pacing_action action = pacing_action::go;  ///< go, wait or refuse
    std::chrono::milliseconds delay{0};  ///< wait: how long; refuse: how long it would have been
};

/// Before an attempt: what to do given the key's last known window. `time_left`
/// is what remains of the call's deadline (duration::max() for none). A window
/// with requests left, or whose reset has passed, lets the request go.
pacing_verdict pace(const std::optional<rate_window>& window, std::chrono::system_clock::time_point now,
                    std::chrono::steady_clock::duration time_left, const retry_policy& policy);

} // namespace chatwire
