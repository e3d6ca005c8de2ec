// The cost of token events as awaitables: one coroutine drains chat_stream
// replies of many small PollyBot SSE events, over a keep-alive connection to a
// server thread that writes the same canned response for every request. The
// CPU column is the client thread's alone (the server runs on its own), so
// ns_per_event is what a service pays per token on top of the bytes' arrival.
#include <chatwire/chat_stream.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <tuple>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string canned_response(int events_per_reply, bool chunked) {
    std::string body;
    body += "data: {\"type\":\"start\",\"conversationId\":\"conv-1\"}\n\n";
    for (int i = 0; i < events_per_reply; ++i) body += "data: {\"type\":\"token\",\"content\":\" word\"}\n\n";
    body += "data: {\"type\":\"done\",\"conversationId\":\"conv-1\"}\n\ndata: [DONE]\n\n";
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n";
    if (!chunked) return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    // One chunk per 4 KiB, as a streaming server flushing often would send.
    std::string out = head + "Transfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 4096) {
        const std::string part = body.substr(at, 4096);
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", part.size());
        out += size + part + "\r\n";
    }
    return out + "0\r\n\r\n";
}

// Answers every request on every connection with the canned response, until stopped.
class canned_server {
public:
    explicit canned_server(std::string response)
        : response_(std::move(response)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~canned_server() {
        io_.stop();
        thread_.join();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(tuple_awaitable);
            if (ec) co_return;
            asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> serve(tcp::socket socket) {
        socket.set_option(tcp::no_delay(true));
        asio::streambuf in;
        for (;;) {
            auto [ec, n] = co_await asio::async_read_until(socket, in, "\r\n\r\n", tuple_awaitable);
            if (ec) co_return;
            in.consume(n);  // the benchmark's requests have no body
            auto [wec, w] = co_await asio::async_write(socket, asio::buffer(response_), tuple_awaitable);
            if (wec) co_return;
        }
    }

    std::string response_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

// How the loop takes each event.
enum class way { async_next, try_next, next_awaitable };

asio::awaitable<void> drain_replies(chatwire::http::client& client, std::string url, int replies, way how,
                                    std::int64_t& events, bool& failed) {
    for (int i = 0; i < replies; ++i) {
        chatwire::http::request req;
        req.method = chatwire::http::verb::post;
        req.url = url;
        req.body = "{}";
        chatwire::diagnostics diag;
        auto [ec, body] = co_await client.async_open(std::move(req), diag, tuple_awaitable);
        if (ec) {
            failed = true;
            co_return;
        }
        chatwire::chat_stream stream(client.get_executor(), std::move(body), chatwire::stream_format::pollybot_sse);
        for (;;) {
            chatwire::error_code nec;
            chatwire::event ev;
            if (how == way::next_awaitable) std::tie(nec, ev) = co_await stream.next();
            else if (how == way::async_next || !stream.try_next(nec, ev))
                std::tie(nec, ev) = co_await stream.async_next(tuple_awaitable);
            if (nec == chatwire::errc::end_of_stream) break;
            if (nec) {
                failed = true;
                co_return;
            }
            benchmark::DoNotOptimize(ev.text.data());
            ++events;
        }
    }
}

// state.range(0): token events per reply (a long reply shows the per-event
// cost; a short one adds the per-request cost of opening the stream).
void chat_stream_events(benchmark::State& state, bool chunked, way how) {
    canned_server server(canned_response(static_cast<int>(state.range(0)), chunked));
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/chat";
    asio::io_context io;
    chatwire::http::client client(io.get_executor());
    std::int64_t events = 0;
    bool failed = false;
    asio::co_spawn(io, drain_replies(client, url, 2, how, events, failed), asio::detached);  // warm-up
    io.run();
    events = 0;
    for (auto _ : state) {
        io.restart();
        asio::co_spawn(io, drain_replies(client, url, 10, how, events, failed), asio::detached);
        io.run();
    }
    if (failed) state.SkipWithError("a reply failed");
    state.counters["ns_per_event"] =
        benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Every event through async_next: a post (and an epoll_wait) per event.
void BM_async_next_content_length(benchmark::State& state) { chat_stream_events(state, false, way::async_next); }
void BM_async_next_chunked(benchmark::State& state) { chat_stream_events(state, true, way::async_next); }
// Buffered events through try_next, async_next only when a read is needed.
void BM_try_next_content_length(benchmark::State& state) { chat_stream_events(state, false, way::try_next); }
void BM_try_next_chunked(benchmark::State& state) { chat_stream_events(state, true, way::try_next); }
// The documented loop, `co_await stream.next()`: try_next inside an awaitable.
void BM_next_awaitable_content_length(benchmark::State& state) { chat_stream_events(state, false, way::next_awaitable); }
void BM_next_awaitable_chunked(benchmark::State& state) { chat_stream_events(state, true, way::next_awaitable); }

} // namespace

BENCHMARK(BM_async_next_content_length)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_async_next_chunked)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_try_next_content_length)->Arg(1000)->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_try_next_chunked)->Arg(1000)->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_next_awaitable_content_length)->Arg(1000)->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_next_awaitable_chunked)->Arg(1000)->Arg(50)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
