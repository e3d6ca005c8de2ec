#pragma once
// The delay a server asks for before the next request, from whichever of its
// hints is present. One parser for all of them, so that every provider client
// reads them the same way and none is trusted blindly.
//
// Precedence, most specific first (the first usable one wins; a garbage value
// is skipped and the next source is tried):
//   1. `retry-after-ms`          milliseconds (a decimal fraction is accepted)
//   2. `Retry-After`             delay-seconds, or an HTTP-date in any of the
//                                three RFC 9110 formats (IMF-fixdate, RFC 850,
//                                asctime)
//   3. the body's `retryAfter`   seconds (PollyBot's 429 JSON)
//   4. `RateLimit: ...;t=N`      IETF draft, seconds until the quota resets;
//      then `RateLimit-Reset`    (its earlier drafts), seconds
//   5. `X-RateLimit-Reset`       Unix seconds when >= 1e9, else seconds
// Only a value that does not parse is ignored: one that is not a plain
// non-negative number or a valid date. A value that parses but is long, even
// beyond what any integer type holds, is a long wait: it is held at
// hint_ceiling, never wrapped, truncated or discarded, so that the schedule
// ends the call with errc::rate_limited at once (it is longer than the
// policy's max_hint) instead of retrying as if no hint had come. A date (or
// Unix time) in the past means "now": a zero delay.
#include <chatwire/http/message.hpp>

#include <boost/json/fwd.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace chatwire {

/// The longest server hint ever waited for, whatever retry_policy::max_hint
/// says: a longer one ends the call at once with errc::rate_limited.
inline constexpr std::chrono::milliseconds max_plausible_hint = std::chrono::hours(24);

/// What a longer hint reads as (a century): long hints keep their length up
/// to here, for diagnostics, and a time point this far ahead still fits the
/// clocks' 64-bit nanoseconds.
inline constexpr std::chrono::milliseconds hint_ceiling = std::chrono::hours(24 * 365 * 100);

enum class hint_source {
    retry_after_ms,     ///< the `retry-after-ms` header
    retry_after,        ///< the `Retry-After` header
    body_retry_after,   ///< the JSON body's `retryAfter` (seconds)
    ratelimit,          ///< the IETF `RateLimit` field's `t` (or `RateLimit-Reset`)
    x_ratelimit_reset,  ///< the `X-RateLimit-Reset` header
};

/// A wait the server asked for.
struct server_hint {
    std::chrono::milliseconds delay;  ///< 0 .. hint_ceiling
    /// Which header or field it came from.
    hint_source source;
};

/// The server's hint, by the precedence above. `body_retry_after` is the
/// JSON body's `retryAfter` value, or nullptr. `now` is the wall clock, for
/// dates and Unix times.
std::optional<server_hint> find_server_hint(const http::fields& headers, const boost::json::value* body_retry_after,
                                            std::chrono::system_clock::time_point now);

// The parsers of each source, each nullopt for a value it does not accept.

/// `retry-after-ms`: non-negative milliseconds, fraction rounded up. Every
/// parser below holds a long value at hint_ceiling.
std::optional<std::chrono::milliseconds> parse_retry_after_ms(std::string_view value);

/// `Retry-After`: delay-seconds or an HTTP-date.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// A JSON `retryAfter`: a non-negative number of seconds (integer, double, or
/// a string holding one).
std::optional<std::chrono::milliseconds> parse_json_retry_after(const boost::json::value& value);

/// The IETF `RateLimit` field: the `t` (or the earlier drafts' `reset`)
/// parameter; of several policies, the longest `t` among those with `r=0`
/// (exhausted), or the longest of all when none says so.
std::optional<std::chrono::milliseconds> parse_ratelimit(std::string_view value);

/// `X-RateLimit-Reset`: Unix seconds when >= 1e9 (2001), else delay seconds.
std::optional<std::chrono::milliseconds> parse_ratelimit_reset(std::string_view value,
                                                               std::chrono::system_clock::time_point now);

/// An HTTP-date in any of RFC 9110's three formats, weekday names checked for
/// spelling but not against the date. A two-digit RFC 850 year is placed within
/// 50 years of `now`, as RFC 9110 asks. Seconds since the epoch in 64 bits, so
/// far dates do not overflow.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view value,
                                                        std::chrono::system_clock::time_point now);

} // namespace chatwire
