#include <chatwire/retry/hints.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace chatwire {

namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A plain non-negative decimal: digits, optionally '.' and more digits. No
// sign, exponent, "inf" or "nan", which from_chars alone would accept. Digits
// too many for a double are a number still, and an infinite one.
std::optional<double> parse_number(std::string_view v) {
    v = trim(v);
    if (v.empty() || !is_digit(v.front())) return std::nullopt;
    bool dot = false;
    for (char c : v) {
        if (c == '.' && !dot) dot = true;
        else if (!is_digit(c)) return std::nullopt;
    }
    if (v.back() == '.') return std::nullopt;
    double out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec == std::errc::result_out_of_range) return std::numeric_limits<double>::infinity();
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return out;
}

// A delay of `amount` units of `unit_ms` milliseconds, rounded up (a server
// that asks for 1.2 ms is not answered early), held at hint_ceiling however
// long it is. The comparison is made in double before any integer
// conversion, so nothing wraps. nullopt for a negative amount or NaN.
std::optional<milliseconds> saturated(double amount, double unit_ms) {
    if (!(amount >= 0)) return std::nullopt;
    const double ms = std::ceil(amount * unit_ms);
    if (!(ms < static_cast<double>(hint_ceiling.count()))) return hint_ceiling;
    return milliseconds(static_cast<std::int64_t>(ms));
}

// The delay until an instant, held at hint_ceiling; past instants are "now".
milliseconds until(std::chrono::sys_seconds when, system_clock::time_point now) {
    // Both in milliseconds since the epoch: int64 holds ±292 million years of those.
    const auto delay = std::chrono::duration_cast<milliseconds>(when.time_since_epoch()) -
                       std::chrono::floor<milliseconds>(now.time_since_epoch());
    return std::clamp(delay, milliseconds(0), hint_ceiling);
}

