// futures: chatwire from plain blocking code. One thread runs the io_context
// (with an in-process emulator); the main thread sends a message and reads
// the streamed reply with asio::use_future, waiting on each future in turn.
// A client and its streams are not thread-safe: each operation is started,
// and each object destroyed, on the io_context's thread (a post, then the
// operation, as one deferred chain); only results cross over.
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

namespace asio = boost::asio;

// Starts `op(asio::deferred)` on the io_context's thread: a future of its
// (error_code, result) tuple.
template <class Op>
auto async_on_io_thread(asio::io_context& io, Op op) {
    return asio::post(io, asio::deferred([op]() mutable { return op(asio::as_tuple(asio::deferred)); }))(
        asio::use_future);
}

// Runs `fn()` on the io_context's thread and waits for it.
template <class Fn>
void on_io_thread(asio::io_context& io, Fn fn) {
    asio::post(io, asio::use_future(fn)).get();
}

int main() {
    asio::io_context io;
    auto guard = asio::make_work_guard(io);  // run() waits for work instead of returning
    chatwire::emulator::server emulator(io.get_executor(), {});
    emulator.start();
    std::thread io_thread([&io] { io.run(); });

    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = emulator.base_url();
    o.api_key = "example-key";
    o.chatbot_id = "example-bot";
    o.http.tls.extra_ca_pem = emulator.certificate_pem();
    std::optional<chatwire::chat_client> bot(std::in_place, io.get_executor(), std::move(o));

    int status = 0;
    std::string conversation;
    for (std::string message : {"Where is my order?", "Can I change the address?"}) {
        std::cout << "> " << message << "\n< ";
        chatwire::diagnostics diag;
        chatwire::error_code ec;
        chatwire::chat_stream stream;
        std::tie(ec, stream) = async_on_io_thread(io, [&](auto token) {
                                   return bot->async_send(message, conversation, diag, token);
                               }).get();
        if (ec) {
            std::cerr << "send failed: " << ec.message() << " " << diag.to_string() << "\n";
            status = 1;
            break;
        }
        for (;;) {
            // The event's text stays valid until the next call on the stream.
            auto [nec, ev] = async_on_io_thread(io, [&](auto token) { return stream.async_next(token); }).get();
            if (nec == chatwire::errc::end_of_stream) break;
            if (nec) {
                std::cerr << "\nstream failed: " << nec.message() << " " << stream.get_diagnostics().to_string() << "\n";
                status = 1;
                break;
            }
            if (ev.kind == chatwire::event_kind::token) std::cout << ev.text << std::flush;
        }
        conversation = stream.conversation_id();
        std::cout << "\n(conversation " << conversation << ")\n";
        on_io_thread(io, [&] { stream = {}; });
        if (status) break;
    }

    on_io_thread(io, [&] {
        bot.reset();  // closes its pooled connections
        emulator.stop();
    });
    guard.reset();  // run() returns once the last handlers ran
    io_thread.join();
    return status;
}
