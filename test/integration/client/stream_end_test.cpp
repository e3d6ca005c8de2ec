// A chat stream ends at its API's terminal event, against servers scripted to
// the byte: events after it are never delivered, a body the server leaves open
// after it neither holds the reader nor keeps the connection, and a body whose
// end was received with it gives its connection back to the pool.
#define BOOST_TEST_MODULE integration_stream_end
#include <boost/test/unit_test.hpp>

#include "raw_server.hpp"
#include "run_coro.hpp"
#include "scripted_responder.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/chat_stream.hpp>
#include <chatwire/pollybot.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::event_kind;
using chatwire::testing::chunk;
using chatwire::testing::chunked_head;
using chatwire::testing::last_chunk;
using chatwire::testing::length_head;
using chatwire::testing::run_coro;
using chatwire::testing::scripted_responder;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// Far above what any case here should take; the readers give up well before.
constexpr auto idle_timeout = 30s;
// How long a reader waits for the end before it gives up: a third of the idle timeout.
constexpr auto give_up_after = 10s;

enum class via { chat_client, vectorshift_v1 };

struct api_case {
    const char* name;
    chatwire::api_kind api;
    via path;
    std::string content_type;
    std::string reply;  // the events up to and with the terminal one
    std::string after;  // what the server sends after the terminal event
    std::vector<event_kind> kinds;  // the events the reply is made of
};

std::string sse(std::string_view data) { return "data: " + std::string(data) + "\n\n"; }

std::vector<api_case> cases() {
    const auto pollybot = chatwire::api_kind::pollybot;
    const auto vectorshift = chatwire::api_kind::vectorshift;
    return {
        {"pollybot done", pollybot, via::chat_client, "text/event-stream",
         sse(R"({"type":"start","conversationId":"conv-1"})") + sse(R"({"type":"token","content":"Hi"})") +
             sse(R"({"type":"done","data":{"response":"Hi","conversationId":"conv-1","messageId":"m1"}})"),
         sse("[DONE]") + sse(R"({"type":"token","content":"EXTRA"})"),
         {event_kind::begin, event_kind::token, event_kind::result}},
        {"pollybot [DONE]", pollybot, via::chat_client, "text/event-stream",
         sse(R"({"type":"start","conversationId":"conv-1"})") + sse(R"({"type":"token","content":"Hi"})") +
             sse("[DONE]"),
         sse(R"({"type":"token","content":"EXTRA"})") + sse(R"({"type":"error","error":"EXTRA","code":"X"})"),
         {event_kind::begin, event_kind::token, event_kind::done}},
        {"chatbotkit result", chatwire::api_kind::chatbotkit, via::chat_client, "application/jsonl",
         "{\"type\":\"completeBegin\",\"data\":{}}\n{\"type\":\"token\",\"data\":{\"token\":\"Hi\"}}\n"
         "{\"type\":\"result\",\"data\":{\"id\":\"m1\",\"text\":\"Hi\"}}\n",
         "{\"type\":\"token\",\"data\":{\"token\":\"EXTRA\"}}\n{\"type\":\"result\",\"data\":{\"text\":\"EXTRA\"}}\n",
         {event_kind::begin, event_kind::token, event_kind::result}},
        {"vectorshift [DONE]", vectorshift, via::chat_client, "text/event-stream",
         sse(R"({"output":"Hi","conversation_id":"conv-1"})") + sse("[DONE]"),
         sse(R"({"output":"EXTRA","conversation_id":"conv-1"})"),
         {event_kind::token, event_kind::done}},
        {"vectorshift v1 status", vectorshift, via::vectorshift_v1, "text/event-stream",
         sse(R"({"type":"stream","output_value":"Hi"})") +
             sse(R"({"status":"success","conversation_id":"conv-1","output_message":"Hi"})"),
         sse(R"({"type":"stream","output_value":"EXTRA"})"),
         {event_kind::token, event_kind::result}},
    };
}

// How the server ends a response after the terminal event and what follows it.
enum class ending {
    last_chunk,      // the chunked body's end, in the same write
    content_length,  // Content-Length met exactly
    chunked_open,    // no last chunk: the body stays open
    length_open,     // fewer bytes than the Content-Length announced
};

std::string response(const api_case& c, ending e) {
    const std::string body = c.reply + c.after;
    switch (e) {
    case ending::last_chunk: return chunked_head(c.content_type) + chunk(body) + std::string(last_chunk);
    case ending::content_length: return length_head(c.content_type, body.size()) + body;
    case ending::chunked_open: return chunked_head(c.content_type) + chunk(body);
    case ending::length_open: break;
    }
    return length_head(c.content_type, body.size() + 100) + body;
}

