// service_fanout: a service that runs many conversations at once on one
// thread. One coroutine starts COUNT conversations (1,000 by default) spread
// over VectorShift, ChatBotKit and PollyBot, all against an emulator running
// in the same process, waits for all of them, and prints tokens per second,
// time-to-first-token and per-token latency percentiles, and errors by kind.
// A progress line is redrawn on stdout when it is a terminal.
//
//   example_service_fanout [COUNT] [TOKEN_DELAY_MS]
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct results {
    std::size_t started = 0, finished = 0, failed = 0, tokens = 0;
    std::vector<double> first_token_ms;  // request sent → first token
    std::vector<double> token_gap_ms;    // between successive tokens of a reply
    std::map<std::string, int> errors;   // by errc name
};

// The errc's name ("rate_limited"), or the category and value of a code from below.
std::string error_name(chatwire::error_code ec) {
    if (ec.category() == chatwire::error_category())
        return std::string(chatwire::errc_name(static_cast<chatwire::errc>(ec.value())));
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

// One conversation: send a message, read the streamed reply to its end.
asio::awaitable<void> conversation(chatwire::chat_client& bot, std::string message, results& r) {
    auto sent = clock_type::now();
    auto last = sent;
    chatwire::diagnostics diag;
    auto [ec, stream] = co_await bot.async_send(std::move(message), "", diag, asio::as_tuple(asio::use_awaitable));
    for (bool first = true; !ec;) {
        auto [nec, ev] = co_await stream.next();
        if (nec == chatwire::errc::end_of_stream) break;
        ec = nec;
        if (ec || ev.kind != chatwire::event_kind::token) continue;
        auto now = clock_type::now();
        std::chrono::duration<double, std::milli> gap = now - last;
        (first ? r.first_token_ms : r.token_gap_ms).push_back(gap.count());
        first = false;
        last = now;
        ++r.tokens;
    }
    if (ec) {
        ++r.failed;
        ++r.errors[error_name(ec)];
    }
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * (v.size() - 1) + 0.5)];
}

void print_summary(results& r, std::size_t count, std::chrono::duration<double> elapsed) {
    std::printf("conversations=%zu ok=%zu failed=%zu tokens=%zu seconds=%.2f tokens_per_s=%.0f\n", count,
                r.finished - r.failed, r.failed, r.tokens, elapsed.count(), r.tokens / elapsed.count());
    for (auto [name, v] : {std::pair{"time_to_first_token_ms", &r.first_token_ms}, {"per_token_ms", &r.token_gap_ms}})
        std::printf("%s p50=%.2f p90=%.2f p99=%.2f\n", name, percentile(*v, .50), percentile(*v, .90),
                    percentile(*v, .99));
    std::printf("errors:");
    for (auto& [name, n] : r.errors) std::printf(" %s=%d", name.c_str(), n);
    std::printf(r.errors.empty() ? " none\n" : "\n");
}

// The service: one client per API, COUNT conversations spread over them,
// then wait until the last one finished.
asio::awaitable<void> service(chatwire::emulator::server& emulator, std::size_t count, results& r) {
    auto ex = co_await asio::this_coro::executor;
    std::vector<chatwire::chat_client> bots;
    for (auto api : {chatwire::api_kind::vectorshift, chatwire::api_kind::chatbotkit, chatwire::api_kind::pollybot}) {
        chatwire::chat_options o;
        o.api = api;
        o.base_url = emulator.base_url() + (api == chatwire::api_kind::chatbotkit ? "/api/v1" : "");
        o.api_key = "example-key";
        o.chatbot_id = "example-bot";
        o.http.tls.extra_ca_pem = emulator.certificate_pem();
        o.http.max_connections_per_origin = count;  // every stream holds a connection to its end
        bots.emplace_back(ex, std::move(o));
    }

    auto start = clock_type::now();
    asio::steady_timer tick(ex);
    for (std::size_t i = 0; i < count; ++i) {
        asio::co_spawn(ex, conversation(bots[i % bots.size()], "Question " + std::to_string(i), r),
                       [&](std::exception_ptr e) {
                           if (e) ++r.failed, ++r.errors["exception"];
                           if (++r.finished == count) tick.cancel();  // wakes the loop below
                       });
    }

    // Wait for the last one, redrawing a progress line on a terminal.
    const bool terminal = isatty(STDOUT_FILENO);
    while (r.finished < count) {
        tick.expires_after(100ms);
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
        std::chrono::duration<double> t = clock_type::now() - start;
        if (terminal)
            std::printf("\r%zu/%zu done, %zu failed, %zu tokens, %.0f tokens/s ", r.finished, count, r.failed,
                        r.tokens, r.tokens / t.count());
        std::fflush(stdout);
    }
    if (terminal) std::printf("\n");

    print_summary(r, count, clock_type::now() - start);
    emulator.stop();
}

int main(int argc, char** argv) {
    std::size_t count = std::max<std::size_t>(1, argc > 1 ? std::stoul(argv[1]) : 1000);
    int token_delay_ms = argc > 2 ? std::stoi(argv[2]) : 5;

    // Each conversation holds two descriptors here (the client's and the emulator's end).
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);

    asio::io_context io(1);
    chatwire::emulator::options eo;
    eo.token_delay = std::chrono::milliseconds(token_delay_ms);
    chatwire::emulator::server emulator(io.get_executor(), eo);
    emulator.start();

    results r;
    asio::co_spawn(io, service(emulator, count, r), asio::detached);
    io.run();
    return r.failed == 0 && r.finished == count ? 0 : 1;
}
