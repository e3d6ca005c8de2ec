#pragma once
// The per-stage timeouts of one operation, bounded by its total deadline.
#include <chatwire/error.hpp>

#include <algorithm>
#include <chrono>

namespace chatwire::http::detail {

class deadline {
public:
    using clock = std::chrono::steady_clock;

    explicit deadline(std::chrono::milliseconds total)
        : end_(total.count() > 0 && total < std::chrono::hours(24 * 366) ? clock::now() + total
                                                                          : clock::time_point::max()) {}

    /// The expiry for a stage of length `stage`: whichever comes first of the
    /// stage's own limit and the total deadline. Remembers which one bounds it
    /// so that a timeout can be reported as the right error.
    /// A stage of 0 (or more than a year) has no limit of its own.
    clock::time_point arm(std::chrono::milliseconds stage, errc stage_error) {
        auto now = clock::now();
        constexpr auto unlimited = std::chrono::hours(24 * 366);
        auto stage_end = stage.count() <= 0 || stage > unlimited ? clock::time_point::max() : now + stage;
        if (end_ <= stage_end) {
            armed_error_ = errc::total_timeout;
            return std::max(end_, now);
        }
        armed_error_ = stage_error;
        return stage_end;
    }

    /// The error to report when the last armed expiry fired.
    errc timeout_error() const noexcept { return armed_error_; }
    clock::time_point end() const noexcept { return end_; }
    bool expired() const noexcept { return clock::now() >= end_; }

private:
    clock::time_point end_;
    errc armed_error_ = errc::total_timeout;
};

} // namespace chatwire::http::detail
