// One VectorShift call made with every kind of completion token: the awaited
// ones (use_awaitable, as_tuple(use_awaitable)) run the operation inside the
// caller's coroutine when it is on the client's executor, and hand it to the
// client's executor otherwise; the rest go through the type-erased handler.
// Every way must give the same reply, the same typed errors and resume the
// caller where it runs.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"

#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace asio = boost::asio;
namespace vs = chatwire::vectorshift;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

/// The shared emulator fixture, refusing every key but "test-key", with the
/// options of a VectorShift client that reaches it.
struct emulated : chatwire::testing::emulated {
    emulated() : chatwire::testing::emulated(keyed()) {}

    static chatwire::emulator::options keyed() {
        chatwire::emulator::options o;
        o.api_key = "test-key";
        return o;
    }

    vs::options options(std::string key = "test-key", bool thread_safe = false) const {
        vs::options o;
        o.base_url = server.base_url();
        o.api_key = std::move(key);
        o.http = http();
        o.http.thread_safe = thread_safe;
        o.retry = chatwire::retry_policy::none();
        return o;
    }
};

vs::run_request question() {
    vs::run_request r;
    r.input = "Where is my order?";
    r.chatbot_id = "support-bot";
    return r;
}

/// The reply of a fresh conversation, awaited with as_tuple(use_awaitable).
asio::awaitable<void> reply_as_tuple(vs::client& c, vs::run_reply& out) {
    chatwire::diagnostics diag;
    auto [ec, r] = co_await c.async_run(question(), diag, tuple_awaitable);
    BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
    BOOST_TEST(diag.attempts == 1);
    out = std::move(r);
}

asio::awaitable<void> reply_use_awaitable(vs::client& c, vs::run_reply& out) {
    chatwire::diagnostics diag;
    out = co_await c.async_run(question(), diag, asio::use_awaitable);
    BOOST_TEST(diag.attempts == 1);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_token_gets_the_same_reply) {
    emulated e;
    vs::client c(e.io.get_executor(), e.options());
    vs::run_reply tuple_reply, awaitable_reply;
    run_coro(e.io, reply_as_tuple(c, tuple_reply));
    run_coro(e.io, reply_use_awaitable(c, awaitable_reply));
    BOOST_TEST(!tuple_reply.output.empty());
    BOOST_TEST(!tuple_reply.conversation_id.empty());
    BOOST_TEST(awaitable_reply.output == tuple_reply.output);

    // A callback.
    chatwire::diagnostics diag;
    std::optional<vs::run_reply> called;
    c.async_run(question(), diag, [&](error_code ec, vs::run_reply r) {
        BOOST_TEST(!ec, ec.message());
        called = std::move(r);
    });
    e.io.restart();
    while (!called && e.io.run_one_for(std::chrono::seconds(5))) {
    }
    BOOST_TEST_REQUIRE(called.has_value());
    BOOST_TEST(called->output == tuple_reply.output);

    // deferred, launched later with a callback.
    std::optional<vs::run_reply> deferred_reply;
    auto op = c.async_run(question(), diag, asio::deferred);
    std::move(op)([&](error_code ec, vs::run_reply r) {
        BOOST_TEST(!ec, ec.message());
        deferred_reply = std::move(r);
    });
    while (!deferred_reply && e.io.run_one_for(std::chrono::seconds(5))) {
    }
    BOOST_TEST_REQUIRE(deferred_reply.has_value());
    BOOST_TEST(deferred_reply->output == tuple_reply.output);

    // use_future, the event loop on another thread.
    auto work = asio::make_work_guard(e.io);
    std::thread loop([&] { e.io.run(); });
    auto future = c.async_run(question(), diag, asio::use_future);
    const auto status = future.wait_for(std::chrono::seconds(10));
    BOOST_TEST((status == std::future_status::ready));
    if (status == std::future_status::ready) BOOST_TEST(future.get().output == tuple_reply.output);
    work.reset();
    e.io.stop();
    loop.join();
}

