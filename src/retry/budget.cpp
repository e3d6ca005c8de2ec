#include <chatwire/retry/budget.hpp>

#include <algorithm>
#include <cmath>

namespace chatwire {

namespace {

// Options in tokens to thousandths, clamped to sane bounds (no negatives, no
// overflow from a huge or NaN value).
std::int64_t thousandths(double tokens) {
    if (!(tokens > 0)) return 0;
    return static_cast<std::int64_t>(std::llround(std::min(tokens, 1e12) * 1000));
}

} // namespace

retry_budget::retry_budget(retry_budget_options o) noexcept
    : deposit_(thousandths(o.ratio)),
      max_(std::max(thousandths(o.max_balance), thousandths(o.initial))),
      balance_(thousandths(o.initial)) {}

void retry_budget::deposit() noexcept {
    auto cur = balance_.load(std::memory_order_relaxed);
    while (cur < max_ && !balance_.compare_exchange_weak(cur, std::min(max_, cur + deposit_),
                                                         std::memory_order_relaxed)) {}
}

bool retry_budget::try_withdraw() noexcept {
    auto cur = balance_.load(std::memory_order_relaxed);
    while (cur >= unit) {
        if (balance_.compare_exchange_weak(cur, cur - unit, std::memory_order_relaxed)) return true;
    }
    return false;
}

double retry_budget::balance() const noexcept {
    return static_cast<double>(balance_.load(std::memory_order_relaxed)) / unit;
}

} // namespace chatwire
