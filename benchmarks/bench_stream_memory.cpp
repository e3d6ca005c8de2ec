// Memory per open stream: opens N PollyBot streams at once on one client
// thread against a running `chatwire emulate`, reads the first event of each
// (so every stream is open and mid-reply), holds them all open, samples the
// process's resident set and heap, then drains every stream to its end.
//
//   bench_stream_memory --url URL [--ca PEM_FILE] [--streams N] [--timeout-s S] [--max-opening M]
//                       [--max-handshakes H] [--exit-when-held 1] [--h2-stream-window BYTES]
//
// --max-opening (256): streams being opened at once; the rest wait their turn.
// --max-handshakes: the client's max_concurrent_handshakes (default: the
// library's; 0: no limit).
// --h2-stream-window: the client's http2_stream_window (default: the
// library's), to see what the window costs a held stream.
// --exit-when-held 1: print the figures and exit as soon as every stream is
// held, without draining or freeing them: under a heap profiler (heaptrack)
// what the open streams hold then shows as "leaked", call site by call site.
//
// The baseline is taken after the client exists and one warm-up stream ran to
// its end (TLS context, OpenSSL's lazy init, the pool and the emulator's
// chatbot are then counted in it). Prints `key value` lines, one per figure:
// run by scripts/bench_stream_memory.sh.
#include <chatwire/chat_client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
const std::string chatbot_id = "bench-memory";
const std::string message_text = "Where is my order? Please tell me when it ships.";

struct memory_sample {
    long rss_kib = 0;  ///< VmRSS
    long hwm_kib = 0;  ///< VmHWM: the peak resident set so far
    double heap_kib = 0;  ///< malloc's bytes in use (small chunks + mmapped blocks)
};

long status_field(const std::string& name) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, name.size(), name) == 0 && line.size() > name.size() && line[name.size()] == ':') {
            std::istringstream s(line.substr(name.size() + 1));
            long v = 0;
            s >> v;
            return v;
        }
    }
    return -1;
}

memory_sample sample() {
    memory_sample m;
    m.rss_kib = status_field("VmRSS");
    m.hwm_kib = status_field("VmHWM");
    const struct mallinfo2 mi = mallinfo2();
    m.heap_kib = static_cast<double>(mi.uordblks + mi.hblkhd) / 1024.0;
    return m;
}

// Every stream waits at the gate once its first event arrived; the last one
// to arrive takes the sample and opens the gate.
struct run_state {
    std::size_t want = 0;
    std::size_t arrived = 0;  ///< opened or failed before the gate
    std::size_t opened = 0;
    std::size_t finished = 0;
    std::size_t failed = 0;
    std::size_t events = 0;
    memory_sample held;
    clock_type::time_point t0, t_open;
    asio::steady_timer* gate = nullptr;
    asio::steady_timer* slot = nullptr;  ///< wakes the launcher when a stream is open
    asio::steady_timer* deadline = nullptr;
    bool exit_when_held = false;

    void fail(const char* where, const chatwire::error_code& ec, const chatwire::diagnostics* d) {
        if (++failed <= 3) {
            std::cerr << "bench_stream_memory: " << where << ": " << ec.message();
            if (d) std::cerr << " " << d->to_string();
            std::cerr << "\n";
        }
    }
    /// True for the last one, which opens the gate instead of waiting at it.
    bool arrive() {
        if (slot) slot->cancel();
        if (++arrived < want) return false;
        t_open = clock_type::now();
        held = sample();
        if (exit_when_held) {
            std::printf("held_rss_kib %ld\nheld_heap_kib %.1f\n", held.rss_kib, held.heap_kib);
            std::fflush(stdout);
            std::exit(0);  // no destructors: the streams stay allocated for the profiler's report
        }
        gate->cancel();
        return true;
    }
    void done() {
        if (deadline && finished + failed == want) deadline->cancel();
    }
};

asio::awaitable<void> drain(chatwire::chat_stream& s, run_state& st) {
    for (;;) {
        chatwire::error_code ec;
        chatwire::event ev;
        if (!s.try_next(ec, ev)) std::tie(ec, ev) = co_await s.async_next(tuple_awaitable);
        if (ec == chatwire::errc::end_of_stream) co_return;
        if (ec) {
            st.fail("stream", ec, &s.get_diagnostics());
            co_return;
        }
        ++st.events;
    }
}

// One stream: send, first event, wait for the gate, then read to the end.
asio::awaitable<void> hold_one(chatwire::chat_client& bot, run_state& st, bool gated) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await bot.async_send(message_text, std::string(), diag, tuple_awaitable);
    if (ec) {
        st.fail("send", ec, &diag);
        if (gated) st.arrive();
        st.done();
        co_return;
    }
    auto [ec1, ev] = co_await s.next();
    if (ec1) {
        st.fail("first event", ec1, &s.get_diagnostics());
        if (gated) st.arrive();
        st.done();
        co_return;
    }
    ++st.events;
    if (gated) {
        ++st.opened;
        if (!st.arrive()) co_await st.gate->async_wait(tuple_awaitable);  // cancelled when all are open
    }
    const std::size_t failed_before = st.failed;
    co_await drain(s, st);
    if (st.failed == failed_before) ++st.finished;
    st.done();
}

// Opens the streams at most `max_opening` at a time: thousands of TLS
// handshakes queued at once on one server thread outlast its handshake bound.
asio::awaitable<void> launch(chatwire::chat_client& bot, run_state& st, std::size_t n, std::size_t max_opening) {
    for (std::size_t i = 0; i < n; ++i) {
        while (i - st.arrived >= max_opening) {
            st.slot->expires_at(asio::steady_timer::time_point::max());
            co_await st.slot->async_wait(tuple_awaitable);  // cancelled by the next arrival
        }
        asio::co_spawn(co_await asio::this_coro::executor, hold_one(bot, st, true), asio::detached);
    }
}

