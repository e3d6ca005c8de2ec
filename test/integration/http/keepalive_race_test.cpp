// The pool's keep-alive race: a server closes a pooled connection just as the
// next request arrives on it. A clean close (FIN) before any answer byte means
// the server did not act: the request, a POST included, is sent once more on a
// new connection. A reset after the server read the request may follow a
// server that acted: only an idempotent request is sent again.
#include <boost/test/unit_test.hpp>

#include "http_fetch.hpp"
#include "run_coro.hpp"
#include "test_server.hpp"

#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::error_code;
using chatwire::http::client;
using chatwire::http::request;
using chatwire::http::verb;
using chatwire::testing::run_coro;
using chatwire::testing::test_server;
using chatwire::testing::tuple_awaitable;

namespace {

struct outcome {
    error_code ec;
    std::string body;
    chatwire::diagnostics diag;
};

// Arms the connection with `arm` (it goes back to the pool), then sends `method` on it.
asio::awaitable<void> race(client& c, test_server& server, std::string arm, verb method, outcome& out) {
    request first;
    first.url = server.url(arm);
    auto [ec1, res1] = co_await c.async_request(std::move(first), out.diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec1, ec1.message());
    BOOST_TEST_REQUIRE(c.stats().idle == 1u);
    request next;
    next.url = server.url("/echo");
    next.method = method;
    if (method == verb::post) next.body = "turn";
    auto [ec2, res2] = co_await c.async_request(std::move(next), out.diag, tuple_awaitable);
    out.ec = ec2;
    out.body = res2.body;
}

outcome run_race(asio::io_context& io, test_server& server, std::string arm, verb method) {
    client c(io.get_executor());  // the connection looks alive when taken: the close comes with the request
    outcome out;
    run_coro(io, race(c, server, std::move(arm), method, out));
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(keepalive_race)

BOOST_AUTO_TEST_CASE(a_post_met_by_a_clean_close_is_resent_once_on_a_new_connection) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    auto out = run_race(io, server, "/arm-close", verb::post);
    BOOST_TEST(!out.ec, out.ec.message() << " " << out.diag.to_string());
    BOOST_TEST(out.body.find("POST /echo") != std::string::npos, out.body);
    BOOST_TEST(out.body.find("body=turn") != std::string::npos, out.body);
    BOOST_TEST(out.diag.attempts == 2);             // the resend is counted
    BOOST_TEST(server.counters().accepted == 2);    // once on a new connection
    BOOST_TEST(server.counters().requests == 3);    // arm, the one closed on, the resend
}

BOOST_AUTO_TEST_CASE(a_post_met_by_a_reset_after_it_was_read_is_not_resent) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    auto out = run_race(io, server, "/arm-reset", verb::post);
    BOOST_TEST((out.ec == chatwire::condition::transport), out.ec.message());
    BOOST_TEST((out.ec == asio::error::connection_reset), out.ec.message());
    BOOST_TEST(out.diag.attempts == 1);
    BOOST_TEST(server.counters().accepted == 1);
    BOOST_TEST(server.counters().requests == 2);
}

BOOST_AUTO_TEST_CASE(an_idempotent_get_met_by_a_reset_is_resent) {
    asio::io_context io;
    test_server server(io, test_server::plain());
    auto out = run_race(io, server, "/arm-reset", verb::get);
    BOOST_TEST(!out.ec, out.ec.message());
    BOOST_TEST(out.body.find("GET /echo") != std::string::npos, out.body);
    BOOST_TEST(out.diag.attempts == 2);
    BOOST_TEST(server.counters().accepted == 2);
    BOOST_TEST(server.counters().requests == 3);
}

BOOST_AUTO_TEST_SUITE_END()
