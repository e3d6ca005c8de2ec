#define BOOST_TEST_MODULE integration_framing
// A keep-alive connection is reused only when its last answer was framed
// beyond doubt and nothing arrived on it since: otherwise one request's
// answer could be delivered as another's. Against a server that scripts every
// byte, plain and over TLS, on the keep-alive path and through a retry.
#include <boost/test/unit_test.hpp>

#include "raw_server.hpp"
#include "run_coro.hpp"

#include <chatwire/http/body_stream.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/pollybot.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::http::client;
using chatwire::testing::raw_server;
using chatwire::testing::request_seen;
using chatwire::testing::run_coro;
using chatwire::testing::scripted_reply;
using chatwire::testing::sleep_for;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string ok(const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

// Every request after the scripted first one gets its own, genuine answer.
std::string genuine(const request_seen& r) {
    return ok("genuine " + std::to_string(r.connection) + "." + std::to_string(r.index));
}

chatwire::http::client_options trusting(const raw_server& s) {
    chatwire::http::client_options o;
    o.tls.extra_ca_pem = s.certificate_pem();
    o.timeouts.idle = 20s;
    o.timeouts.first_byte = 20s;
    return o;
}

chatwire::http::request get(std::string url) {
    chatwire::http::request r;
    r.url = std::move(url);
    return r;
}

struct result {
    error_code ec;
    chatwire::http::response res;
    chatwire::diagnostics diag;
};

asio::awaitable<result> fetch(client& c, std::string url) {
    result r;
    auto [ec, res] = co_await c.async_request(get(std::move(url)), r.diag, tuple_awaitable);
    r.ec = ec;
    r.res = std::move(res);
    co_return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(framing)

// The server answers 503, then, 50 ms later, a second response nobody asked
// for. The next request, sent within a second on the pooled connection, took
// that stray answer as its own.
BOOST_AUTO_TEST_CASE(an_answer_nobody_asked_for_never_answers_the_next_request) {
    for (bool tls : {false, true}) {
        BOOST_TEST_CONTEXT((tls ? "https" : "http")) {
            asio::io_context io;
            raw_server server(io, tls, [](const request_seen& r) {
                scripted_reply reply;
                if (r.connection == 0 && r.index == 0) {
                    reply.writes = {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"};
                    reply.pause = 50ms;
                    reply.unsolicited = ok("smuggled");
                } else {
                    reply.writes = {genuine(r)};
                }
                return reply;
            });
            client c(io.get_executor(), trusting(server));
            result first, second;
            run_coro(io, [&]() -> asio::awaitable<void> {
                first = co_await fetch(c, server.url("/one"));
                // Until the stray answer is in the client's socket; the
                // connection idles far less than a second.
                for (int i = 0; i < 500 && server.unsolicited_written() == 0; ++i) co_await sleep_for(10ms);
                second = co_await fetch(c, server.url("/two"));
            }());
            BOOST_TEST(!first.ec, first.ec.message());
            BOOST_TEST(first.res.status == 503u);
            BOOST_TEST_REQUIRE(!second.ec, second.ec.message() << " " << second.diag.to_string());
            BOOST_TEST(second.res.body == "genuine 1.0");
            BOOST_TEST(c.stats().connections_opened == 2u);
            BOOST_TEST(server.accepted() == 2);
        }
    }
}

// The same stray answer, met by a retry: the PollyBot client retries the 503
// after the 600 ms its hint asks for (the stray answer came 550 ms before),
// on a new connection.
BOOST_AUTO_TEST_CASE(a_retry_never_takes_a_stray_answer_as_its_own) {
    for (bool tls : {false, true}) {
        BOOST_TEST_CONTEXT((tls ? "https" : "http")) {
            asio::io_context io;
            const std::string answer = R"({"success":true,"data":{"response":"genuine","conversationId":"c1","messageId":"m1"}})";
            const std::string stray = R"({"success":true,"data":{"response":"smuggled","conversationId":"c2","messageId":"m2"}})";
            auto json = [](const std::string& body) {
                return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
            };
            raw_server server(io, tls, [&](const request_seen& r) {
                scripted_reply reply;
                if (r.connection == 0 && r.index == 0) {
                    const std::string busy = R"({"success":false,"error":{"code":"UNAVAILABLE","message":"busy"}})";
                    reply.writes = {"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                    "retry-after-ms: 600\r\nContent-Length: " +
                                    std::to_string(busy.size()) + "\r\n\r\n" + busy};
                    reply.pause = 50ms;
                    reply.unsolicited = json(stray);
                } else {
                    reply.writes = {json(answer)};
                }
                return reply;
            });
            chatwire::pollybot::options po;
            po.base_url = server.url("");
            po.api_key = "test-key";
            po.http = trusting(server);
            po.retry.base_delay = 1ms;
            po.retry.max_delay = 1ms;
            chatwire::pollybot::client pc(io.get_executor(), po);
            chatwire::pollybot::chat_request req;
            req.chatbot_id = "bot";
            req.message = "hi";
            req.stream = false;
            error_code ec;
            std::string text;
            chatwire::diagnostics diag;
            run_coro(io, [&]() -> asio::awaitable<void> {
                auto [e, r] = co_await pc.async_chat(req, diag, tuple_awaitable);
                ec = e;
                text = r.response;
            }());
            BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
            BOOST_TEST(text == "genuine");
            BOOST_TEST(diag.attempts == 2);
            BOOST_TEST(server.accepted() == 2);
        }
    }
}

// Over TLS the stray answer may come in a record of its own right behind the
// answer: OpenSSL's side of the connection holds it, not the parser's buffer.
BOOST_AUTO_TEST_CASE(a_stray_record_behind_an_answer_keeps_the_connection_out_of_the_pool) {
    asio::io_context io;
    raw_server server(io, true, [](const request_seen& r) {
        scripted_reply reply;
        reply.writes = {genuine(r)};
        if (r.connection == 0 && r.index == 0) reply.writes.push_back(ok("smuggled"));
        return reply;
    });
    client c(io.get_executor(), trusting(server));
    result first, second;
    run_coro(io, [&]() -> asio::awaitable<void> {
        first = co_await fetch(c, server.url("/one"));
        second = co_await fetch(c, server.url("/two"));
    }());
    BOOST_TEST(first.res.body == "genuine 0.0");
    BOOST_TEST_REQUIRE(!second.ec, second.ec.message());
    BOOST_TEST(second.res.body == "genuine 1.0");
    BOOST_TEST(c.stats().connections_opened == 2u);
}

namespace {

// One answer with the given head lines and raw body bytes, then a second
// request; the first's outcome, the second's body and the connections used.
struct framed_outcome {
    result first, second;
    std::size_t opened = 0;
};

framed_outcome framed(bool tls, std::string head_lines, std::string body, bool close_after = false) {
    asio::io_context io;
    raw_server server(io, tls, [&](const request_seen& r) {
        scripted_reply reply;
        if (r.connection == 0 && r.index == 0) {
            reply.writes = {"HTTP/1.1 200 OK\r\n" + head_lines + "\r\n" + body};
            reply.close_after = close_after;
        } else {
            reply.writes = {genuine(r)};
        }
        return reply;
    });
    client c(io.get_executor(), trusting(server));
    framed_outcome out;
    run_coro(io, [&]() -> asio::awaitable<void> {
        out.first = co_await fetch(c, server.url("/one"));
        out.second = co_await fetch(c, server.url("/two"));
    }());
    out.opened = c.stats().connections_opened;
    return out;
}

} // namespace

// Transfer-Encoding and Content-Length together frame one answer two ways:
// one reader's end is the other's next answer. Beast took the length when
// the coding came first, and pooled the connection.
BOOST_AUTO_TEST_CASE(a_body_framed_two_ways_is_refused_and_its_connection_closed) {
    const char* shapes[] = {
        "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: identity\r\nContent-Length: 5\r\n",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    };
    for (bool tls : {false, true}) {
        for (const char* shape : shapes) {
            BOOST_TEST_CONTEXT((tls ? "https " : "http ") << shape) {
                // Read by its length, the body would be "hello"; the rest a second answer.
                auto out = framed(tls, shape, "hello" + ok("smuggled"));
                BOOST_TEST(out.first.ec == error_code(errc::bad_response), out.first.ec.message());
                BOOST_TEST_REQUIRE(!out.second.ec, out.second.ec.message());
                BOOST_TEST(out.second.res.body == "genuine 1.0");
                BOOST_TEST(out.opened == 2u);
            }
        }
    }
}

// A final coding other than chunked delimits the body by the close: it is
// read to the end and the connection is not reused; identity is the body as sent.
BOOST_AUTO_TEST_CASE(an_identity_transfer_coding_is_read_to_the_close) {
    auto out = framed(false, "Transfer-Encoding: identity\r\n", "all of it", true);
    BOOST_TEST_REQUIRE(!out.first.ec, out.first.ec.message());
    BOOST_TEST(out.first.res.body == "all of it");
    BOOST_TEST(!out.second.ec, out.second.ec.message());
    BOOST_TEST(out.opened == 2u);
}

// Codings this client does not undo are refused, like a Content-Encoding:
// "gzip, chunked" was de-chunked and passed on still compressed.
BOOST_AUTO_TEST_CASE(a_transfer_coding_other_than_chunked_is_unsupported) {
    const std::string chunked_body = "5\r\nhello\r\n0\r\n\r\n";
    struct shape {
        const char* head;
        bool close_after;
    };
    const shape shapes[] = {
        {"Transfer-Encoding: gzip, chunked\r\n", false},
        {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", false},
        {"Transfer-Encoding: gzip\r\n", true},
        {"Transfer-Encoding: chunked, identity\r\n", true},
    };
    for (const auto& s : shapes) {
        BOOST_TEST_CONTEXT(s.head) {
            auto out = framed(false, s.head, chunked_body, s.close_after);
            BOOST_TEST(out.first.ec == error_code(errc::unsupported_encoding), out.first.ec.message());
            BOOST_TEST(out.first.diag.detail.find("Transfer-Encoding") != std::string::npos, out.first.diag.detail);
            BOOST_TEST(!out.second.ec, out.second.ec.message());
            BOOST_TEST(out.opened == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_streamed_body_with_a_transfer_coding_other_than_chunked_is_unsupported) {
    asio::io_context io;
    raw_server server(io, false, [](const request_seen&) {
        scripted_reply reply;
        reply.writes = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"};
        return reply;
    });
    client c(io.get_executor(), trusting(server));
    error_code open_ec, read_ec;
    std::string piece;
    run_coro(io, [&]() -> asio::awaitable<void> {
        chatwire::diagnostics diag;
        auto [ec, body] = co_await c.async_open(get(server.url("/s")), diag, tuple_awaitable);
        open_ec = ec;
        if (ec) co_return;
        auto [rec, p] = co_await body.async_read_some(tuple_awaitable);
        read_ec = rec;
        piece = std::string(p);
    }());
    BOOST_TEST_REQUIRE(!open_ec, open_ec.message());
    BOOST_TEST(read_ec == error_code(errc::unsupported_encoding), read_ec.message());
    BOOST_TEST(piece.empty());
    BOOST_TEST(c.stats().idle == 0u);
}

namespace {

// A whole or streamed answer whose framing grows without end: a chunk-size
// line with an endless extension, or trailers without end. What the server
// managed to write shows how much the client took before it gave up.
struct endless_outcome {
    error_code ec;
    std::uint64_t taken = 0;
};

endless_outcome endless(bool streamed, std::string head, std::string repeated) {
    asio::io_context io;
    raw_server server(io, false, [&](const request_seen&) {
        scripted_reply reply;
        reply.writes = {std::move(head)};
        reply.repeated = repeated;
        reply.repeat_count = 1024;  // 64 MiB of it at most
        reply.after_repeat = "\r\n\r\n";
        return reply;
    });
    auto o = trusting(server);
    o.limits.max_body_bytes = 256 * 1024 * 1024;  // the body limit is not what stops it
    client c(io.get_executor(), o);
    endless_outcome out;
    run_coro(io, [&]() -> asio::awaitable<void> {
        chatwire::diagnostics diag;
        if (!streamed) {
            auto [ec, res] = co_await c.async_request(get(server.url("/e")), diag, tuple_awaitable);
            out.ec = ec;
            co_return;
        }
        auto [ec, body] = co_await c.async_open(get(server.url("/e")), diag, tuple_awaitable);
        out.ec = ec;
        while (!out.ec) {
            auto [rec, p] = co_await body.async_read_some(tuple_awaitable);
            out.ec = rec;
        }
    }(), 60s);
    out.taken = server.repeated_bytes_written();
    return out;
}

} // namespace

// A 256 MiB chunk extension grew a whole answer's buffer to match, and the
// call succeeded; the chunk-size line is now bounded by the header limit.
BOOST_AUTO_TEST_CASE(an_endless_chunk_extension_is_bounded_whole_and_streamed) {
    for (bool streamed : {false, true}) {
        BOOST_TEST_CONTEXT((streamed ? "streamed" : "whole")) {
            auto out = endless(streamed, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=",
                               std::string(64 * 1024, 'x'));
            BOOST_TEST(out.ec == error_code(errc::bad_response), out.ec.message());
            // The socket buffers on both sides hold a few MiB at most; the rest was never taken.
            BOOST_TEST(out.taken < 16u * 1024 * 1024, out.taken);
        }
    }
}

// 64 MiB of trailers were kept whole as header fields of the answer.
BOOST_AUTO_TEST_CASE(endless_trailers_are_bounded_whole_and_streamed) {
    std::string trailer_block;  // whole trailer lines, about 64 KiB of them
    for (int i = 0;; ++i) {
        const std::string line = "X-Trailer-" + std::to_string(i) + ": v\r\n";
        if (trailer_block.size() + line.size() > 64 * 1024) break;
        trailer_block += line;
    }
    for (bool streamed : {false, true}) {
        BOOST_TEST_CONTEXT((streamed ? "streamed" : "whole")) {
            auto out = endless(streamed, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
                               trailer_block);
            BOOST_TEST(out.ec == error_code(errc::bad_response), out.ec.message());
            BOOST_TEST(out.taken < 16u * 1024 * 1024, out.taken);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
