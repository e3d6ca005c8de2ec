#pragma once
// The cancellation sweep, in the spirit of Beast's fail_count: an operation is
// started, the event loop runs k steps (io_context::run_one), then the
// operation's cancellation signal is emitted; k goes 0, 1, 2, ... until the
// operation completes within the k steps, before any cancel. So the cancel
// meets the operation at each of its suspension points in turn. Each run must
// complete exactly once, with errc::cancelled or (when the cancel came too
// late, or was of a type the operation ignores) with success, in bounded time;
// then the caller's check runs: a fresh call on the same client succeeds and
// nothing leaked.
//
// The servers run on the same io_context, so a step is a handler of either
// side; the sweep does not depend on which.
#include "run_coro.hpp"

#include <chatwire/error.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace chatwire::testing {

namespace asio = boost::asio;

/// Open file descriptors of this process (the directory's own descriptor is
/// counted every time, so counts compare).
inline std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

/// Open descriptors, not counting the sockets whose local port is `port`
/// (a server's side, found in /proc/net/tcp): the client's share alone.
inline std::size_t open_fds_except_port(std::uint16_t port) {
    std::set<std::string> server_side;
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // the column names
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        const auto colon = local.find(':');
        if (colon != std::string::npos && std::stoul(local.substr(colon + 1), nullptr, 16) == port)
            server_side.insert("socket:[" + inode + "]");
    }
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(e.path(), ec);
        if (!ec && server_side.count(target.string())) continue;
        ++n;
    }
    return n;
}

/// What the open descriptors are, for a failure message.
inline std::string describe_fds() {
    std::string out;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(e.path(), ec);
        out += e.path().filename().string() + "->" + (ec ? "?" : target.string()) + " ";
    }
    return out;
}

/// Runs handlers until `pred()` holds or `limit` passes; returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return pred();
        if (io.stopped()) io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
}

/// Runs whatever becomes ready during `d` (stray second completions show up here).
inline void settle(asio::io_context& io, std::chrono::milliseconds d = std::chrono::milliseconds(5)) {
    if (io.stopped()) io.restart();
    io.run_for(d);
}

inline const char* type_name(asio::cancellation_type t) {
    if (t == asio::cancellation_type::terminal) return "terminal";
    if (t == asio::cancellation_type::partial) return "partial";
    if (t == asio::cancellation_type::total) return "total";
    return "other";
}

struct sweep_result {
    std::string name;
    asio::cancellation_type type = asio::cancellation_type::terminal;
    int points = 0;     ///< runs in which the cancel met the operation pending
    int cancelled = 0;  ///< of those, completed with errc::cancelled
    int completed = 0;  ///< of those, completed with success anyway (a race, or a type it ignores)
    bool ok = true;
};

inline std::vector<sweep_result>& sweep_log() {
    static std::vector<sweep_result> log;
    return log;
}

/// Starts one run of the operation: it must call `done` exactly once, with
/// the operation's result mapped to {} (success, end of data) or an error.
using start_fn = std::function<void(asio::cancellation_slot slot, std::function<void(error_code)> done)>;
/// After each run: the fresh call and the leak checks (BOOST_TEST inside);
/// false when one failed.
using check_fn = std::function<bool(int k)>;

struct sweep_options {
    asio::cancellation_type type = asio::cancellation_type::terminal;
    int max_steps = 5000;
    std::chrono::milliseconds completion_limit{std::chrono::seconds(10) * chatwire::testing::test_time_scale};
    /// Set when the cancel is emitted, cleared before each run: a loop of
    /// reads leaves on its next result after it (as a user's loop would).
    bool* emitted_flag = nullptr;
    /// When set: a run the cancel met pending must complete within this
    /// time of it, whatever its result. With a server that takes far longer
    /// to finish, a cancel that was lost (the operation ran on to its end)
    /// shows here. Generous, so that slow (sanitizer) builds pass.
    std::chrono::milliseconds prompt{0};
    /// When set, the sweep ends after this many points even if the operation
    /// is still pending: for a server that idles (a stall) once the client
    /// waits, where the later points are all the same one.
    int max_points = 0;
    /// When set, a step that finds nothing ready within this time means the
    /// operation waits on a server that does not answer: the cancel is
    /// emitted there, and that is the last point.
    std::chrono::milliseconds idle_step{0};
};

