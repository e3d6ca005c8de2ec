// Streams one reply from each API, against an emulator started in-process:
// the same chat_client code talks to the real services given their base URL
// and key.
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace asio = boost::asio;

asio::awaitable<void> converse(chatwire::chat_options opts) {
    chatwire::chat_client bot(co_await asio::this_coro::executor, std::move(opts));
    std::string conversation;
    for (const char* message : {"Where is my order?", "Can I change the address?"}) {
        chatwire::diagnostics diag;
        auto [ec, stream] = co_await bot.async_send(message, conversation, diag, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            std::cerr << "send failed: " << ec.message() << " " << diag.to_string() << "\n";
            co_return;
        }
        std::cout << "> " << message << "\n< ";
        for (;;) {
            auto [nec, ev] = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
            if (nec == chatwire::errc::end_of_stream) break;
            if (nec) {
                std::cerr << "\nstream failed: " << nec.message() << " " << stream.get_diagnostics().to_string() << "\n";
                co_return;
            }
            if (ev.kind == chatwire::event_kind::token) std::cout << ev.text << std::flush;
        }
        conversation = stream.conversation_id();
        std::cout << "\n(conversation " << conversation << ")\n";
    }
}

asio::awaitable<void> each_api(chatwire::emulator::server& emulator) {
    for (auto api : {chatwire::api_kind::vectorshift, chatwire::api_kind::chatbotkit, chatwire::api_kind::pollybot}) {
        chatwire::chat_options o;
        o.api = api;
        o.base_url = emulator.base_url() + (api == chatwire::api_kind::chatbotkit ? "/api/v1" : "");
        o.api_key = "example-key";
        o.chatbot_id = "example-bot";
        o.http.tls.extra_ca_pem = emulator.certificate_pem();  // trust the emulator's own certificate
        std::cout << "== " << chatwire::to_string(api) << " ==\n";
        co_await converse(std::move(o));
    }
    emulator.stop();
}

int main() {
    asio::io_context io;
    chatwire::emulator::server emulator(io.get_executor(), {});
    emulator.start();
    asio::co_spawn(io, each_api(emulator), asio::detached);
    io.run();
}
