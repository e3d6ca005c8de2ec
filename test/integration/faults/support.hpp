#pragma once
// What the fault matrix and the fault load test share: naming an error for a
// report, counting descriptors, and comparing a reply with the fault-free one.
#include <chatwire/error.hpp>

#include <boost/asio/error.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace chatwire::faults_test {

/// The errc's own name ("idle_timeout"), or category:value for codes from below.
inline std::string error_name(const error_code& ec) {
    if (!ec) return "ok";
    if (ec.category() == chatwire::error_category())
        return std::string(chatwire::errc_name(static_cast<chatwire::errc>(ec.value())));
    if (ec == boost::asio::error::connection_reset) return "connection_reset";
    if (ec == boost::asio::error::eof) return "eof";
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

/// Open descriptors of this process (the directory's own is counted every
/// time, so two counts compare).
inline std::size_t open_fds() {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

/// Raises the descriptor limit towards `wanted` (the hard limit too, where the
/// process may); returns the soft limit in force.
inline std::size_t raise_fd_limit(std::size_t wanted) {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < wanted) {
        rlimit more = rl;
        more.rlim_max = more.rlim_cur = wanted;
        if (::setrlimit(RLIMIT_NOFILE, &more) == 0) return wanted;  // privileged: both raised
    }
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

inline bool is_prefix(std::string_view text, std::string_view of) { return of.substr(0, text.size()) == text; }

/// How a received token sequence compares with the reference one: the tokens
/// that match it in order, those that repeat one already received, those that
/// stand where another belongs (or beyond the end).
struct token_check {
    std::size_t matched = 0, duplicated = 0, lost = 0;
};

inline token_check compare_tokens(const std::vector<std::string>& got, const std::vector<std::string>& ref) {
    token_check c;
    std::size_t r = 0;
    for (const auto& t : got) {
        if (r < ref.size() && t == ref[r]) {
            ++c.matched;
            ++r;
        } else if (r > 0 && t == ref[r - 1]) {
            ++c.duplicated;
        } else {
            ++c.lost;  // a token out of place means one was skipped (or one came from nowhere)
            ++r;
        }
    }
    return c;
}

} // namespace chatwire::faults_test
