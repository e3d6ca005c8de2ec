// Retry amplification under a storm: every request the emulator gets is
// answered 429 (a fault rule set by scripts/bench_retry.sh), and one
// chat_client with the default retry policy and its shared retry budget makes
// `--calls` calls, `--conc` at a time. Amplification = attempts ÷ calls: 1.0
// means no retry went out; max_attempts (3) means the storm was tripled.
//
//   bench_retry --url http://127.0.0.1:PORT [--calls N] [--conc C] [--delay-ms D] [--timeout-s S]
//
// --delay-ms caps the backoff (the policy's base and max delay) so that the
// run is short; the budget, not the delay, decides how many retries go out.
// Prints RESULT calls=N failed=F attempts=A budget_refusals=B seconds=S, the
// attempts as counted by the client's attempt observer (the script checks
// them against the emulator's own count of the rule's hits).
#include <chatwire/chat_client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace asio = boost::asio;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct tally {
    std::size_t next = 0, calls = 0, done = 0, failed = 0, budget_refusals = 0, attempts = 0, unexpected = 0;
};

asio::awaitable<void> caller(chatwire::chat_client& bot, tally& t) {
    while (t.next < t.calls) {
        ++t.next;
        chatwire::diagnostics diag;
        auto [ec, reply] = co_await bot.async_send_whole("Hello?", std::string(), diag, tuple_awaitable);
        ++t.done;
        if (!ec) continue;  // the storm lets nothing through: counted below as unexpected
        ++t.failed;
        if (ec == chatwire::errc::retry_budget_exhausted) ++t.budget_refusals;
        else if (ec != chatwire::errc::rate_limited && ++t.unexpected <= 3)
            std::cerr << "bench_retry: " << ec.message() << " " << diag.to_string() << "\n";
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string url;
    std::size_t calls = 1000, conc = 10;
    long delay_ms = 2, timeout_s = 120;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--url") url = v;
        else if (a == "--calls") calls = std::strtoul(v.c_str(), nullptr, 10);
        else if (a == "--conc") conc = std::max<std::size_t>(1, std::strtoul(v.c_str(), nullptr, 10));
        else if (a == "--delay-ms") delay_ms = std::atol(v.c_str());
        else if (a == "--timeout-s") timeout_s = std::atol(v.c_str());
        else {
            std::cerr << "usage: bench_retry --url URL [--calls N] [--conc C] [--delay-ms D] [--timeout-s S]\n";
            return 2;
        }
    }
    if (url.rfind("http://127.0.0.1:", 0) != 0) {
        std::cerr << "bench_retry: --url must be http://127.0.0.1:PORT\n";
        return 2;
    }
    asio::io_context io(1);
    tally t;
    t.calls = calls;
    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = url;
    o.api_key = "x";
    o.chatbot_id = "bench-retry";
    o.http.max_connections_per_origin = conc;
    o.retry.base_delay = std::chrono::milliseconds(delay_ms);  // everything else: the defaults
    o.retry.max_delay = std::chrono::milliseconds(delay_ms);
    o.on_attempt = [&](const chatwire::attempt_report&) { ++t.attempts; };
    chatwire::chat_client bot(io.get_executor(), o);

    asio::steady_timer deadline(io, std::chrono::seconds(timeout_s));
    bool timed_out = false;
    deadline.async_wait([&](chatwire::error_code ec) {
        if (!ec) {
            timed_out = true;
            io.stop();
        }
    });
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t running = conc;
    for (std::size_t i = 0; i < conc; ++i)
        asio::co_spawn(io, caller(bot, t), [&](std::exception_ptr) {
            if (--running == 0) deadline.cancel();
        });
    io.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("RESULT calls=%zu failed=%zu attempts=%zu budget_refusals=%zu unexpected=%zu seconds=%.3f\n", t.done,
                t.failed, t.attempts, t.budget_refusals, t.unexpected, seconds);
    return timed_out || t.unexpected ? 1 : 0;
}
