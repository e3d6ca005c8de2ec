#pragma once
// The fault script: rules that turn a normal response into a failure, matched
// without any I/O so that they can be tested on their own.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatwire::emulator {

enum class api { vectorshift, chatbotkit, pollybot, admin };

enum class fault_kind {
    status,                  ///< answer with an HTTP status and the API's own error body
    reset_before_response,   ///< read the request, then reset the connection
    reset_after_events,      ///< send the head and N events, then reset
    stall,                   ///< wait `stall_ms` before the head (or after N events)
    truncate_after_events,   ///< end the body after N events, without the terminal one
    drip,                    ///< write `bytes` at a time with `delay_ms` between writes
    malformed_event,         ///< replace event N by one that is not valid JSON
    oversized_event,         ///< insert an event of `bytes` bytes before event N
    in_stream_error,         ///< after N events send the API's in-stream error and end
    /// HTTP/2: RST_STREAM REFUSED_STREAM before answering (the request was
    /// not processed); HTTP/1.1: as reset_before_response.
    refuse_stream,
    /// HTTP/2: GOAWAY (with `h2_code`, NO_ERROR by default) whose last stream
    /// id leaves this request out, unanswered and unprocessed; HTTP/1.1: as
    /// reset_before_response.
    goaway,
};

/// The largest event an `oversized_event` rule may ask for (64 MiB: four times
/// chatwire's own default event limit). A script asking for more is refused
/// when it is loaded.
inline constexpr std::size_t max_fault_event_bytes = std::size_t{64} << 20;

/// One rule of a fault script: which requests it hits, and what it does to them.
struct fault_rule {
    std::optional<enum api> target;      ///< empty: any API
    std::string route;                   ///< "METHOD /template", "/template" or empty
    std::optional<std::uint64_t> times;  ///< empty: never spent
    /// What the rule does.
    fault_kind kind = fault_kind::status;
    // parameters (which ones apply depends on the kind)
    /// The status of a `status` fault.
    int status = 500;
    std::optional<std::uint64_t> retry_after;      ///< seconds
    std::optional<std::uint64_t> ratelimit_reset;  ///< the X-RateLimit-Reset value
    /// Where a 429's retry hint goes ("hint_in": "both", "header", "body" or
    /// "none"): the `Retry-After` header, PollyBot's JSON `retryAfter`.
    bool hint_in_header = true;  ///< the `Retry-After` header
    bool hint_in_body = true;    ///< PollyBot's JSON `retryAfter`
    std::string code;                              ///< provider error code override
    std::string message;                           ///< provider error message override
    std::size_t events = 0;                        ///< N of the *_after_events kinds, the index of malformed/oversized
    /// Whether the script set `events`.
    bool events_given = false;
    /// How long a stall lasts.
    std::chrono::milliseconds stall{0};
    std::size_t bytes = 0;                         ///< drip write size, oversized event size
    std::chrono::milliseconds delay{0};            ///< drip delay between writes
    /// HTTP/2 error code (RFC 9113 §7) of a reset (`reset_after_events`,
    /// INTERNAL_ERROR by default) or of a `goaway` (NO_ERROR by default).
    std::optional<std::uint32_t> h2_code;
    std::uint64_t hits = 0;                        ///< how many requests it has hit so far
};

/// Parses a JSON array of rules, e.g.
/// `[{"api":"pollybot","route":"POST /api/v1/chatbots/{id}/chat","times":2,
///    "kind":"status","status":429,"retry_after":3}]`.
/// Throws std::invalid_argument naming the offending rule and field.
std::vector<fault_rule> parse_fault_rules(std::string_view json);

std::string_view to_string(fault_kind k) noexcept;
std::string_view to_string(api a) noexcept;

/// The ordered fault script; matching consumes one use of every rule it returns.
class fault_script {
public:
    /// Replaces the whole script.
    void replace(std::vector<fault_rule> rules) { rules_ = std::move(rules); }
    /// Removes every rule.
    void clear() { rules_.clear(); }
    /// The rules, in order, with their hit counts.
    const std::vector<fault_rule>& rules() const noexcept { return rules_; }
    /// The rules that hit a request to `a` on route key `route_key`
    /// ("POST /api/v1/chatbots/{id}/chat"), in script order; each use is counted.
    std::vector<fault_rule> match(enum api a, std::string_view route_key);

private:
    std::vector<fault_rule> rules_;
};

} // namespace chatwire::emulator
