#define BOOST_TEST_MODULE integration_thread_safe
// http.thread_safe: one client per API shared by many chats on an io_context
// run by 4 threads. Every chat ends as it should, some are abandoned halfway
// from whichever thread runs them, and the client's own work never overlaps
// itself (its attempt observer, called from inside its operations, checks).
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct tally {
    std::atomic<int> finished{0};   // read to end_of_stream
    std::atomic<int> abandoned{0};  // dropped after their first token
    std::atomic<int> failed{0};
    std::atomic<int> attempts{0};
    std::array<std::atomic<bool>, 3> inside{};  // per client
    std::atomic<bool> overlapped{false};
    std::mutex mutex;  // Boost.Test is not thread-safe: failures are kept for the main thread
    std::vector<std::string> errors;
    void error(std::string e) {
        ++failed;
        std::lock_guard lock(mutex);
        errors.push_back(std::move(e));
    }
};

// Called from inside the client's operations: two at once would mean two of
// its handlers ran at the same time.
chatwire::attempt_observer overlap_detector(tally& t, std::size_t client) {
    return [&t, client](const chatwire::attempt_report&) {
        if (t.inside[client].exchange(true)) t.overlapped = true;
        ++t.attempts;
        std::this_thread::yield();
        t.inside[client] = false;
    };
}

asio::awaitable<void> one_chat(chatwire::chat_client& c, int i, tally& t) {
    chatwire::diagnostics diag;
    auto [ec, stream] = co_await c.async_send("Where is my order #" + std::to_string(i) + "?", "", diag, tuple_awaitable);
    if (ec) {
        t.error("chat " + std::to_string(i) + ": " + ec.message() + " " + diag.to_string());
        co_return;
    }
    const bool abandon = i % 5 == 0;
    std::string text;
    for (;;) {
        auto [nec, ev] = co_await stream.async_next(tuple_awaitable);
        if (nec) {
            if (nec == error_code(errc::end_of_stream) && !text.empty() && !stream.conversation_id().empty()) ++t.finished;
            else t.error("chat " + std::to_string(i) + " ended with " + nec.message());
            co_return;
        }
        if (ev.kind != chatwire::event_kind::token) continue;
        text += ev.text;
        if (abandon) {
            ++t.abandoned;
            co_return;  // the stream is dropped here, on this thread, mid-reply
        }
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(one_thread_safe_client_serves_chats_from_four_threads) {
    // The emulator in its own io_context and thread: it is not thread-safe.
    asio::io_context emu_io;
    chatwire::emulator::options eo;
    eo.token_delay = 1ms;
    chatwire::emulator::server emu(emu_io.get_executor(), chatwire::testing::with_test_protocol(eo));
    emu.start();
    auto emu_guard = asio::make_work_guard(emu_io);
    std::thread emu_thread([&] { emu_io.run(); });

    asio::io_context io(4);
    tally t;
    std::vector<std::unique_ptr<chatwire::chat_client>> clients;
    for (auto api : {chatwire::api_kind::vectorshift, chatwire::api_kind::chatbotkit, chatwire::api_kind::pollybot}) {
        chatwire::chat_options o;
        o.api = api;
        o.base_url = emu.base_url() + (api == chatwire::api_kind::chatbotkit ? "/api/v1" : "");
        o.api_key = "k";
        if (api != chatwire::api_kind::chatbotkit) o.chatbot_id = "bot";
        o.http.tls.extra_ca_pem = emu.certificate_pem();
        o.http.thread_safe = true;
        o.http.max_connections_per_origin = 16;  // some chats wait for a connection
        // A wait for a free connection ends at the connect limit: as long as the
        // whole run may take, so that a slow (TSan, busy) machine fails no chat.
        o.http.timeouts.connect = 120s;
        o.on_attempt = overlap_detector(t, clients.size());
        clients.push_back(std::make_unique<chatwire::chat_client>(io.get_executor(), o));
    }
    constexpr int chats = 150;
    for (int i = 0; i < chats; ++i)
        asio::co_spawn(io, one_chat(*clients[static_cast<std::size_t>(i) % clients.size()], i, t), [&t](std::exception_ptr e) {
            if (e) t.error("a chat threw");
        });

    std::vector<std::thread> runners;
    for (int n = 0; n < 4; ++n) runners.emplace_back([&] { io.run_for(120s); });
    for (auto& r : runners) r.join();
    // The chats went over HTTP/2 exactly when the suite runs for it.
    const char* protocol = std::getenv("CHATWIRE_TEST_PROTOCOL");
    std::size_t h2_connections = 0;
    for (const auto& c : clients) h2_connections += c->pool_stats().http2_connections;
    BOOST_TEST((h2_connections > 0) == (protocol && std::string_view(protocol) == "h2"), h2_connections);
    clients.clear();
    io.restart();
    io.run_for(5s);  // what the dropped streams posted to their strands

    emu_guard.reset();
    asio::post(emu_io, [&] { emu.stop(); });
    emu_thread.join();

    for (const auto& e : t.errors) BOOST_ERROR(e);
    BOOST_TEST(t.failed.load() == 0);
    BOOST_TEST(t.abandoned.load() == chats / 5);
    BOOST_TEST(t.finished.load() == chats - chats / 5);
    BOOST_TEST(t.attempts.load() >= chats);
    BOOST_TEST(!t.overlapped.load());
}
