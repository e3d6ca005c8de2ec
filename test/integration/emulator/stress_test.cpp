// Holds 10,000 concurrent streaming connections against one emulator process.
// The server runs in a forked child so that each side fits in the descriptor
// limit; the client side is raw non-blocking sockets on one io_context.
// Every stream stalls after its first event until the test closes it, so the
// target is reached however slowly the connections open (a sanitizer or a
// busy machine ramps up many times slower): only a ramp that stops making
// progress, or the generous whole-test bound, fails it.
#define BOOST_TEST_MODULE stress_emulator
#include "test_client.hpp"

#include <chatwire/emulator/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t target_connections = 10'000;
constexpr std::size_t in_flight = 256;
// Not one stream opening or failing for this long: the ramp is stuck.
constexpr auto no_progress_limit = 60s;
// The whole ramp, at any pace; the test's own timeout is above it.
constexpr auto ramp_limit = 600s;

void raise_fd_limit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
}

std::size_t fd_limit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// The child: an emulator whose streams, after their first event, stall for
// longer than the whole test may last: they are all open at the end.
[[noreturn]] void run_server(int ready_fd) {
    raise_fd_limit();
    asio::io_context io(1);
    chatwire::emulator::options o;
    o.tls = false;
    o.faults_json = R"([{"route":"/api/v1/chatbots/{id}/chat","kind":"stall_ms","stall_ms":3600000,"events":1}])";
    o.admin_token = "stress-admin";  // the parent reads the stats with it
    o.max_connections = target_connections + 16;  // the streams, plus the stats request
    chatwire::emulator::server srv(io.get_executor(), o);
    asio::signal_set signals(io, SIGTERM);
    signals.async_wait([&srv](auto, int) { srv.stop(); });
    srv.start();
    auto port = srv.port();
    (void)!::write(ready_fd, &port, sizeof port);
    ::close(ready_fd);
    io.run();
    std::_Exit(0);
}

struct stream_client {
    tcp::socket socket;
    std::array<char, 512> buf{};
    std::string seen;
    explicit stream_client(asio::io_context& io) : socket(io) {}
};

struct load {
    asio::io_context& io;
    tcp::endpoint ep;
    std::string request;
    std::vector<std::unique_ptr<stream_client>> clients;
    std::size_t started = 0, streaming = 0, failed = 0;

    void launch() {
        if (started == target_connections) return;
        ++started;
        clients.push_back(std::make_unique<stream_client>(io));
        auto* c = clients.back().get();
        c->socket.async_connect(ep, [this, c](boost::system::error_code ec) {
            if (ec) return fail();
            asio::async_write(c->socket, asio::buffer(request), [this, c](boost::system::error_code ec, std::size_t) {
                if (ec) return fail();
                read_until_event(c);
            });
        });
    }
    void read_until_event(stream_client* c) {
        c->socket.async_read_some(asio::buffer(c->buf), [this, c](boost::system::error_code ec, std::size_t n) {
            if (ec) return fail();
            c->seen.append(c->buf.data(), n);
            if (c->seen.find("data: ") == std::string::npos) return read_until_event(c);
            c->seen.clear();
            c->seen.shrink_to_fit();
            ++streaming;
            launch();  // keep this one open, start the next
        });
    }
    void fail() {
        ++failed;
        launch();
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(ten_thousand_concurrent_streams, *boost::unit_test::timeout(660)) {
    raise_fd_limit();
    if (fd_limit() < target_connections + 100) {
        BOOST_TEST_MESSAGE("skipped: RLIMIT_NOFILE hard limit " << fd_limit() << " is below " << target_connections);
        return;
    }
    int pipefd[2];
    BOOST_REQUIRE(::pipe(pipefd) == 0);
    pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        run_server(pipefd[1]);
    }
    ::close(pipefd[1]);
    std::uint16_t port = 0;
    BOOST_REQUIRE(::read(pipefd[0], &port, sizeof port) == sizeof port);
    ::close(pipefd[0]);
    const long rss_idle = rss_kib(pid);

    const auto start = std::chrono::steady_clock::now();
    asio::io_context io(1);
    const std::string body = R"({"message":"stress","stream":true})";
    load l{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
           "POST /api/v1/chatbots/s/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n"
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
           {}};
    l.clients.reserve(target_connections);
    for (std::size_t i = 0; i < in_flight; ++i) l.launch();
    // Run until every connection streams (or fails), while the ramp goes on.
    const auto deadline = start + ramp_limit;
    auto last_progress = start;
    std::size_t ended = 0;
    bool stuck = false;
    while (l.streaming + l.failed < target_connections && std::chrono::steady_clock::now() < deadline) {
        io.run_for(100ms);
        const auto now = std::chrono::steady_clock::now();
        if (l.streaming + l.failed != ended) {
            ended = l.streaming + l.failed;
            last_progress = now;
        } else if (now - last_progress > no_progress_limit) {
            stuck = true;
            break;
        }
    }
    const auto ramp = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    BOOST_TEST(!stuck, "no stream opened for " << no_progress_limit.count() << " s");

    auto stats = emu_test::exchange({port, ""}, "GET", "/_emulator/stats", {{"X-Emulator-Admin-Token", "stress-admin"}});
    const auto open = boost::json::parse(stats.body).as_object().at("open_connections").as_int64();
    const long rss_loaded = rss_kib(pid);
    BOOST_TEST_MESSAGE("streams: " << l.streaming << " failed: " << l.failed << " ramp: " << ramp.count()
                                   << " ms, open on server: " << open << ", server RSS " << rss_idle << " KiB idle, "
                                   << rss_loaded << " KiB loaded ("
                                   << (rss_loaded - rss_idle) * 1024 / static_cast<long>(target_connections)
                                   << " B/connection)");
    BOOST_TEST(l.streaming == target_connections);
    BOOST_TEST(l.failed == 0u);
    BOOST_TEST(open >= static_cast<std::int64_t>(target_connections));

    l.clients.clear();  // close every stream
    ::kill(pid, SIGTERM);
    int status = 0;
    BOOST_TEST(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}
