#pragma once
// How a failed call becomes an exit code, the same for every subcommand.
#include "commands.hpp"

#include <chatwire/error.hpp>

#include <boost/beast/http/error.hpp>

namespace chatwire::cli {

/// The HTTP parser's verdict on what the server sent: a response that is not
/// HTTP/1.1 as written (bad status line, header, chunk or length) or outgrew
/// the parser's limits. A connection cut before the end is not one of them.
inline bool is_malformed_http(const error_code& ec) {
    namespace bh = boost::beast::http;
    if (ec.category() != make_error_code(bh::error::bad_status).category()) return false;
    return ec != bh::error::end_of_stream && ec != bh::error::partial_message && ec != bh::error::short_read;
}

/// Which exit code each failure earns (see commands.hpp). Every chatwire
/// code is listed, so that a new one must be placed here to compile.
inline int exit_code_for(const error_code& ec) {
    if (!ec) return exit_ok;
    if (ec.category() != chatwire::error_category()) return is_malformed_http(ec) ? exit_api : exit_network;
    switch (static_cast<errc>(ec.value())) {
    // What the caller got wrong, found before anything was sent.
    case errc::invalid_argument: case errc::invalid_url: case errc::tls_setup_failed:
        return exit_usage;
    // The service answered with an error.
    case errc::http_error: case errc::bad_request: case errc::unauthorized: case errc::forbidden:
    case errc::payment_required: case errc::not_found: case errc::conflict: case errc::rate_limited:
    case errc::quota_exceeded: case errc::server_error: case errc::run_failed: case errc::stream_error:
    // The service answered with something malformed: not the shape the API
    // documents, an event, header, body or reply past its limit, an encoding
    // not decoded, a list that loops, a broken HTTP/2 connection (the
    // parser's own errors are above).
    case errc::bad_response: case errc::malformed_event: case errc::event_too_large:
    case errc::header_limit_exceeded: case errc::body_limit_exceeded: case errc::reply_too_large:
    case errc::unsupported_encoding: case errc::pagination_loop: case errc::protocol_error:
        return exit_api;
    // No (whole) answer: connections, timeouts, a cut or reset stream, retries given up.
    case errc::connect_timeout: case errc::first_byte_timeout: case errc::idle_timeout: case errc::total_timeout:
    case errc::cancelled: case errc::truncated_stream: case errc::stream_reset: case errc::retry_budget_exhausted:
        return exit_network;
    // Normal ends, never a failure: `list` reports a page cap itself (exit_page_limit).
    case errc::end_of_stream: case errc::page_limit_reached:
        return exit_failure;
    }
    return exit_failure;
}

} // namespace chatwire::cli
