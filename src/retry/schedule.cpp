#include <chatwire/retry/hints.hpp>
#include <chatwire/retry/schedule.hpp>

#include <algorithm>
#include <random>

namespace chatwire {

namespace {

// One generator a thread, seeded once: the library starts no threads but may
// be used from several, and a schedule per call must not cost a getrandom.
std::uint64_t thread_random() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return engine();
}

} // namespace

retry_schedule::retry_schedule(const retry_policy& policy, retry_budget* budget, clock::time_point deadline,
                               now_fn now, random_fn random)
    : policy_(policy),
      budget_(budget),
      deadline_(deadline),
      now_(now ? std::move(now) : now_fn(&clock::now)),
      random_(random ? std::move(random) : random_fn(&thread_random)) {
    if (budget_) budget_->deposit();
}

retry_schedule::retry_schedule(const retry_policy& policy, retry_store* store, clock::time_point deadline, now_fn now,
                               random_fn random)
    : retry_schedule(policy, static_cast<retry_budget*>(nullptr), deadline, std::move(now), std::move(random)) {
    store_ = store;
    if (store_) store_->deposit();
}

std::chrono::milliseconds retry_schedule::jittered(int retry) {
    const auto ceiling = backoff_ceiling(policy_, retry).count();
    if (ceiling <= 0) return std::chrono::milliseconds(0);
    // Modulo bias is below 2^-40 for any ceiling a policy can hold.
    return std::chrono::milliseconds(static_cast<std::int64_t>(random_() % (static_cast<std::uint64_t>(ceiling) + 1)));
}

std::optional<std::chrono::milliseconds> retry_schedule::next_delay(error_code& ec, const failure_info& info,
                                                                    diagnostics& diag) {
    ++failures_;
    diag.retry_after = info.hint;
    auto stop = [this](retry_reason r) -> std::optional<std::chrono::milliseconds> {
        reason_ = r;
        return std::nullopt;
    };

    const auto verdict = classify(ec, info, diag, policy_);
    if (!verdict.retry) return stop(verdict.reason);
    if (failures_ >= policy_.max_attempts) return stop(retry_reason::attempts_exhausted);
    if (info.hint && (*info.hint > policy_.max_hint || *info.hint > max_plausible_hint)) {
        ec = errc::rate_limited;  // the server wants longer than the caller is willing to wait
        return stop(retry_reason::hint_too_long);
    }

    auto delay = jittered(failures_);
    if (info.hint) delay = std::max(delay, *info.hint);
    const auto now = now_();
    const bool bounded = deadline_ != clock::time_point::max();
    if (bounded && (deadline_ <= now || deadline_ - now <= delay)) return stop(retry_reason::deadline);

    // Last, so that a retry that will not happen for another reason costs no token.
    if ((budget_ && !budget_->try_withdraw()) || (store_ && !store_->try_withdraw())) {
        ec = errc::retry_budget_exhausted;
        return stop(retry_reason::budget_exhausted);
    }
    reason_ = verdict.reason;
    return delay;
}

} // namespace chatwire
