#pragma once
// A clock that moves only when told and a random source that replays values:
// the schedule's tests are then exact.
#include <chatwire/retry/schedule.hpp>

#include <cstdint>
#include <vector>

namespace chatwire::test {

struct fake_clock {
    retry_schedule::clock::time_point now = retry_schedule::clock::time_point(std::chrono::hours(1));
    retry_schedule::now_fn fn() {
        return [this] { return now; };
    }
};

// Replays `values` in a loop.
struct fake_random {
    std::vector<std::uint64_t> values{0};
    std::size_t next = 0;
    retry_schedule::random_fn fn() {
        return [this] { return values[next++ % values.size()]; };
    }
};

} // namespace chatwire::test
