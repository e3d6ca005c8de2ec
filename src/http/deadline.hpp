#pragma once
// The per-stage timeouts of one operation, bounded by its total deadline.
#include <chatwire/error.hpp>

#include <algorithm>
#include <chrono>

namespace chatwire::http::detail {

class deadline {
public:
    using clock = std::chrono::steady_clock;

    /// `total` of 0 (or more than a year) is no deadline.
    explicit deadline(std::chrono::milliseconds total) : end_(after(clock::now(), total)) {}
    explicit deadline(clock::time_point end) : end_(end) {}

    /// The end of a stage of length `stage` that starts now (0: no end of its own).
    static clock::time_point after(clock::time_point now, std::chrono::milliseconds stage) {
        constexpr auto unlimited = std::chrono::hours(24 * 366);
        return stage.count() <= 0 || stage > unlimited ? clock::time_point::max() : now + stage;
    }

    /// The expiry for a stage of length `stage`: whichever comes first of the
    /// stage's own limit and the total deadline. Remembers which one bounds it
    /// so that a timeout can be reported as the right error.
    clock::time_point arm(std::chrono::milliseconds stage, errc stage_error) {
        return arm_until(after(clock::now(), stage), stage_error);
    }

    /// The same for a stage whose end was fixed earlier (one limit for the
    /// several steps of a stage, such as resolve, connect and handshake).
    clock::time_point arm_until(clock::time_point stage_end, errc stage_error) {
        if (end_ <= stage_end) {
            armed_error_ = errc::total_timeout;
            return end_;
        }
        armed_error_ = stage_error;
        return stage_end;
    }

    /// The error to report when the last armed expiry fired.
    errc timeout_error() const noexcept { return armed_error_; }
    clock::time_point end() const noexcept { return end_; }

private:
    clock::time_point end_;
    errc armed_error_ = errc::total_timeout;
};

} // namespace chatwire::http::detail
