#pragma once
// The emulator as a real HTTP(S) server on the caller's executor: one listener
// serving VectorShift, ChatBotKit and PollyBot plus the `/_emulator/` admin API
// (which asks for admin_token() in the X-Emulator-Admin-Token header).
// It starts no threads; run the executor's context to serve.
#include <chatwire/emulator/options.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace chatwire::emulator {

/// The emulator serving over TCP (or TLS) on an executor of the caller's.
class server {
public:
    /// Binds and listens at once (throws boost::system::system_error when the
    /// address is taken; std::invalid_argument for a bad fault script or an
    /// h2.initial_window out of HTTP/2's range).
    server(boost::asio::any_io_executor ex, options opts);
    ~server();  ///< stops
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Starts accepting connections.
    void start();
    /// Stops accepting and closes every open connection; handlers still queued
    /// finish on the executor. Safe to call more than once.
    void stop();

    /// The port it listens on (the one chosen when options::port was 0).
    std::uint16_t port() const noexcept;
    /// "https://127.0.0.1:PORT" (http:// when plain).
    std::string base_url() const;
    /// The token the `/_emulator/` admin API asks for in admin_token_header
    /// (options::admin_token, else the API key, else generated at construction).
    /// Fixed for the server's life: safe to read from any thread.
    const std::string& admin_token() const noexcept;
    /// The PEM a client must trust (empty when plain).
    const std::string& certificate_pem() const noexcept;

    struct impl;  ///< implementation detail (shared with the connections it serves)

private:
    std::shared_ptr<impl> impl_;
};

} // namespace chatwire::emulator