/// The sweep: returns its result and logs it for the summary.
inline sweep_result sweep(asio::io_context& io, std::string name, const start_fn& start, const check_fn& check,
                          sweep_options opts = {}) {
    sweep_result r;
    r.name = std::move(name);
    r.type = opts.type;
    for (int k = 0;; ++k) {
        if (k > opts.max_steps) {
            BOOST_ERROR(r.name << ": still pending after " << opts.max_steps << " steps");
            r.ok = false;
            break;
        }
        asio::cancellation_signal signal;
        if (opts.emitted_flag) *opts.emitted_flag = false;
        int completions = 0;
        error_code got;
        start(signal.slot(), [&completions, &got](error_code ec) {
            ++completions;
            got = ec;
        });
        if (io.stopped()) io.restart();
        bool idle = false;
        for (int step = 0; step < k && completions == 0; ++step) {
            if (io.stopped()) io.restart();
            // A step waits for the next ready handler; the bound only keeps a
            // broken operation from blocking the sweep.
            if (opts.idle_step.count() > 0) {
                if (io.run_one_for(opts.idle_step) == 0) {
                    idle = true;
                    break;
                }
            } else {
                io.run_one_for(opts.completion_limit);
            }
        }
        const bool emitted = completions == 0;
        const auto emitted_at = std::chrono::steady_clock::now();
        if (emitted) {
            if (opts.emitted_flag) *opts.emitted_flag = true;
            signal.emit(opts.type);
        }
        if (!run_until(io, [&] { return completions > 0; }, opts.completion_limit)) {
            BOOST_ERROR(r.name << " (" << type_name(opts.type) << "): no completion after the cancel at step " << k);
            r.ok = false;
            // Leaving now would let a late completion write into this frame:
            // nothing more can be checked safely.
            std::cout << "sweep: " << r.name << " (" << type_name(opts.type) << ") HUNG at step " << k << std::endl;
            std::abort();
        }
        const auto took = std::chrono::steady_clock::now() - emitted_at;
        if (emitted && opts.prompt.count() > 0 && took > opts.prompt) {
            BOOST_ERROR(r.name << " (" << type_name(opts.type) << "): the cancel at step " << k << " took "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                               << " ms to complete the operation (" << (got ? got.message() : "success") << ")");
            r.ok = false;
        }
        settle(io);
        if (completions != 1) {
            BOOST_ERROR(r.name << ": completed " << completions << " times at step " << k);
            r.ok = false;
        }
        if (emitted) {
            ++r.points;
            if (got == error_code(errc::cancelled)) {
                ++r.cancelled;
            } else if (!got) {
                ++r.completed;
            } else {
                BOOST_ERROR(r.name << " (" << type_name(opts.type) << "): cancel at step " << k << " completed with "
                                   << got.message() << " [" << got.category().name() << ":" << got.value() << "]");
                r.ok = false;
            }
        } else if (got) {
            BOOST_ERROR(r.name << ": uncancelled run failed: " << got.message());
            r.ok = false;
        }
        if (!check(k)) {
            BOOST_TEST_MESSAGE(r.name << ": check failed after the cancel at step " << k);
            r.ok = false;
        }
        if (!emitted) break;  // it finished before the cancel: every suspension point was met
        if (opts.max_points > 0 && r.points >= opts.max_points) break;
        if (idle) break;
    }
    std::cout << "sweep: " << r.name << " (" << type_name(r.type) << "): " << r.points
              << " suspension points, cancelled " << r.cancelled << ", completed anyway " << r.completed << ": "
              << (r.ok ? "ok" : "FAILED") << std::endl;
    sweep_log().push_back(r);
    return r;
}

/// Prints the table of every sweep at the end of the run.
struct summary_printer {
    ~summary_printer() {
        std::cout << "\ncancellation sweep summary\n";
        bool all = true;
        for (const auto& r : sweep_log()) {
            std::cout << "  " << r.name << " [" << type_name(r.type) << "]: " << r.points << " points ("
                      << r.cancelled << " cancelled, " << r.completed << " completed anyway) "
                      << (r.ok ? "ok" : "FAILED") << "\n";
            all = all && r.ok;
        }
        std::cout << (all ? "all ok" : "SOME FAILED") << std::endl;
    }
};

} // namespace chatwire::testing