void raise_fd_limit(std::size_t need) {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < need + 64)
        std::cerr << "bench_stream_memory: the fd limit " << r.rlim_cur << " is below " << need + 64 << "\n";
}

int usage() {
    std::cerr << "usage: bench_stream_memory --url URL [--ca PEM_FILE] [--streams N] [--timeout-s S] [--max-opening M] "
                 "[--max-handshakes H] [--exit-when-held 1] [--h2-stream-window BYTES]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    std::string url, ca;
    std::size_t n = 2000;
    std::size_t max_opening = 256;
    long timeout_s = 120;
    bool exit_when_held = false;
    std::optional<std::size_t> max_handshakes;
    std::optional<std::uint32_t> stream_window;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        if (a == "--url") url = argv[++i];
        else if (a == "--ca") ca = argv[++i];
        else if (a == "--streams") n = std::strtoul(argv[++i], nullptr, 10);
        else if (a == "--timeout-s") timeout_s = std::strtol(argv[++i], nullptr, 10);
        else if (a == "--exit-when-held") exit_when_held = std::strtol(argv[++i], nullptr, 10) != 0;
        else if (a == "--max-handshakes") max_handshakes = std::strtoul(argv[++i], nullptr, 10);
        else if (a == "--h2-stream-window") stream_window = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        else if (a == "--max-opening") max_opening = std::max<std::size_t>(1, std::strtoul(argv[++i], nullptr, 10));
        else return usage();
    }
    if (url.empty() || n == 0) return usage();
    raise_fd_limit(n);

    asio::io_context io(1);
    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = url;
    o.api_key = "x";
    o.chatbot_id = chatbot_id;
    o.http.max_connections_per_origin = n + 1;
    if (max_handshakes) o.http.max_concurrent_handshakes = *max_handshakes;
    if (stream_window) o.http.http2_stream_window = *stream_window;
    if (!ca.empty()) {
        o.http.tls.use_system_ca = false;  // start-up only: the emulator's certificate is the one trusted
        o.http.tls.extra_ca_file = ca;
    }
    o.retry = chatwire::retry_policy::none();
    // Thousands of handshakes and first replies at once on a loaded machine
    // may take longer than the defaults allow: the run's own bound is the limit.
    o.http.timeouts.connect = std::chrono::seconds(timeout_s);
    o.http.timeouts.first_byte = std::chrono::seconds(timeout_s);
    o.http.timeouts.idle = std::chrono::seconds(timeout_s);
    chatwire::chat_client bot(io.get_executor(), o);

    asio::steady_timer gate(io, asio::steady_timer::time_point::max());
    asio::steady_timer deadline(io, std::chrono::seconds(timeout_s));
    bool timed_out = false;
    deadline.async_wait([&](chatwire::error_code ec) {
        if (ec) return;
        timed_out = true;
        io.stop();
    });

    // Warm-up: one stream to its end.
    run_state warm;
    warm.want = 1;
    warm.gate = &gate;
    asio::co_spawn(io, hold_one(bot, warm, false), asio::detached);
    while (!timed_out && warm.finished + warm.failed < 1) io.run_one();
    if (timed_out || warm.failed) {
        std::cerr << "bench_stream_memory: the warm-up stream failed\n";
        return 1;
    }

    const memory_sample base = sample();
    run_state st;
    st.want = n;
    st.gate = &gate;
    st.deadline = &deadline;
    st.exit_when_held = exit_when_held;
    st.t0 = clock_type::now();
    asio::steady_timer slot(io);
    st.slot = &slot;
    asio::co_spawn(io, launch(bot, st, n, max_opening), asio::detached);
    io.run();
    const auto t_end = clock_type::now();
    const memory_sample after = sample();
    if (timed_out) {
        std::cerr << "bench_stream_memory: timed out after " << timeout_s << " s: " << st.arrived << " of " << n
                  << " streams open, " << st.finished << " finished\n";
        return 1;
    }

    const auto ms = [](clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    const double per = st.opened ? 1.0 / static_cast<double>(st.opened) : 0.0;
    std::printf("streams %zu\n", n);
    std::printf("opened %zu\n", st.opened);
    std::printf("finished %zu\n", st.finished);
    std::printf("failed %zu\n", st.failed);
    std::printf("events %zu\n", st.events + warm.events);
    std::printf("baseline_rss_kib %ld\n", base.rss_kib);
    std::printf("held_rss_kib %ld\n", st.held.rss_kib);
    std::printf("peak_rss_kib %ld\n", st.held.hwm_kib);
    std::printf("after_rss_kib %ld\n", after.rss_kib);
    std::printf("baseline_heap_kib %.1f\n", base.heap_kib);
    std::printf("held_heap_kib %.1f\n", st.held.heap_kib);
    std::printf("after_heap_kib %.1f\n", after.heap_kib);
    std::printf("rss_kib_per_stream %.2f\n", static_cast<double>(st.held.rss_kib - base.rss_kib) * per);
    std::printf("peak_rss_kib_per_stream %.2f\n", static_cast<double>(st.held.hwm_kib - base.rss_kib) * per);
    std::printf("heap_kib_per_stream %.2f\n", (st.held.heap_kib - base.heap_kib) * per);
    std::printf("open_ms %.0f\n", ms(st.t_open - st.t0));
    std::printf("total_ms %.0f\n", ms(t_end - st.t0));
    const auto pool = bot.pool_stats();
    std::printf("connections_opened %zu\n", pool.connections_opened);
    std::printf("http2_connections %zu\n", pool.http2_connections);
    return st.failed == 0 && st.opened == n ? 0 : 1;
}