bool open_body(ending e) { return e == ending::chunked_open || e == ending::length_open; }

// The API's client on the scripted server, through chat_client or the
// provider's own streaming call.
class caller {
public:
    caller(asio::any_io_executor ex, const api_case& c, const scripted_responder& server) : case_(c) {
        chatwire::http::client_options http;
        http.timeouts.idle = idle_timeout;
        if (c.path == via::vectorshift_v1) {
            chatwire::vectorshift::options o;
            o.base_url = server.url();
            o.api_key = "k";
            o.http = http;
            o.retry = chatwire::retry_policy::none();
            v1_.emplace(ex, o);
            return;
        }
        chatwire::chat_options o;
        o.api = c.api;
        o.base_url = server.url(c.api == chatwire::api_kind::chatbotkit ? "/api/v1" : "");
        o.api_key = "k";
        o.chatbot_id = "bot";
        o.http = http;
        o.retry = chatwire::retry_policy::none();
        chat_.emplace(ex, o);
    }

    asio::awaitable<chatwire::chat_stream> open() {
        chatwire::diagnostics diag;
        error_code ec;
        chatwire::chat_stream s;
        if (v1_) {
            chatwire::vectorshift::v1_run_request r;
            r.chatbot_id = "bot";
            r.text = "hello";
            std::tie(ec, s) = co_await v1_->async_run_v1_stream(std::move(r), diag, tuple_awaitable);
        } else {
            std::tie(ec, s) = co_await chat_->async_send("hello", "conv-1", diag, tuple_awaitable);
        }
        BOOST_TEST_REQUIRE(!ec, case_.name << ": " << ec.message());
        co_return s;
    }

private:
    const api_case& case_;
    std::optional<chatwire::chat_client> chat_;
    std::optional<chatwire::vectorshift::client> v1_;
};

struct read_outcome {
    std::vector<chatwire::stream::owned_event> events;
    error_code end;
    std::string text;
    std::chrono::steady_clock::duration took{};
};

// Reads the stream to its end, taking events at hand with try_next or with
// async_next alone; a reader still waiting after give_up_after cancels.
// `stop_at_terminal`: close the stream as soon as the terminal event came.
asio::awaitable<read_outcome> read_to_end(chatwire::chat_stream& s, bool with_try_next, bool stop_at_terminal) {
    read_outcome out;
    const auto start = std::chrono::steady_clock::now();
    asio::cancellation_signal give_up;
    asio::steady_timer watchdog(co_await asio::this_coro::executor, give_up_after);
    watchdog.async_wait([&give_up](error_code ec) {
        if (!ec) give_up.emit(asio::cancellation_type::terminal);
    });
    for (;;) {
        error_code ec;
        chatwire::event ev;
        if (!with_try_next || !s.try_next(ec, ev))
            std::tie(ec, ev) = co_await s.async_next(asio::bind_cancellation_slot(give_up.slot(), tuple_awaitable));
        if (ec) {
            out.end = ec;
            break;
        }
        out.events.push_back(ev.to_owned());
        if (stop_at_terminal && (ev.kind == event_kind::result || ev.kind == event_kind::done)) {
            s.close();
            out.end = errc::end_of_stream;
            break;
        }
    }
    watchdog.cancel();
    out.took = std::chrono::steady_clock::now() - start;
    out.text = s.text_so_far();
    co_return out;
}

void check_reply(const api_case& c, const read_outcome& r) {
    BOOST_TEST(r.end == error_code(errc::end_of_stream), r.end.message());
    BOOST_TEST(r.took < give_up_after);
    BOOST_TEST(r.text == "Hi");
    std::vector<std::string> kinds, expected;
    for (const auto k : c.kinds) expected.emplace_back(to_string(k));
    for (const auto& ev : r.events) {
        kinds.emplace_back(to_string(ev.kind));
        BOOST_TEST(ev.text.find("EXTRA") == std::string::npos);
        BOOST_TEST(ev.raw.find("EXTRA") == std::string::npos);
    }
    BOOST_TEST(kinds == expected, boost::test_tools::per_element());
}

asio::awaitable<void> one_reply(caller& call, const api_case& c, bool with_try_next, bool stop_at_terminal) {
    auto s = co_await call.open();
    const read_outcome r = co_await read_to_end(s, with_try_next, stop_at_terminal);
    check_reply(c, r);
}

