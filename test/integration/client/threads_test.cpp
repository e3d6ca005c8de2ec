#define BOOST_TEST_MODULE integration_threads
// No hidden threads: a whole chat to a host name, lookup included, runs on the
// caller's one thread. The emulator serves on the same io_context (it starts
// no threads either), so the process has exactly one.
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <filesystem>
#include <iterator>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
using chatwire::testing::run_coro;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

long thread_count() {
    return static_cast<long>(std::distance(std::filesystem::directory_iterator("/proc/self/task"), {}));
}

// Two turns (a new connection, then a pooled one), the thread count sampled
// after every step and event.
asio::awaitable<void> chat_counting_threads(chatwire::chat_client& c, long& most) {
    std::string conversation;
    for (int turn = 0; turn < 2; ++turn) {
        chatwire::diagnostics diag;
        auto [ec, stream] = co_await c.async_send("Where is my order?", conversation, diag, tuple_awaitable);
        most = std::max(most, thread_count());
        BOOST_TEST_REQUIRE(!ec, ec.message() << " " << diag.to_string());
        std::string text;
        for (;;) {
            auto [nec, ev] = co_await stream.async_next(tuple_awaitable);
            most = std::max(most, thread_count());
            if (nec) {
                BOOST_TEST(nec == error_code(errc::end_of_stream), nec.message());
                break;
            }
            if (ev.kind == chatwire::event_kind::token) text += ev.text;
        }
        BOOST_TEST(!text.empty());
        conversation = stream.conversation_id();
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_chat_to_a_host_name_starts_no_thread) {
    BOOST_TEST_REQUIRE(thread_count() == 1);
    asio::io_context io;
    chatwire::emulator::options eo;
    eo.token_delay = 2ms;
    chatwire::emulator::server emu(io.get_executor(), chatwire::testing::with_test_protocol(eo));
    emu.start();
    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = "https://localhost:" + std::to_string(emu.port());
    o.api_key = "k";
    o.chatbot_id = "bot";
    o.http.tls.extra_ca_pem = emu.certificate_pem();
    chatwire::chat_client c(io.get_executor(), o);
    long most = 0;
    run_coro(io, chat_counting_threads(c, most));
    BOOST_TEST(most == 1);
    BOOST_TEST(thread_count() == 1);
}
