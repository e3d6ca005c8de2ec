#pragma once
// An emulator running on its own io_context thread for the duration of a test.
#include "test_client.hpp"

#include <chatwire/emulator/server.hpp>

#include <boost/asio/io_context.hpp>

#include <optional>
#include <thread>

struct running_emulator {
    explicit running_emulator(chatwire::emulator::options o = {}) {
        srv.emplace(io.get_executor(), std::move(o));
        srv->start();
        thread = std::thread([this] { io.run(); });
    }
    ~running_emulator() {
        srv->stop();
        thread.join();
    }
    emu_test::target target() const { return {srv->port(), srv->certificate_pem()}; }
    /// The header that opens the admin API, for exchange().
    emu_test::header_list admin() const { return {{"X-Emulator-Admin-Token", srv->admin_token()}}; }
    /// The same as a raw header line.
    std::string admin_line() const { return "X-Emulator-Admin-Token: " + srv->admin_token() + "\r\n"; }

    boost::asio::io_context io;
    std::optional<chatwire::emulator::server> srv;
    std::thread thread;
};

inline chatwire::emulator::options plain_options() {
    chatwire::emulator::options o;
    o.tls = false;
    return o;
}

inline const emu_test::header_list bearer{{"Authorization", "Bearer sk-test"}};
