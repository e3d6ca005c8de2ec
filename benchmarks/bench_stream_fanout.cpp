// Streams from one client thread against bench_token_server (run by
// scripts/bench_streams.sh), three modes:
//
//   bench_stream_fanout --mode throughput --url URL --streams N [--seconds S] [--server-pid PID]
//     N chat_client (PollyBot) streams at once, each asking for the next reply
//     as soon as one ends, for S seconds after a warm-up reply on every
//     stream (which opens the N connections). Counts the tokens delivered to
//     this code. Prints
//       RESULT mode=throughput streams=N tokens=T replies=R errors=E seconds=W
//              user_s=U sys_s=Y server_cpu_s=C
//   bench_stream_fanout --mode latency --url URL [--streams N] [--seconds S]
//     N paced streams through chat_client; each token's text is the server's
//     CLOCK_MONOTONIC at its write, and the latency is now minus that, taken
//     right after `co_await stream.next()` returns the token.
//   bench_stream_fanout --mode raw --url URL [--seconds S]
//     The same, one stream read by a blocking socket on this thread: send
//     the request, recv(), find each token's digits. The floor.
//     Both print RESULT mode=… tokens=T p50_us=… p90_us=… p99_us=… max_us=…
//
// --protocol h2 (throughput and latency modes): chat_client speaks HTTP/2 by
// prior knowledge (h2c), its streams sharing connections up to the server's
// stream limit; h1 (the default) is HTTP/1.1, one connection per stream.
// --h2-stream-window BYTES: the client's http2_stream_window.
//
// 127.0.0.1 only; every loop stops at its deadline (and at most 1e9 tokens).
#include <chatwire/chat_client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct settings {
    std::string mode = "throughput";
    std::string url;
    std::size_t streams = 1;
    double seconds = 2;
    long server_pid = 0;
    bool http2 = false;
    std::uint32_t stream_window = 0;  // 0: the library's default
};

long long monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

double process_cpu(long pid) {
    if (pid <= 0) return -1;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    double cpu = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i)
        if (i == 14 || i == 15) cpu += std::stod(f);
    return cpu / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct cpu_times {
    double user = 0, sys = 0;
};
cpu_times self_cpu() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
    return {sec(ru.ru_utime), sec(ru.ru_stime)};
}

void raise_fd_limit() {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

chatwire::chat_options options(const settings& s) {
    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = s.url;
    o.api_key = "x";
    o.chatbot_id = "bench";
    o.http.max_connections_per_origin = s.streams + 1;
    o.retry = chatwire::retry_policy::none();
    o.http.protocol = s.http2 ? chatwire::http::protocol::http2 : chatwire::http::protocol::http1;
    if (s.stream_window) o.http.http2_stream_window = s.stream_window;
    return o;
}

struct counts {
    std::size_t tokens = 0, replies = 0, errors = 0;
    clock_type::time_point deadline;
    std::vector<double>* latencies = nullptr;  // latency mode
    void fail(const char* where, const chatwire::error_code& ec, const chatwire::diagnostics& d) {
        if (++errors <= 3) std::cerr << "bench_stream_fanout: " << where << ": " << ec.message() << " " << d.to_string() << "\n";
    }
};

/// Replies on one stream until `replies` are done or the deadline passed.
asio::awaitable<void> stream_loop(chatwire::chat_client& bot, counts& c, std::size_t replies) {
    for (std::size_t r = 0; r < replies && clock_type::now() < c.deadline; ++r) {
        chatwire::diagnostics diag;
        auto [ec, s] = co_await bot.async_send("Tell me a long story.", std::string(), diag, tuple_awaitable);
        if (ec) {
            c.fail("send", ec, diag);
            co_return;
        }
        for (std::size_t guard = 0; guard < 1000000000; ++guard) {
            auto [nec, ev] = co_await s.next();
            if (nec == chatwire::errc::end_of_stream) break;
            if (nec) {
                c.fail("next", nec, s.get_diagnostics());
                co_return;
            }
            if (ev.kind != chatwire::event_kind::token) continue;
            if (c.latencies) {
                const long long now = monotonic_ns();
                c.latencies->push_back(static_cast<double>(now - std::atoll(std::string(ev.text).c_str())) / 1000.0);
            }
            ++c.tokens;
        }
        ++c.replies;
    }
}

int throughput(const settings& s) {
    asio::io_context io(1);
    chatwire::chat_client bot(io.get_executor(), options(s));
    counts warm;
    warm.deadline = clock_type::now() + std::chrono::seconds(120);
    for (std::size_t i = 0; i < s.streams; ++i) asio::co_spawn(io, stream_loop(bot, warm, 1), asio::detached);
    io.run();
    io.restart();
    if (warm.errors) return 1;

    counts run;
    run.deadline = clock_type::now() + std::chrono::microseconds(static_cast<long long>(s.seconds * 1e6));
    const double server0 = process_cpu(s.server_pid);
    const cpu_times c0 = self_cpu();
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < s.streams; ++i) asio::co_spawn(io, stream_loop(bot, run, 1000000), asio::detached);
    io.run();
    const auto t1 = clock_type::now();
    const cpu_times c1 = self_cpu();
    const double server1 = process_cpu(s.server_pid);
    std::printf("RESULT mode=throughput streams=%zu tokens=%zu replies=%zu errors=%zu seconds=%.6f user_s=%.6f "
                "sys_s=%.6f server_cpu_s=%.3f\n",
                s.streams, run.tokens, run.replies, run.errors, std::chrono::duration<double>(t1 - t0).count(),
                c1.user - c0.user, c1.sys - c0.sys, server0 >= 0 && server1 >= 0 ? server1 - server0 : -1.0);
    return run.errors ? 1 : 0;
}

