#pragma once
// Which failures are safe to send again. The rule: resend when the server
// certainly did not act on the request; when it may have (the request went
// out and no clear refusal came back), resend only an idempotent request or
// when the policy opts in. docs/retries.md has the table.
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>
#include <chatwire/retry/policy.hpp>

#include <chrono>
#include <iosfwd>
#include <optional>

namespace chatwire {

/// What the I/O loop knows about one failed attempt besides its error code.
struct failure_info {
    /// The request's method.
    http::verb method = http::verb::post;
    /// The request is safe to repeat although its method is not idempotent
    /// (say, it carries an idempotency key).
    bool idempotent = false;
    bool request_written = false;     ///< the whole request went out
    bool response_started = false;    ///< at least one response byte arrived
    bool connection_reused = false;   ///< the attempt ran on a pooled keep-alive connection
    bool delivered_to_user = false;   ///< a stream's first event already reached the user
    /// The server's hint for this attempt (what the error mapper put in
    /// diagnostics::retry_after), nullopt when it gave none.
    std::optional<std::chrono::milliseconds> hint;
};

enum class retry_reason {
    // resent
    rate_limited,      ///< 429: refused before acting
    unavailable,       ///< 503: refused before acting
    not_sent,          ///< refused connection, or failed before the request was fully written
    stale_connection,  ///< a reused connection closed before any response byte
    ambiguous_allowed, ///< the server may have acted, but the request is idempotent or the policy opts in
    // not resent
    ambiguous,         ///< the server may have acted and the request is not idempotent
    not_retryable,     ///< a resend would fail the same way: auth, validation, not found, TLS, limits...
    quota,             ///< a plan or credit limit (quota_exceeded, payment_required)
    cancelled,         ///< the caller cancelled
    deadline,          ///< the call's deadline passed, or would before the next attempt
    delivered,         ///< part of a stream already reached the user
    attempts_exhausted,///< the policy's max_attempts were made
    hint_too_long,     ///< the server asked for a wait beyond the policy's max_hint
    budget_exhausted,  ///< the shared retry budget refused
};

/// Whether to retry a failed attempt, and why.
struct retry_verdict {
    /// Whether to retry.
    bool retry = false;
    /// Why (or why not).
    retry_reason reason = retry_reason::not_retryable;
};

/// Whether the failed attempt may be sent again, by the failure alone (the
/// schedule adds attempts, hints, budget and deadline). The provider's code in
/// `diag` counts: a 429 whose code is a quota (ChatBotKit LIMITS_REACHED) is not
/// resent.
retry_verdict classify(error_code ec, const failure_info& info, const diagnostics& diag, const retry_policy& policy);

/// GET, HEAD, OPTIONS, TRACE, PUT, DELETE (defined with the HTTP messages).
using http::is_idempotent;

/// A short English name, e.g. "rate_limited", for logs.
const char* to_string(retry_reason r) noexcept;
std::ostream& operator<<(std::ostream& os, retry_reason r);

} // namespace chatwire