namespace {

asio::awaitable<void> expect_unauthorized(vs::client& c) {
    chatwire::diagnostics diag;
    auto [ec, r] = co_await c.async_run(question(), diag, tuple_awaitable);
    BOOST_TEST((ec == errc::unauthorized), ec.message());
    BOOST_TEST(diag.http_status == 401);
    bool thrown = false;
    try {
        co_await c.async_run(question(), diag, asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
        thrown = true;
        BOOST_TEST((e.code() == errc::unauthorized), e.code().message());
    }
    BOOST_TEST(thrown);
    BOOST_TEST(diag.http_status == 401);  // the diagnostics of the throwing call
    BOOST_TEST(diag.attempts == 1);
}

} // namespace

BOOST_AUTO_TEST_CASE(awaited_errors_are_typed_with_their_diagnostics) {
    emulated e;
    vs::client c(e.io.get_executor(), e.options("not-the-key"));
    run_coro(e.io, expect_unauthorized(c));
}

namespace {

// The caller runs on a strand, not the client's executor: the call is handed
// to the client's executor and the caller resumes on its strand.
asio::awaitable<void> on_strand(vs::client& c, asio::strand<asio::io_context::executor_type> strand, int& done) {
    for (int i = 0; i < 3; ++i) {
        chatwire::diagnostics diag;
        auto [ec, r] = co_await c.async_run(question(), diag, tuple_awaitable);
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(strand.running_in_this_thread());
        auto again = co_await c.async_run(question(), diag, asio::use_awaitable);
        BOOST_TEST(again.output == r.output);
        BOOST_TEST(strand.running_in_this_thread());
    }
    ++done;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_caller_elsewhere_resumes_where_it_runs) {
    emulated e;
    vs::client c(e.io.get_executor(), e.options());
    vs::client safe(e.io.get_executor(), e.options("test-key", true));  // its own strand
    auto strand = asio::make_strand(e.io);
    int done = 0;
    bool finished = false;
    asio::co_spawn(strand, on_strand(c, strand, done), [&](std::exception_ptr x) {
        BOOST_TEST(!x);
        finished = true;
    });
    // A thread-safe client awaited from the plain executor: it runs on its strand.
    vs::run_reply from_safe;
    run_coro(e.io, reply_as_tuple(safe, from_safe));
    BOOST_TEST(!from_safe.output.empty());
    while (!finished && e.io.run_one_for(std::chrono::seconds(5))) {
    }
    BOOST_TEST(finished);
    BOOST_TEST(done == 1);
}

namespace {

asio::awaitable<void> on_other_context(vs::client& c, asio::io_context& mine, std::string& output) {
    chatwire::diagnostics diag;
    auto [ec, r] = co_await c.async_run(question(), diag, tuple_awaitable);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(mine.get_executor().running_in_this_thread());
    output = r.output;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_caller_on_another_io_context_resumes_on_its_own) {
    emulated e;
    vs::client c(e.io.get_executor(), e.options());
    auto work = asio::make_work_guard(e.io);
    std::thread client_loop([&] { e.io.run(); });  // the client and the emulator
    asio::io_context mine;
    std::string output;
    run_coro(mine, on_other_context(c, mine, output));
    work.reset();
    e.io.stop();
    client_loop.join();
    BOOST_TEST(!output.empty());
}

namespace {

namespace this_coro = asio::this_coro;

// An awaited call leaves the caller's throw_if_cancelled as it found it
// (the transport turns it off for itself while it runs).
asio::awaitable<void> keeps_throw_setting(vs::client& c) {
    chatwire::diagnostics diag;
    for (bool setting : {false, true, false}) {
        co_await this_coro::throw_if_cancelled(setting);
        auto [ec, r] = co_await c.async_run(question(), diag, tuple_awaitable);
        BOOST_TEST(!ec, ec.message());
        const bool now = co_await this_coro::throw_if_cancelled();
        BOOST_TEST(now == setting);
    }
}

// A coroutine that does not throw on cancellation and goes on calling after
// a cancel: its calls run on a fresh state, as a handler-based call would.
asio::awaitable<void> calls_after_a_cancel(vs::client& c, asio::steady_timer& gate, error_code& waited,
                                           error_code& called, bool& done) {
    co_await this_coro::throw_if_cancelled(false);
    auto [gate_ec] = co_await gate.async_wait(tuple_awaitable);
    waited = gate_ec;
    chatwire::diagnostics diag;
    auto [ec, r] = co_await c.async_run(question(), diag, tuple_awaitable);
    called = ec;
    done = true;
}

} // namespace

BOOST_AUTO_TEST_CASE(awaited_calls_leave_the_callers_cancellation_settings) {
    emulated e;
    vs::client c(e.io.get_executor(), e.options());
    run_coro(e.io, keeps_throw_setting(c));

    asio::steady_timer gate(e.io, std::chrono::seconds(30));
    asio::cancellation_signal cancel;
    error_code waited, called;
    bool done = false;
    asio::co_spawn(e.io, calls_after_a_cancel(c, gate, waited, called, done),
                   asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr x) { BOOST_TEST(!x); }));
    e.io.restart();
    e.io.poll();  // the coroutine now waits on the gate
    cancel.emit(asio::cancellation_type::terminal);
    while (!done && e.io.run_one_for(std::chrono::seconds(5))) {}
    BOOST_TEST(done);
    BOOST_TEST((waited == asio::error::operation_aborted), waited.message());
    BOOST_TEST(!called, "the call after the cancel: " << called.message());
}
