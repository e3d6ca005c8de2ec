#pragma once
// One call's retry schedule, without I/O: after each failed attempt it says
// how long to wait before the next one, or that the call ends here (and with
// which code). The loop that drives it:
//
//   retry_schedule sched(policy, &budget, deadline);
//   for (;;) {
//       ++diag.attempts;
//       ec = co_await exchange(...);
//       if (!ec) break;
//       failure_info info{...};  info.hint = diag.retry_after;
//       auto d = sched.next_delay(ec, info, diag);
//       if (!d) break;           // ec is the code the call ends with
//       co_await timer.wait(*d);
//   }
//
// The delay is max(hint, backoff): the server's hint is honoured in full,
// never shortened by jitter, and a shorter hint (or 0) does not undercut the
// backoff. The backoff is full jitter: uniform in [0, backoff_ceiling(n)].
#include <chatwire/error.hpp>
#include <chatwire/retry/budget.hpp>
#include <chatwire/retry/classify.hpp>
#include <chatwire/retry/policy.hpp>
#include <chatwire/retry/store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

namespace chatwire {

/// The waits between the attempts of one call: backoff, server hints and the deadline.
class retry_schedule {
public:
    /// The clock waits are measured on.
    using clock = std::chrono::steady_clock;
    /// The current time (replaceable in tests).
    using now_fn = std::function<clock::time_point()>;
    /// Uniformly distributed 64-bit values.
    using random_fn = std::function<std::uint64_t()>;

    /// Counts the call in `budget` (when not null). `deadline` is the call's
    /// own: no retry is scheduled that would start at or after it. An empty
    /// `now` is steady_clock::now; an empty `random` is a per-thread generator.
    retry_schedule(const retry_policy& policy, retry_budget* budget,
                   clock::time_point deadline = clock::time_point::max(), now_fn now = {}, random_fn random = {});
    /// The same with the budget of a retry_store (when not null).
    retry_schedule(const retry_policy& policy, retry_store* store,
                   clock::time_point deadline = clock::time_point::max(), now_fn now = {}, random_fn random = {});
    /// Without any budget.
    retry_schedule(const retry_policy& policy, std::nullptr_t,
                   clock::time_point deadline = clock::time_point::max(), now_fn now = {}, random_fn random = {})
        : retry_schedule(policy, static_cast<retry_budget*>(nullptr), deadline, std::move(now), std::move(random)) {}

    /// After a failed attempt: the wait before the next, or nullopt to stop.
    /// On stop, `ec` is what the call ends with: the attempt's own code, or
    /// errc::rate_limited when the hint exceeds policy.max_hint, or
    /// errc::retry_budget_exhausted when the budget refused.
    /// Sets diag.retry_after to info.hint (none when there is none).
    std::optional<std::chrono::milliseconds> next_delay(error_code& ec, const failure_info& info, diagnostics& diag);

    /// Why the last next_delay resent or stopped.
    retry_reason last_reason() const noexcept { return reason_; }
    /// Failed attempts seen so far.
    int failures() const noexcept { return failures_; }

private:
    std::chrono::milliseconds jittered(int retry);

    retry_policy policy_;
    retry_budget* budget_ = nullptr;
    retry_store* store_ = nullptr;
    clock::time_point deadline_;
    now_fn now_;
    random_fn random_;
    int failures_ = 0;
    retry_reason reason_ = retry_reason::not_retryable;
};

} // namespace chatwire
