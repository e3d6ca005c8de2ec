#pragma once
// The emulator of all three APIs on 127.0.0.1, run by the test's own
// io_context, and the options a client needs to reach it.
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/http/options.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

namespace chatwire::testing {

/// CHATWIRE_TEST_PROTOCOL=h2 runs a suite over HTTP/2: the emulator offers
/// it, and the clients (which offer h2 over TLS by default) take it.
inline emulator::options with_test_protocol(emulator::options o) {
    const char* p = std::getenv("CHATWIRE_TEST_PROTOCOL");
    if (p && std::string_view(p) == "h2") o.http2 = true;
    return o;
}

struct emulated {
    explicit emulated(emulator::options o = {}) : server(io.get_executor(), with_test_protocol(std::move(o))) {
        server.start();
    }

    /// Transport options that trust the emulator's certificate.
    http::client_options http() const {
        http::client_options o;
        o.tls.extra_ca_pem = server.certificate_pem();
        return o;
    }

    /// chat_client options for `api` on this emulator: key "test-key",
    /// chatbot "support-bot", the default retry policy.
    chat_options chat_options_for(api_kind api) const {
        chat_options o;
        o.api = api;
        o.base_url = server.base_url() + (api == api_kind::chatbotkit ? "/api/v1" : "");
        o.api_key = "test-key";
        o.chatbot_id = "support-bot";
        o.http = http();
        return o;
    }

    boost::asio::io_context io;
    emulator::server server;
};

} // namespace chatwire::testing
