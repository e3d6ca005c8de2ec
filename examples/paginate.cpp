// paginate: walk a ChatBotKit list page by page with chatwire::pager, stop
// half way, keep only the cursor, and resume from it later with a new pager:
// every conversation is printed once. Runs against an in-process emulator,
// filled with 25 conversations first.
#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace cbk = chatwire::chatbotkit;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Prints up to `limit` items; returns how many it printed.
asio::awaitable<int> print(chatwire::pager<cbk::conversation_record>& pager, int limit) {
    int n = 0;
    while (n < limit) {
        auto [ec, conversation] = co_await pager.async_next(tuple_awaitable);
        if (ec) {
            std::cout << "error: " << ec.message() << " " << pager.get_diagnostics().to_string() << "\n";
            break;
        }
        if (!conversation) break;  // the end of the list
        std::cout << conversation->name << " (" << conversation->id << ")\n";
        ++n;
    }
    co_return n;
}

asio::awaitable<void> run(cbk::client& client) {
    chatwire::diagnostics diag;
    for (int i = 0; i < 25; ++i) {
        cbk::conversation_fields fields;
        fields.name = "conversation " + std::to_string(i);
        co_await client.async_create_conversation(std::move(fields), diag, tuple_awaitable);
    }

    cbk::list_options options;
    options.take = 4;  // small pages, to show the cursor crossing them
    options.order = cbk::list_order::asc;
    auto first = client.conversations(options);
    int printed = co_await print(first, 13);
    std::string saved = first.cursor();  // all a later run needs to know
    std::cout << "-- stopped after " << printed << ", cursor " << saved << "\n";

    options.cursor = saved;
    auto rest = client.conversations(options);
    printed += co_await print(rest, 1000);
    std::cout << "-- listed " << printed << " conversations in all\n";
}

int main() {
    asio::io_context io;
    chatwire::emulator::server emulator(io.get_executor(), {});
    emulator.start();

    cbk::options o;
    o.base_url = emulator.base_url() + "/api/v1";
    o.secret = "example-key";
    o.http.tls.extra_ca_pem = emulator.certificate_pem();
    cbk::client client(io.get_executor(), o);

    asio::co_spawn(io, run(client), [&](std::exception_ptr) { emulator.stop(); });
    io.run();
}
