// Memory under attack: the process hosting an in-process emulator is measured
// (VmRSS of /proc/self/status) before, during and after each attack, and must
// come back near its baseline. "After" figures are taken after malloc_trim(0);
// the raw figure is logged beside them. Beside RSS, the heap in use
// (mallinfo2) must come back too: it tells what the emulator still holds
// from what the allocator keeps cached for the next burst.
#define BOOST_TEST_MODULE stress_emulator_rss
#include "fixture.hpp"
#include "raw_socket.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <malloc.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace emu = chatwire::emulator;
using namespace std::chrono_literals;

namespace {

constexpr long slack_kib = 16 * 1024;  // "near the baseline"
// Waits that end as soon as their condition holds: long enough for a slow
// (sanitized or busy) machine, as no figure here depends on the time taken.
constexpr auto io_limit = 30s;
constexpr auto settle_limit = 60s;

long heap_in_use_kib() {
    auto mi = ::mallinfo2();
    return static_cast<long>((mi.uordblks + mi.hblkhd) / 1024);
}

long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

long trimmed_rss_kib() {
    ::malloc_trim(0);
    return rss_kib();
}

// Samples RSS every 10 ms while alive; keeps the highest.
class peak_sampler {
public:
    peak_sampler() : thread_([this] {
        while (!done_) {
            peak_ = std::max(peak_.load(), rss_kib());
            std::this_thread::sleep_for(10ms);
        }
    }) {}
    ~peak_sampler() { stop(); }
    long stop() {
        if (thread_.joinable()) {
            done_ = true;
            thread_.join();
        }
        return peak_;
    }

private:
    std::atomic<bool> done_{false};
    std::atomic<long> peak_{0};
    std::thread thread_;
};

struct figures {
    long baseline = 0, peak = 0, after_raw = 0, after = 0;
    long heap_baseline = heap_in_use_kib(), heap_after = 0;
    void measure_after() {
        after_raw = rss_kib();
        after = trimmed_rss_kib();
        heap_after = heap_in_use_kib();
    }
    void log(const char* attack, std::chrono::milliseconds took) const {
        BOOST_TEST_MESSAGE(attack << ": RSS baseline " << baseline / 1024 << " MiB, peak " << peak / 1024
                                  << " MiB, after " << after_raw / 1024 << " MiB (" << after / 1024
                                  << " MiB after malloc_trim); heap in use " << heap_baseline / 1024 << " -> "
                                  << heap_after / 1024 << " MiB; " << took.count() << " ms");
    }
};

std::int64_t open_connections(const running_emulator& e) {
    emu_test::raw_socket s(e.srv->port());
    s.send("GET /_emulator/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n" + e.admin_line() + "Connection: close\r\n\r\n", io_limit);
    auto r = emu_test::parse_response(s.read_response(io_limit));
    if (r.status != 200) return -1;
    return json::parse(r.body).as_object().at("open_connections").as_int64();
}

bool wait_for_idle(const running_emulator& e, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (open_connections(e) == 1) return true;  // only the stats request itself
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

// Runs `work(i)` for i in [0, n) on `threads` threads.
template <class F>
void in_parallel(std::size_t n, std::size_t threads, F work) {
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (std::size_t i = t; i < n; i += threads) work(i);
        });
    for (auto& th : pool) th.join();
}

// Sends `count` requests made by `make(i)` over `connections` keep-alive
// connections; returns how many were answered with `status`.
template <class Make>
std::size_t keep_alive_requests(std::uint16_t port, std::size_t count, std::size_t connections, int status, Make make) {
    std::atomic<std::size_t> ok{0};
    in_parallel(connections, connections, [&](std::size_t c) {
        auto s = std::make_unique<emu_test::raw_socket>(port);
        for (std::size_t i = c; i < count; i += connections) {
            if (s->send(make(i), io_limit) == 0) break;
            auto r = emu_test::parse_response(s->read_response(io_limit));
            if (r.status == status) ++ok;
        }
    });
    return ok;
}

} // namespace

BOOST_AUTO_TEST_SUITE(emulator_rss)

