#pragma once
// How a failed call becomes an exit code, the same for every subcommand.
#include "commands.hpp"

#include <chatwire/error.hpp>

namespace chatwire::cli {

/// The service answered, but with an error (or with something unreadable).
inline bool is_provider_error(const error_code& ec) {
    if (ec.category() != chatwire::error_category()) return false;
    switch (static_cast<errc>(ec.value())) {
    case errc::http_error: case errc::bad_response: case errc::bad_request: case errc::unauthorized:
    case errc::forbidden: case errc::payment_required: case errc::not_found: case errc::conflict:
    case errc::rate_limited: case errc::quota_exceeded: case errc::server_error: case errc::run_failed:
    case errc::stream_error: case errc::malformed_event: case errc::event_too_large:
        return true;
    default:
        return false;
    }
}

/// exit_usage for what the caller got wrong, exit_api for the service's
/// errors, exit_network for the rest (connections, TLS, timeouts).
inline int exit_code_for(const error_code& ec) {
    if (ec == errc::invalid_argument || ec == errc::invalid_url || ec == errc::tls_setup_failed) return exit_usage;
    return is_provider_error(ec) ? exit_api : exit_network;
}

} // namespace chatwire::cli
