#pragma once
// How often and how patiently a call is retried. A plain value: the schedule
// copies it, so one policy can serve many calls.
#include <chrono>

namespace chatwire {

/// How failed calls are retried.
struct retry_policy {
    /// Attempts in all, the first included: 3 means up to 2 retries; 1 (or
    /// less) turns retries off.
    int max_attempts = 3;
    /// The backoff before retry n is drawn uniformly from
    /// [0, min(max_delay, base_delay * 2^(n-1))] ("full jitter").
    std::chrono::milliseconds base_delay{500};
    /// The longest backoff.
    std::chrono::milliseconds max_delay{8000};
    /// The longest server hint (Retry-After and the like) worth waiting for.
    /// A longer one ends the call at once with errc::rate_limited, the hint
    /// kept in diagnostics::retry_after, so the caller can decide; so does any
    /// hint longer than max_plausible_hint (a day), however it is written.
    std::chrono::milliseconds max_hint{60000};
    /// Also resend when the server may have acted on the request (a 500, 502,
    /// 504 or 408, a timeout or a broken connection after the request went out)
    /// even if it is not idempotent: a chat turn may then be answered twice.
    bool retry_ambiguous = false;
    /// Proactive pacing: after a response said the key's window is used up
    /// (`X-RateLimit-Remaining: 0`), wait for its reset before sending the next
    /// request with that key rather than earn a 429. The wait counts against
    /// the call's deadline and max_hint, as a server hint does.
    bool pace = true;

    /// A policy that never retries.
    static constexpr retry_policy none() noexcept {
        retry_policy p;
        p.max_attempts = 1;
        return p;
    }

    /// Whether it retries at all.
    constexpr bool enabled() const noexcept { return max_attempts > 1; }
};

/// The upper bound of the jittered backoff before retry `retry` (1 for the
/// first retry): min(max_delay, base_delay * 2^(retry-1)), without overflow.
std::chrono::milliseconds backoff_ceiling(const retry_policy& policy, int retry) noexcept;

} // namespace chatwire
