#include <chatwire/retry/policy.hpp>

#include <algorithm>

namespace chatwire {

std::chrono::milliseconds backoff_ceiling(const retry_policy& policy, int retry) noexcept {
    const auto base = std::max<std::int64_t>(0, policy.base_delay.count());
    const auto cap = std::max<std::int64_t>(0, policy.max_delay.count());
    if (retry < 1 || base == 0) return std::chrono::milliseconds(std::min(base, cap));
    // Double until the cap is reached, never past it: no shift can overflow.
    std::int64_t d = base;
    for (int i = 1; i < retry && d < cap; ++i) d = d > cap / 2 ? cap : d * 2;
    return std::chrono::milliseconds(std::min(d, cap));
}

} // namespace chatwire
