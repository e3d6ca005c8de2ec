// Host names: looked up by c-ares on the client's own executor, given in
// advance (client_options::resolve), or never looked up (IP literals, .invalid).
// Name servers are played by UDP sockets on 127.0.0.1: nothing leaves the machine.
#include <boost/test/unit_test.hpp>

#include "http_fetch.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::http::client;
using chatwire::http::client_options;
using chatwire::http::request;
using chatwire::http::response;
using chatwire::testing::fetch;
using chatwire::testing::get;
using chatwire::testing::run_coro;
using chatwire::testing::test_server;
using chatwire::testing::trusting;
using chatwire::testing::tuple_awaitable;
using udp = asio::ip::udp;

namespace {

/// A name server on 127.0.0.1 that counts the queries it gets and answers
/// each "no such name" (NXDOMAIN), or, when silent, never answers.
class fake_name_server {
public:
    fake_name_server(asio::io_context& io, bool silent) : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), silent_(silent) {
        receive();
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(socket_.local_endpoint().port()); }
    int queries() const { return queries_; }

private:
    void receive() {
        socket_.async_receive_from(asio::buffer(buffer_), peer_, [this](error_code ec, std::size_t n) {
            if (ec) return;
            ++queries_;
            if (!silent_ && n >= 12) {
                // The query itself turned into its answer: QR set, RA set, RCODE 3.
                buffer_[2] = static_cast<char>(buffer_[2] | 0x80);
                buffer_[3] = static_cast<char>(0x80 | 0x03);
                error_code ignored;
                socket_.send_to(asio::buffer(buffer_.data(), n), peer_, 0, ignored);
            }
            receive();
        });
    }

    udp::socket socket_;
    bool silent_;
    udp::endpoint peer_;
    std::array<char, 1500> buffer_{};
    int queries_ = 0;
};

asio::awaitable<void> expect_echo(client& c, std::string url, std::string host_header) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get(std::move(url)), diag);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(res.body == "GET /echo host=" + host_header + " body=");
}

} // namespace

BOOST_AUTO_TEST_SUITE(resolver)

// localhost comes from /etc/hosts, read by c-ares: the request reaches the
// server on 127.0.0.1, over verified TLS (the certificate names localhost).
BOOST_AUTO_TEST_CASE(localhost_is_resolved_and_reaches_the_server) {
    asio::io_context io;
    test_server server(io);
    auto o = trusting(server);
    client c(io.get_executor(), o);
    const auto authority = "localhost:" + std::to_string(server.port());
    run_coro(io, expect_echo(c, "https://" + authority + "/echo", authority));
    BOOST_TEST(server.counters().accepted == 1);
}

// A name given in advance is not looked up: no name server is asked (the only
// one configured counts its queries), and TLS checks the name itself.
BOOST_AUTO_TEST_CASE(a_name_given_in_advance_connects_to_its_addresses) {
    asio::io_context io;
    test_server::options so;
    so.certificate = chatwire::emulator::make_self_signed({"api.example.test"});
    test_server server(io, so);
    fake_name_server dns(io, false);
    auto o = trusting(server);
    o.resolve = {{"API.example.test", {"127.0.0.1"}}};
    o.name_servers = {dns.address()};
    client c(io.get_executor(), o);
    const auto authority = "api.example.test:" + std::to_string(server.port());
    run_coro(io, expect_echo(c, "https://" + authority + "/echo", authority));
    BOOST_TEST(dns.queries() == 0);
    BOOST_TEST(server.counters().accepted == 1);
}

namespace {

asio::awaitable<void> expect_not_found(client& c, std::string host, std::uint16_t port) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get("http://" + host + ":" + std::to_string(port) + "/echo"), diag);
    BOOST_TEST(ec == error_code(asio::error::host_not_found), "got " << ec.message());
    BOOST_TEST(diag.detail.find(host) != std::string::npos, diag.detail);
}

} // namespace

// A .invalid name never resolves (RFC 6761): the answer comes at once, before
// any name server is asked, whatever /etc/resolv.conf names.
BOOST_AUTO_TEST_CASE(an_invalid_name_is_not_found_without_asking_a_name_server) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    fake_name_server dns(io, false);
    client_options o;
    o.name_servers = {dns.address()};
    client c(io.get_executor(), o);
    run_coro(io, expect_not_found(c, "no-such-host.invalid", server.port()));
    run_coro(io, expect_not_found(c, "No-Such-Host.INVALID.", server.port()));
    BOOST_TEST(dns.queries() == 0);
    BOOST_TEST(server.counters().accepted == 0);
}

// A name the name server says does not exist: c-ares asked it (over UDP, on
// the client's executor) and the answer is the typed host_not_found.
BOOST_AUTO_TEST_CASE(a_name_the_name_server_does_not_know_is_host_not_found) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    fake_name_server dns(io, false);
    client_options o;
    o.name_servers = {dns.address()};
    client c(io.get_executor(), o);
    run_coro(io, expect_not_found(c, "no-such-host.example.test", server.port()));
    BOOST_TEST(dns.queries() >= 1);
    BOOST_TEST(server.counters().accepted == 0);
}

namespace {

// Cancelled while c-ares waits for a name server that never answers: the call
// ends with `cancelled` before c-ares' first retransmission (5 s).
asio::awaitable<void> cancel_mid_lookup(client& c, fake_name_server& dns) {
    asio::cancellation_signal cancel;
    chatwire::diagnostics diag;
    std::optional<error_code> got;
    c.async_request(get("http://slow.example.test:80/"), diag,
                    asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, response) { got = ec; }));
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex);
    for (int i = 0; i < 200 && dns.queries() == 0; ++i) {
        t.expires_after(5ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    BOOST_TEST_REQUIRE(dns.queries() >= 1);  // the lookup is under way
    BOOST_TEST(!got.has_value());
    const int queries_at_cancel = dns.queries();
    const auto cancelled_at = std::chrono::steady_clock::now();
    cancel.emit(asio::cancellation_type::terminal);
    while (!got && std::chrono::steady_clock::now() - cancelled_at < 10s) {
        t.expires_after(1ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(*got == error_code(errc::cancelled), got->message());
    // Had c-ares' own timeout ended the lookup, it would have asked the name
    // server again first: only the cancel can have ended it.
    BOOST_TEST(dns.queries() == queries_at_cancel);
}

// The connect stage's limit bounds the lookup too.
asio::awaitable<void> lookup_times_out(client& c) {
    chatwire::diagnostics diag;
    auto [ec, res] = co_await fetch(c, get("http://slow.example.test:80/"), diag);
    BOOST_TEST(ec == error_code(errc::connect_timeout), ec.message());
}

} // namespace

BOOST_AUTO_TEST_CASE(a_lookup_is_cancelled_promptly) {
    asio::io_context io;
    fake_name_server dns(io, true);
    client_options o;
    o.name_servers = {dns.address()};
    o.timeouts.connect = 60s;
    client c(io.get_executor(), o);
    run_coro(io, cancel_mid_lookup(c, dns));
}

BOOST_AUTO_TEST_CASE(a_lookup_ends_with_the_connect_stage) {
    asio::io_context io;
    fake_name_server dns(io, true);
    client_options o;
    o.name_servers = {dns.address()};
    o.timeouts.connect = 300ms;
    client c(io.get_executor(), o);
    run_coro(io, lookup_times_out(c));
    BOOST_TEST(dns.queries() >= 1);
}

BOOST_AUTO_TEST_SUITE_END()
