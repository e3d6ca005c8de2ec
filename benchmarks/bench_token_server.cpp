// A minimal streaming server for the stream benchmarks: it answers every
// request on every keep-alive connection with one PollyBot SSE reply (a start
// event, `--tokens` token events, a done event and `[DONE]`), and nothing else.
//
//   bench_token_server [--tokens T] [--interval-us I] [--max-seconds S]
//
// --interval-us 0 (the default): the whole reply is one prebuilt buffer with a
// Content-Length, written at once: the server costs next to nothing per token,
// so the client's delivery rate is what is measured.
// --interval-us I > 0: paced, chunked, one token per chunk every I µs; each
// token's text is the server's CLOCK_MONOTONIC in nanoseconds read just before
// its write, so a reader on the same machine measures the latency the token
// gained between the server's write and its own code.
//
// Listens on 127.0.0.1 (a free port, printed as "listening on PORT"), one
// thread, and exits by itself after --max-seconds (default 600).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
const std::string start_event = "data: {\"type\":\"start\",\"conversationId\":\"conv-1\"}\n\n";
const std::string token_event = "data: {\"type\":\"token\",\"content\":\" word\"}\n\n";
const std::string end_events =
    "data: {\"type\":\"done\",\"conversationId\":\"conv-1\",\"messageId\":\"m-1\"}\n\ndata: [DONE]\n\n";

std::string whole_reply(int tokens) {
    std::string body = start_event;
    for (int i = 0; i < tokens; ++i) body += token_event;
    body += end_events;
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

std::string chunk(const std::string& data) {
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

long long monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/// The Content-Length of a request head, 0 when it has none.
std::size_t content_length(const std::string& head) {
    for (std::size_t at = 0; (at = head.find("\r\n", at)) != std::string::npos;) {
        at += 2;
        static const char name[] = "content-length:";
        std::size_t i = 0;
        while (i + 1 < sizeof name && at + i < head.size() && std::tolower(head[at + i]) == name[i]) ++i;
        if (i + 1 == sizeof name) return std::strtoul(head.c_str() + at + i, nullptr, 10);
    }
    return 0;
}

struct server {
    int tokens = 200;
    long interval_us = 0;
    std::string whole;

    asio::awaitable<void> serve(tcp::socket socket) {
        socket.set_option(tcp::no_delay(true));
        std::string in;
        asio::steady_timer timer(socket.get_executor());
        for (;;) {
            auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n", tuple_awaitable);
            if (ec) co_return;
            const std::size_t body = content_length(in.substr(0, n));
            if (in.size() < n + body) {
                auto [bec, bn] = co_await asio::async_read(socket, asio::dynamic_buffer(in),
                                                            asio::transfer_exactly(n + body - in.size()), tuple_awaitable);
                if (bec) co_return;
            }
            in.erase(0, n + body);
            if (interval_us == 0) {
                auto [wec, w] = co_await asio::async_write(socket, asio::buffer(whole), tuple_awaitable);
                if (wec) co_return;
                continue;
            }
            std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              chunk(start_event);
            if (auto [wec, w] = co_await asio::async_write(socket, asio::buffer(out), tuple_awaitable); wec) co_return;
            auto next = std::chrono::steady_clock::now();
            for (int i = 0; i < tokens; ++i) {
                next += std::chrono::microseconds(interval_us);
                timer.expires_at(next);
                co_await timer.async_wait(tuple_awaitable);
                out = chunk("data: {\"type\":\"token\",\"content\":\"" + std::to_string(monotonic_ns()) + "\"}\n\n");
                if (auto [wec, w] = co_await asio::async_write(socket, asio::buffer(out), tuple_awaitable); wec) co_return;
            }
            out = chunk(end_events) + "0\r\n\r\n";
            if (auto [wec, w] = co_await asio::async_write(socket, asio::buffer(out), tuple_awaitable); wec) co_return;
        }
    }

    asio::awaitable<void> accept(tcp::acceptor& acceptor) {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(tuple_awaitable);
            if (ec == asio::error::no_descriptors) {  // wait for a slot rather than spin
                asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(10));
                co_await t.async_wait(tuple_awaitable);
                continue;
            }
            if (ec) co_return;
            asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
        }
    }
};

} // namespace

int main(int argc, char** argv) {
    server s;
    long max_seconds = 600;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--tokens") s.tokens = std::atoi(argv[i + 1]);
        else if (a == "--interval-us") s.interval_us = std::atol(argv[i + 1]);
        else if (a == "--max-seconds") max_seconds = std::atol(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: bench_token_server [--tokens T] [--interval-us I] [--max-seconds S]\n");
            return 2;
        }
    }
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    s.whole = whole_reply(s.tokens);
    asio::io_context io(1);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::printf("listening on %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    asio::co_spawn(io, s.accept(acceptor), asio::detached);
    asio::steady_timer stop(io, std::chrono::seconds(max_seconds));
    stop.async_wait([&](auto) { io.stop(); });
    io.run();
    return 0;
}
