#pragma once
// A retry budget shared by a client's calls: a token bucket, as gRPC's retry
// throttling and the AWS SDKs' retry quota do. Every call deposits `ratio`
// tokens, every retry withdraws one, so once the starting balance is spent
// retries are at most `ratio` of the calls: a 429 storm is not multiplied by
// max_attempts. Over any run of N calls, retries <= initial + ratio * N.
// Safe to share between threads (one atomic).
#include <atomic>
#include <cstdint>

namespace chatwire {

/// How a retry budget fills and how much it holds.
struct retry_budget_options {
    double ratio = 0.1;     ///< tokens each call deposits (10%)
    double initial = 10;    ///< the balance at start: the retries allowed before any call deposits
    double max_balance = 10;///< the balance never grows beyond this, so a long calm does not bank a storm's worth
};

/// Retries shared by the calls of a client: each call deposits a little, each retry spends one, so a failing server is not hit ever harder. Thread-safe.
class retry_budget {
public:
    /// A full budget with `options`.
    explicit retry_budget(retry_budget_options options = {}) noexcept;

    retry_budget(const retry_budget&) = delete;
    retry_budget& operator=(const retry_budget&) = delete;

    /// A call started: add `ratio` tokens, up to max_balance.
    void deposit() noexcept;
    /// A retry wants to go: takes one token; false (and takes nothing) when
    /// less than one is left.
    bool try_withdraw() noexcept;
    /// The tokens left, for tests and metrics.
    double balance() const noexcept;

private:
    // In thousandths of a token, so that deposits add up exactly.
    static constexpr std::int64_t unit = 1000;
    std::int64_t deposit_;
    std::int64_t max_;
    std::atomic<std::int64_t> balance_;
};

} // namespace chatwire
