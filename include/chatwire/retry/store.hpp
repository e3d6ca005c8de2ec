#pragma once
// Where a client keeps the state its calls share: the retry budget and each
// key's rate-limit window. An interface, so that a store shared by several
// processes (a service's replicas behind one key) can back it; the default
// keeps both in this process.
#include <chatwire/retry/budget.hpp>
#include <chatwire/retry/pacing.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chatwire {

/// Where a client's retry budget and rate-limit windows live: in the process
/// by default (local_retry_store), or in a store shared across processes.
class retry_store {
public:
    virtual ~retry_store() = default;

    /// A call started: the budget earns its share of a retry.
    virtual void deposit() noexcept = 0;
    /// A retry wants to go: true when the budget allows it (and charges it).
    virtual bool try_withdraw() noexcept = 0;

    /// The window a response announced for `key` (an opaque id of an origin
    /// and its credentials, never the credentials themselves).
    virtual void note_window(std::string_view key, const rate_window& window) = 0;
    /// The last window noted for `key`, if any.
    virtual std::optional<rate_window> window(std::string_view key) const = 0;
};

/// The in-process store: a retry_budget and a table of windows. Thread-safe.
class local_retry_store final : public retry_store {
public:
    /// A store whose budget has these settings.
    explicit local_retry_store(retry_budget_options budget = {}) : budget_(budget) {}

    void deposit() noexcept override { budget_.deposit(); }
    bool try_withdraw() noexcept override { return budget_.try_withdraw(); }
    void note_window(std::string_view key, const rate_window& window) override;
    std::optional<rate_window> window(std::string_view key) const override;

    /// The budget, for tests and metrics.
    const retry_budget& budget() const noexcept { return budget_; }

private:
    // Looked up by string_view, without building a string per request.
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    retry_budget budget_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, rate_window, key_hash, std::equal_to<>> windows_;  ///< one entry per key
};

} // namespace chatwire
