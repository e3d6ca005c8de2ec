// OpenSSL's record buffers (about 17 KiB each) must not stay allocated while
// a TLS stream is open and its reader is not reading: thousands of streams
// wait between tokens, and those buffers would be most of their memory.
//
// OpenSSL's allocations in this test binary go through counting functions
// (installed before its first allocation), which track the live blocks of
// record-buffer size. The server runs in a child process, so that only the
// client's allocations are counted.
#include <boost/test/unit_test.hpp>

#include "run_coro.hpp"
#include <chatwire/emulator/server.hpp>

#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/crypto.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace asio = boost::asio;
using chatwire::error_code;
using chatwire::http::body_stream;
using chatwire::http::client;
using chatwire::http::request;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// A TLS record buffer holds a 16 KiB record plus headers: nothing else
// OpenSSL allocates per connection is that large.
constexpr std::size_t record_buffer_bytes = 16 * 1024;
std::size_t live_record_buffers = 0;

// Each block carries its size in front, so that free and realloc know it.
constexpr std::size_t header = alignof(std::max_align_t);

void* counted_malloc(std::size_t n, const char*, int) {
    auto* p = static_cast<unsigned char*>(std::malloc(n + header));
    if (!p) return nullptr;
    std::memcpy(p, &n, sizeof n);
    if (n >= record_buffer_bytes) ++live_record_buffers;
    return p + header;
}

void counted_free(void* q, const char*, int) {
    if (!q) return;
    auto* p = static_cast<unsigned char*>(q) - header;
    std::size_t n = 0;
    std::memcpy(&n, p, sizeof n);
    if (n >= record_buffer_bytes) --live_record_buffers;
    std::free(p);
}

void* counted_realloc(void* q, std::size_t n, const char* f, int l) {
    if (!q) return counted_malloc(n, f, l);
    auto* p = static_cast<unsigned char*>(q) - header;
    std::size_t old = 0;
    std::memcpy(&old, p, sizeof old);
    auto* r = static_cast<unsigned char*>(std::realloc(p, n + header));
    if (!r) return nullptr;
    if (old >= record_buffer_bytes) --live_record_buffers;
    if (n >= record_buffer_bytes) ++live_record_buffers;
    std::memcpy(r, &n, sizeof n);
    return r + header;
}

// Before main and before other static initialisers (priority 101), so
// before OpenSSL allocates anything.
bool counting = false;
__attribute__((constructor(101))) void count_openssl_allocations() {
    counting = CRYPTO_set_mem_functions(&counted_malloc, &counted_realloc, &counted_free) == 1;
}

/// The emulator in a child process: its URL and certificate; stopped by its PID.
struct child_server {
    pid_t pid = -1;
    std::string base_url, cert_pem;

    child_server() {
        int fds[2];
        BOOST_TEST_REQUIRE(::pipe(fds) == 0);
        pid = ::fork();
        BOOST_TEST_REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            asio::io_context io;
            chatwire::emulator::options eo;
            eo.token_delay = std::chrono::milliseconds(200);  // the streams stay mid-reply
            chatwire::emulator::server server(io.get_executor(), eo);
            server.start();
            const std::string hello = server.base_url() + "\n" + server.certificate_pem();
            if (::write(fds[1], hello.data(), hello.size()) != static_cast<ssize_t>(hello.size())) ::_exit(1);
            ::close(fds[1]);
            io.run_for(std::chrono::seconds(60));  // bounded even if the parent never stops it
            ::_exit(0);
        }
        ::close(fds[1]);
        std::string hello;
        char buf[4096];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) hello.append(buf, static_cast<std::size_t>(n));
        ::close(fds[0]);
        const auto nl = hello.find('\n');
        BOOST_TEST_REQUIRE(nl != std::string::npos);
        base_url = hello.substr(0, nl);
        cert_pem = hello.substr(nl + 1);
    }
    ~child_server() {
        if (pid <= 0) return;
        ::kill(pid, SIGTERM);
        int status = 0;
        ::waitpid(pid, &status, 0);
    }
};

asio::awaitable<void> held_streams(const std::string& base_url, client& c, std::size_t n) {
    // n PollyBot streams, each open with its first piece read, none reading
    // on (an event every 200 ms keeps them mid-reply while they are counted).
    std::vector<body_stream> streams(n);
    std::size_t open = 0, failed = 0;
    auto open_one = [&](std::size_t i) -> asio::awaitable<void> {
        chatwire::diagnostics diag;
        request r;
        r.method = chatwire::http::verb::post;
        r.url = base_url + "/api/v1/chatbots/held/chat";
        r.headers.set("Authorization", "Bearer key");
        r.headers.set("Content-Type", "application/json");
        r.body = R"({"message":"Tell me a story.","stream":true})";
        auto [ec, s] = co_await c.async_open(std::move(r), diag, tuple_awaitable);
        if (!ec) {
            auto [rec, piece] = co_await s.async_read_some(tuple_awaitable);
            ec = rec;
            if (!ec && piece.find("data:") == std::string_view::npos) ec = chatwire::errc::bad_response;
        }
        if (ec) ++failed;
        else streams[i] = std::move(s);
        ++open;
    };
    auto ex = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < n; ++i) asio::co_spawn(ex, open_one(i), asio::detached);
    while (open < n) co_await chatwire::testing::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST_REQUIRE(failed == 0u);
    BOOST_TEST(c.stats().open == n);
    BOOST_TEST(live_record_buffers == 0u, live_record_buffers << " of " << n << " held streams keep a record buffer");
    for (auto& s : streams) s.close();
}

} // namespace

BOOST_AUTO_TEST_CASE(held_tls_streams_keep_no_record_buffers) {
    BOOST_TEST_REQUIRE(counting, "OpenSSL allocated before its allocation functions could be set");
    child_server server;
    asio::io_context io;
    chatwire::http::client_options o;
    o.tls.use_system_ca = false;
    o.tls.extra_ca_pem = server.cert_pem;
    o.max_connections_per_origin = 64;
    client c(io.get_executor(), o);
    run_coro(io, held_streams(server.base_url, c, 64));
}