// 64 connections with a wrong key each declare a 32 MiB body and send 2 MiB
// of it. The key is refused on the head, so no body is ever held.
BOOST_AUTO_TEST_CASE(wrong_keys_with_large_bodies, *boost::unit_test::timeout(120)) {
    auto o = plain_options();
    o.api_key = "right";
    running_emulator e(o);
    const auto port = e.srv->port();
    const auto start = std::chrono::steady_clock::now();
    figures f;
    f.baseline = trimmed_rss_kib();
    const std::string chunk(2u << 20, 'x');
    std::vector<std::unique_ptr<emu_test::raw_socket>> held(64);
    {
        peak_sampler peak;
        in_parallel(held.size(), 16, [&](std::size_t i) {
            held[i] = std::make_unique<emu_test::raw_socket>(port);
            held[i]->send(emu_test::request_text("POST", "/api/v1/chatbots/a/chat", "Authorization: Bearer wrong\r\n",
                                                 "", 32u << 20),
                          1s);
            held[i]->send(chunk, 1500ms);
        });
        std::this_thread::sleep_for(300ms);  // all of them still open on our side
        f.peak = peak.stop();
    }
    held.clear();
    BOOST_TEST(wait_for_idle(e, settle_limit));
    f.measure_after();
    f.log("64 wrong-key connections x 2 MiB of a 32 MiB body",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
    BOOST_TEST(f.peak - f.baseline < slack_kib);
    BOOST_TEST(f.after - f.baseline < slack_kib);
    BOOST_TEST(f.heap_after - f.heap_baseline < 4 * 1024);
}

// 16 clients ask for a stream holding a 4 MiB event and never read. The write
// timeout closes them while they are still connected.
BOOST_AUTO_TEST_CASE(clients_that_never_read, *boost::unit_test::timeout(120)) {
    auto o = plain_options();
    o.write_timeout = 500ms;
    o.faults_json = R"([{"api":"pollybot","kind":"oversized_event","oversized_event":4194304,"events":1}])";
    running_emulator e(o);
    const auto port = e.srv->port();
    const auto start = std::chrono::steady_clock::now();
    figures f;
    f.baseline = trimmed_rss_kib();
    std::vector<std::unique_ptr<emu_test::raw_socket>> held;
    const std::string body = R"({"message":"x","stream":true})";
    {
        peak_sampler peak;
        for (int i = 0; i < 16; ++i) {
            held.push_back(std::make_unique<emu_test::raw_socket>(port, 4096));
            held.back()->send(emu_test::request_text("POST", "/api/v1/chatbots/a/chat", "Authorization: Bearer k\r\n", body),
                              1s);
        }
        // Closed by the server while every client still holds its end.
        BOOST_TEST(wait_for_idle(e, settle_limit));
        f.peak = peak.stop();
    }
    f.measure_after();
    held.clear();
    f.log("16 clients never reading a 4 MiB event",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
    // The 64 MiB of responses were really built (that is the peak), so glibc
    // keeps some of the freed space for the next burst: RSS gets more room,
    // the heap in use none.
    BOOST_TEST(f.after - f.baseline < 2 * slack_kib);
    BOOST_TEST(f.heap_after - f.heap_baseline < 4 * 1024);
}

// 2,000 accepted requests, each with its own 60 KB key: the rate table keeps
// a 16-byte digest per key, not the key.
BOOST_AUTO_TEST_CASE(many_distinct_keys, *boost::unit_test::timeout(120)) {
    running_emulator e(plain_options());
    const auto port = e.srv->port();
    const auto start = std::chrono::steady_clock::now();
    figures f;
    f.baseline = trimmed_rss_kib();
    const std::string key(60'000, 'k');
    std::size_t ok = 0;
    {
        peak_sampler peak;
        ok = keep_alive_requests(port, 2000, 4, 200, [&](std::size_t i) {
            return emu_test::request_text("POST", "/api/v1/chatbots/a/chat",
                                          "Authorization: Bearer " + key + std::to_string(i) + "\r\n", R"({"message":"x"})");
        });
        f.peak = peak.stop();
    }
    BOOST_TEST(ok == 2000u);
    BOOST_TEST(wait_for_idle(e, settle_limit));
    f.measure_after();
    f.log("2000 requests with distinct 60 KB keys",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
    BOOST_TEST(f.after - f.baseline < slack_kib);
    BOOST_TEST(f.heap_after - f.heap_baseline < 4 * 1024);
}

// 4,000 ChatBotKit conversations of 16 KiB each with room for 500: the oldest go.
BOOST_AUTO_TEST_CASE(many_conversations, *boost::unit_test::timeout(120)) {
    auto o = plain_options();
    o.max_conversations = 500;
    running_emulator e(o);
    const auto port = e.srv->port();
    const auto start = std::chrono::steady_clock::now();
    figures f;
    f.baseline = trimmed_rss_kib();
    const std::string text(16 * 1024, 'm');
    const std::string body = R"({"messages":[{"type":"user","text":")" + text + R"("}]})";
    std::size_t ok = 0;
    {
        peak_sampler peak;
        ok = keep_alive_requests(port, 4000, 4, 200, [&](std::size_t) {
            return emu_test::request_text("POST", "/v1/conversation/create", "Authorization: Bearer k\r\n", body);
        });
        f.peak = peak.stop();
    }
    BOOST_TEST(ok == 4000u);
    BOOST_TEST(wait_for_idle(e, settle_limit));
    f.measure_after();
    f.log("4000 conversations of 16 KiB, 500 kept",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
    BOOST_TEST(f.after - f.baseline < slack_kib);
    BOOST_TEST(f.heap_after - f.heap_baseline < slack_kib);  // 500 x 16 KiB are meant to stay
}

BOOST_AUTO_TEST_SUITE_END()