std::optional<std::string_view> header(const http::fields& h, std::string_view name) {
    auto it = h.find(name);
    if (it == h.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
}

// ---- HTTP-date -------------------------------------------------------------

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

constexpr std::array<std::string_view, 7> short_days{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days{"Monday", "Tuesday", "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A left-to-right reader over the date text; every step fails softly.
struct reader {
    std::string_view s;

    bool done() const { return s.empty(); }
    bool peek(char c) const { return !s.empty() && s.front() == c; }
    bool take(char c) {
        if (!peek(c)) return false;
        s.remove_prefix(1);
        return true;
    }
    bool spaces() {  // one or more
        if (!peek(' ')) return false;
        while (take(' ')) {}
        return true;
    }
    std::string_view word() {
        std::size_t n = 0;
        while (n < s.size() && lower(s[n]) >= 'a' && lower(s[n]) <= 'z') ++n;
        auto w = s.substr(0, n);
        s.remove_prefix(n);
        return w;
    }
    // Between min and max digits, as a number.
    std::optional<int> digits(std::size_t min, std::size_t max) {
        std::size_t n = 0;
        int v = 0;
        while (n < s.size() && n < max && is_digit(s[n])) v = v * 10 + (s[n++] - '0');
        if (n < min || (n < s.size() && is_digit(s[n]))) return std::nullopt;
        s.remove_prefix(n);
        return v;
    }
    std::optional<int> month() {
        auto w = word();
        for (std::size_t i = 0; i < months.size(); ++i)
            if (iequals(w, months[i])) return static_cast<int>(i) + 1;
        return std::nullopt;
    }
};

bool is_day_name(std::string_view w) {
    auto match = [w](std::string_view d) { return iequals(w, d); };
    return std::any_of(short_days.begin(), short_days.end(), match) ||
           std::any_of(long_days.begin(), long_days.end(), match);
}

struct hms {
    int h, m, s;
};

std::optional<hms> time_of_day(reader& r) {
    auto h = r.digits(2, 2);
    if (!h || !r.take(':')) return std::nullopt;
    auto m = r.digits(2, 2);
    if (!m || !r.take(':')) return std::nullopt;
    auto s = r.digits(2, 2);
    if (!s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;  // 60: a leap second
    return hms{*h, *m, *s};
}

bool gmt(reader& r) {
    auto z = r.word();
    return iequals(z, "GMT") || iequals(z, "UTC");
}

std::optional<std::chrono::sys_seconds> make_date(int y, int mo, int d, hms t) {
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;  // 31 Feb and the like
    return sys_seconds(sys_days(ymd)) + hours(t.h) + minutes(t.m) + seconds(t.s);
}

// RFC 9110: a two-digit year that looks more than 50 years ahead is in the past.
int widen_year(int yy, system_clock::time_point now) {
    using namespace std::chrono;
    const int current = static_cast<int>(year_month_day(floor<days>(now)).year());
    int y = current / 100 * 100 + yy;
    if (y > current + 50) y -= 100;
    else if (y <= current - 50) y += 100;
    return y;
}

} // namespace

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view value, system_clock::time_point now) {
    reader r{trim(value)};
    if (!is_day_name(r.word())) return std::nullopt;
    std::optional<int> y, mo, d;
    std::optional<hms> t;
    if (r.take(',')) {
        // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" or RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT".
        r.spaces();
        d = r.digits(1, 2);
        if (!d) return std::nullopt;
        if (r.take('-')) {
            mo = r.month();
            if (!mo || !r.take('-')) return std::nullopt;
            const auto before = r.s.size();
            auto yy = r.digits(2, 4);
            const auto width = before - r.s.size();
            if (!yy || width == 3) return std::nullopt;
            y = width == 2 ? widen_year(*yy, now) : *yy;  // four digits: tolerated, taken as written
        } else {
            if (!r.spaces() || !(mo = r.month()) || !r.spaces()) return std::nullopt;
            y = r.digits(4, 4);
        }
        if (!y || !r.spaces() || !(t = time_of_day(r)) || !r.spaces() || !gmt(r)) return std::nullopt;
    } else {
        // asctime "Sun Nov  6 08:49:37 1994".
        if (!r.spaces() || !(mo = r.month()) || !r.spaces() || !(d = r.digits(1, 2)) || !r.spaces() ||
            !(t = time_of_day(r)) || !r.spaces() || !(y = r.digits(4, 4)))
            return std::nullopt;
    }
    if (!r.done()) return std::nullopt;
    return make_date(*y, *mo, *d, *t);
}

std::optional<milliseconds> parse_retry_after_ms(std::string_view value) {
    auto n = parse_number(value);
    if (!n) return std::nullopt;
    return saturated(*n, 1);
}

std::optional<milliseconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
    value = trim(value);
    if (!value.empty() && is_digit(value.front())) {
        auto n = parse_number(value);
        return n ? saturated(*n, 1000) : std::nullopt;
    }
    auto when = parse_http_date(value, now);
    if (!when) return std::nullopt;
    return until(*when, now);
}

std::optional<milliseconds> parse_json_retry_after(const boost::json::value& v) {
    // Compared as numbers of seconds before any conversion: 2^63-1 seconds is
    // a very long wait, not a negative number of milliseconds.
    if (v.is_int64()) return v.as_int64() < 0 ? std::nullopt : saturated(static_cast<double>(v.as_int64()), 1000);
    if (v.is_uint64()) return saturated(static_cast<double>(v.as_uint64()), 1000);
    if (v.is_double()) return saturated(v.as_double(), 1000);  // +inf: held at the ceiling; NaN, negative: none
    if (v.is_string()) {
        auto n = parse_number(std::string_view(v.as_string()));
        return n ? saturated(*n, 1000) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<milliseconds> parse_ratelimit(std::string_view value) {
    // A structured-field list: members split by ',', parameters by ';'.
    // Quoted strings (policy names) may hold either, so track quotes.
    std::optional<double> longest_exhausted, longest;
    bool bad = false;
    auto member = [&](std::string_view m) {
        std::optional<double> t, r;
        std::size_t start = 0;
        bool quoted = false;
        for (std::size_t i = 0; i <= m.size(); ++i) {
            if (i < m.size() && m[i] == '"') quoted = !quoted;
            if (i < m.size() && (quoted || m[i] != ';')) continue;
            auto p = trim(m.substr(start, i - start));
            start = i + 1;
            auto eq = p.find('=');
            if (eq == std::string_view::npos) continue;
            auto key = trim(p.substr(0, eq));
            auto val = trim(p.substr(eq + 1));
            if (key == "t" || key == "reset") {
                t = parse_number(val);
                if (!t) bad = true;
            } else if (key == "r" || key == "remaining") {
                r = parse_number(val);
            }
        }
        if (!t) return;
        longest = std::max(longest.value_or(0), *t);
        if (r && *r == 0) longest_exhausted = std::max(longest_exhausted.value_or(0), *t);
    };
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        if (i < value.size() && value[i] == '"') quoted = !quoted;
        if (i < value.size() && (quoted || value[i] != ',')) continue;
        member(value.substr(start, i - start));
        start = i + 1;
    }
    if (bad) return std::nullopt;  // one garbage reset: trust none of the field
    if (longest_exhausted) return saturated(*longest_exhausted, 1000);
    if (longest) return saturated(*longest, 1000);
    return std::nullopt;
}

std::optional<milliseconds> parse_ratelimit_reset(std::string_view value, system_clock::time_point now) {
    auto n = parse_number(value);
    if (!n) return std::nullopt;
    constexpr double epoch_threshold = 1e9;  // September 2001: anything larger is a Unix time
    if (*n < epoch_threshold) return saturated(*n, 1000);
    if (*n > 253402300799.0) return hint_ceiling;  // after 9999-12-31: further than anything waited for
    const auto whole = static_cast<std::int64_t>(std::ceil(*n));
    return until(std::chrono::sys_seconds(std::chrono::seconds(whole)), now);
}

std::optional<server_hint> find_server_hint(const http::fields& headers, const boost::json::value* body_retry_after,
                                            system_clock::time_point now) {
    if (auto v = header(headers, "retry-after-ms"))
        if (auto d = parse_retry_after_ms(*v)) return server_hint{*d, hint_source::retry_after_ms};
    if (auto v = header(headers, "Retry-After"))
        if (auto d = parse_retry_after(*v, now)) return server_hint{*d, hint_source::retry_after};
    if (body_retry_after)
        if (auto d = parse_json_retry_after(*body_retry_after)) return server_hint{*d, hint_source::body_retry_after};
    if (auto v = header(headers, "RateLimit"))
        if (auto d = parse_ratelimit(*v)) return server_hint{*d, hint_source::ratelimit};
    if (auto v = header(headers, "RateLimit-Reset"))
        if (auto n = parse_number(*v))
            if (auto d = saturated(*n, 1000)) return server_hint{*d, hint_source::ratelimit};
    if (auto v = header(headers, "X-RateLimit-Reset"))
        if (auto d = parse_ratelimit_reset(*v, now)) return server_hint{*d, hint_source::x_ratelimit_reset};
    return std::nullopt;
}

} // namespace chatwire