// Two replies in a row from a server that ends each response `e`.
void two_replies(const api_case& c, ending e, bool with_try_next, bool stop_at_terminal = false) {
    BOOST_TEST_CONTEXT(c.name << ", ending " << static_cast<int>(e) << (with_try_next ? ", try_next" : "")
                              << (stop_at_terminal ? ", closed at the terminal event" : "")) {
        scripted_responder server({response(c, e)});
        asio::io_context io;
        caller call(io.get_executor(), c, server);
        for (int turn = 1; turn <= 2; ++turn) {
            run_coro(io, one_reply(call, c, with_try_next, stop_at_terminal));
            if (open_body(e)) {
                // Closed by the client, not held until a timeout: the rest of
                // the body is awaited in the background for a moment only.
                const auto until = std::chrono::steady_clock::now() + 5s;
                while (server.closed_by_client() < turn && std::chrono::steady_clock::now() < until) {
                    io.restart();
                    io.run_for(10ms);
                    std::this_thread::sleep_for(2ms);
                }
                io.restart();
                BOOST_TEST(server.closed_by_client() >= turn, "connections closed: " << server.closed_by_client());
            }
        }
        BOOST_TEST(server.requests() == 2);
        if (open_body(e)) {
            BOOST_TEST(server.accepted() == 2);  // never pooled
        } else {
            BOOST_TEST(server.accepted() == 1);  // the second reply reused the first one's connection
            BOOST_TEST(server.closed_by_client() == 0);
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream_end)

// Events after the terminal event are not delivered; the rest of a body that
// was received to its end is dropped and the connection reused.
BOOST_AUTO_TEST_CASE(events_after_the_terminal_event_are_not_delivered) {
    for (const auto& c : cases()) {
        for (bool with_try_next : {true, false}) {
            two_replies(c, ending::last_chunk, with_try_next);
            two_replies(c, ending::content_length, with_try_next);
        }
    }
}

// A body left open after the terminal event ends the reply at once (not at
// the 30 s idle timeout) and its connection is closed rather than pooled.
BOOST_AUTO_TEST_CASE(a_body_left_open_after_the_terminal_event_ends_the_reply_at_once) {
    for (const auto& c : cases()) {
        two_replies(c, ending::chunked_open, true);
        two_replies(c, ending::length_open, false);
    }
}

// A reader that closes the stream at the terminal event still gives a
// connection whose body end it already received back to the pool; an open
// body is closed.
BOOST_AUTO_TEST_CASE(closing_at_the_terminal_event_keeps_a_finished_connection) {
    for (const auto& c : cases()) {
        two_replies(c, ending::last_chunk, true, true);
        two_replies(c, ending::chunked_open, false, true);
    }
}


// Servers flush each event: the end of the body ("[DONE]" and the last chunk)
// comes in a write of its own, after the terminal event. The reply ends at
// once; the connection still goes back to the pool when the end follows
// within a moment, read in the background. Without it, every such stream
// cost a new connection (and a TLS handshake).
BOOST_AUTO_TEST_CASE(a_body_end_that_follows_the_terminal_event_keeps_the_connection) {
    for (bool tls : {false, true}) {
        BOOST_TEST_CONTEXT((tls ? "https" : "http")) {
            asio::io_context io;
            chatwire::testing::raw_server server(io, tls, [](const chatwire::testing::request_seen&) {
                chatwire::testing::scripted_reply reply;
                reply.writes = {
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        chunk("data: {\"type\":\"start\",\"conversationId\":\"c1\"}\n\n") +
                        chunk("data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n") +
                        chunk("data: {\"type\":\"done\",\"data\":{\"response\":\"Hi\",\"conversationId\":\"c1\","
                              "\"messageId\":\"m1\"}}\n\n"),
                    chunk("data: [DONE]\n\n") + "0\r\n\r\n"};
                reply.write_gap = std::chrono::milliseconds(20);
                return reply;
            });
            chatwire::pollybot::options po;
            po.base_url = server.url("");
            po.api_key = "test-key";
            po.http.tls.extra_ca_pem = server.certificate_pem();
            chatwire::pollybot::client pc(io.get_executor(), po);
            for (int turn = 0; turn < 2; ++turn) {
                run_coro(io, [&]() -> asio::awaitable<void> {
                    chatwire::pollybot::chat_request req;
                    req.chatbot_id = "bot";
                    req.message = "hello";
                    chatwire::diagnostics diag;
                    auto [ec, s] = co_await pc.async_chat_stream(req, diag, tuple_awaitable);
                    BOOST_TEST_REQUIRE(!ec, ec.message());
                    const read_outcome r = co_await read_to_end(s, true, false);
                    BOOST_TEST(r.end == error_code(errc::end_of_stream), r.end.message());
                    BOOST_TEST(r.text == "Hi");
                    // Past the background read's bound: the connection is back in the pool or closed by now.
                    co_await chatwire::testing::sleep_for(std::chrono::milliseconds(400));
                }());
            }
            BOOST_TEST(server.requests() == 2);
            BOOST_TEST(server.accepted() == 1);  // the second stream reused the first one's connection
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