void print_latency(const char* mode, std::vector<double>& v, std::size_t errors) {
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) { return v.empty() ? -1.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]; };
    std::printf("RESULT mode=%s tokens=%zu errors=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", mode, v.size(),
                errors, pct(0.5), pct(0.9), pct(0.99), v.empty() ? -1.0 : v.back());
}

int latency(const settings& s) {
    asio::io_context io(1);
    chatwire::chat_client bot(io.get_executor(), options(s));
    std::vector<double> lat;
    lat.reserve(1 << 20);
    counts warm;
    warm.deadline = clock_type::now() + std::chrono::seconds(60);
    asio::co_spawn(io, stream_loop(bot, warm, 1), asio::detached);  // opens the connection
    io.run();
    io.restart();
    counts run;
    run.latencies = &lat;
    run.deadline = clock_type::now() + std::chrono::microseconds(static_cast<long long>(s.seconds * 1e6));
    for (std::size_t i = 0; i < s.streams; ++i) asio::co_spawn(io, stream_loop(bot, run, 1000000), asio::detached);
    io.run();
    print_latency("latency", lat, run.errors + warm.errors);
    return run.errors ? 1 : 0;
}

/// One stream on a blocking socket: no event loop, no decoder beyond finding digits.
int raw(const settings& s) {
    const auto colon = s.url.rfind(':');
    const int port = std::atoi(s.url.c_str() + colon + 1);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string body = R"({"message":"Tell me a long story."})";
    const std::string req = "POST /api/v1/chatbots/bench/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    std::vector<double> lat;
    lat.reserve(1 << 20);
    const auto deadline = clock_type::now() + std::chrono::microseconds(static_cast<long long>(s.seconds * 1e6));
    static const char marker[] = "\"content\":\"";
    std::string buf;
    char chunk[65536];
    bool warmup = true;  // the first reply opens the path, as for chatwire
    while (clock_type::now() < deadline) {
        if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) return 1;
        buf.clear();
        std::size_t scanned = 0;
        for (bool done = false; !done;) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return 1;
            const long long now = monotonic_ns();
            buf.append(chunk, static_cast<std::size_t>(n));
            for (std::size_t at; (at = buf.find(marker, scanned)) != std::string::npos;) {
                at += sizeof marker - 1;
                const auto end = buf.find('"', at);
                if (end == std::string::npos) break;  // the rest comes with the next recv
                if (!warmup) lat.push_back(static_cast<double>(now - std::atoll(buf.c_str() + at)) / 1000.0);
                scanned = end;
            }
            done = buf.find("\r\n0\r\n\r\n") != std::string::npos;
        }
        warmup = false;
    }
    ::close(fd);
    print_latency("raw", lat, 0);
    return 0;
}

} // namespace

int main(int argc, char** argv) try {
    settings s;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--mode") s.mode = v;
        else if (a == "--url") s.url = v;
        else if (a == "--streams") s.streams = std::max<std::size_t>(1, std::stoul(v));
        else if (a == "--seconds") s.seconds = std::stod(v);
        else if (a == "--server-pid") s.server_pid = std::stol(v);
        else if (a == "--protocol" && (v == "h1" || v == "h2")) s.http2 = v == "h2";
        else if (a == "--h2-stream-window") s.stream_window = static_cast<std::uint32_t>(std::stoul(v));
        else throw std::invalid_argument("unknown argument " + a);
    }
    if (s.url.rfind("http://127.0.0.1:", 0) != 0) throw std::invalid_argument("--url must be http://127.0.0.1:PORT");
    raise_fd_limit();
    if (s.mode == "throughput") return throughput(s);
    if (s.mode == "latency") return latency(s);
    if (s.mode == "raw" && !s.http2) return raw(s);
    throw std::invalid_argument("unknown mode " + s.mode);
} catch (const std::exception& e) {
    std::cerr << "bench_stream_fanout: " << e.what() << "\n";
    return 2;
}
