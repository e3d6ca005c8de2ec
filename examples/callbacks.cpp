// callbacks: the chat of stream_chat.cpp (two turns with each API, against an
// emulator started in-process) with plain completion handlers only, no
// coroutines. Each step starts the next one from its handler; try_next()
// takes the events already received without a trip through the event loop.
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;

// One conversation: the messages to send and where it is.
struct session {
    chatwire::chat_client bot;
    std::vector<std::string> messages;
    std::size_t turn = 0;
    std::string conversation{};
    chatwire::diagnostics diag{};
    chatwire::chat_stream stream{};
    bool over = false, ok = false;
};

void send_turn(session& s);
void read_events(session& s);

// An event or the end of the reply; returns false when the reply is over.
bool on_event(session& s, chatwire::error_code ec, const chatwire::event& ev) {
    if (ec == chatwire::errc::end_of_stream) {
        s.conversation = s.stream.conversation_id();
        std::cout << "\n(conversation " << s.conversation << ")\n";
        if (++s.turn < s.messages.size()) send_turn(s);
        else s.over = s.ok = true;
        return false;
    }
    if (ec) {
        std::cerr << "\nstream failed: " << ec.message() << " " << s.stream.get_diagnostics().to_string() << "\n";
        s.over = true;
        return false;
    }
    if (ev.kind == chatwire::event_kind::token) std::cout << ev.text << std::flush;
    return true;
}

void read_events(session& s) {
    chatwire::error_code ec;
    chatwire::event ev;
    while (s.stream.try_next(ec, ev))  // what has arrived already
        if (!on_event(s, ec, ev)) return;
    s.stream.async_next([&s](chatwire::error_code ec, chatwire::event ev) {  // then wait for a read
        if (on_event(s, ec, ev)) read_events(s);
    });
}

void send_turn(session& s) {
    const std::string& message = s.messages[s.turn];
    std::cout << "> " << message << "\n< ";
    s.bot.async_send(message, s.conversation, s.diag, [&s](chatwire::error_code ec, chatwire::chat_stream stream) {
        if (ec) {
            std::cerr << "send failed: " << ec.message() << " " << s.diag.to_string() << "\n";
            s.over = true;
            return;
        }
        s.stream = std::move(stream);
        read_events(s);
    });
}

int main() {
    asio::io_context io;
    chatwire::emulator::server emulator(io.get_executor(), {});
    emulator.start();

    std::vector<session> sessions;
    for (auto api : {chatwire::api_kind::vectorshift, chatwire::api_kind::chatbotkit, chatwire::api_kind::pollybot}) {
        chatwire::chat_options o;
        o.api = api;
        o.base_url = emulator.base_url() + (api == chatwire::api_kind::chatbotkit ? "/api/v1" : "");
        o.api_key = "example-key";
        o.chatbot_id = "example-bot";
        o.http.tls.extra_ca_pem = emulator.certificate_pem();  // trust the emulator's own certificate
        sessions.push_back({.bot = chatwire::chat_client(io.get_executor(), std::move(o)),
                            .messages = {"Where is my order?", "Can I change the address?"}});
    }

    // One API after the other, so that the output reads in order. The
    // emulator keeps the io_context busy: run it one handler at a time until
    // the conversation is over.
    for (auto& s : sessions) {
        std::cout << "== " << chatwire::to_string(s.bot.api()) << " ==\n";
        send_turn(s);
        while (!s.over) io.run_one();
    }
    bool all_ok = std::all_of(sessions.begin(), sessions.end(), [](const session& s) { return s.ok; });
    sessions.clear();  // closes the idle pooled connections
    emulator.stop();
    io.run();
    return all_ok ? 0 : 1;
}
