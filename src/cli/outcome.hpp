#pragma once
// How a failed call becomes an exit code, the same for every subcommand: the
// library's classes of failure (chatwire::condition) decide it.
#include "commands.hpp"

#include <chatwire/error.hpp>

namespace chatwire::cli {

/// Which exit code each failure earns (see commands.hpp).
inline int exit_code_for(const error_code& ec) {
    if (!ec) return exit_ok;
    // Normal ends, never a failure: `list` reports a page cap itself (exit_page_limit).
    if (ec == errc::end_of_stream || ec == errc::page_limit_reached) return exit_failure;
    if (ec == condition::invalid_input) return exit_usage;
    // The service answered: with an error, or with what chatwire does not take.
    if (ec == condition::provider || ec == condition::malformed) return exit_api;
    // No (whole) answer: connections, timeouts, a cut or reset stream, a
    // cancel, retries given up.
    return exit_network;
}

} // namespace chatwire::cli
