#pragma once
// VectorShift's client state and its operations as awaitables (for chat_client).
#include "call.hpp"

#include <chatwire/vectorshift.hpp>

namespace chatwire::vectorshift::detail {

struct state : chatwire::detail::provider_core {
    state(boost::asio::any_io_executor ex, options o);
    options opts;
    std::string legacy_auth;  ///< "Api-Key: …\r\n" for the legacy endpoint
    std::string bearer_auth;  ///< "Authorization: Bearer …\r\n" for v1
};

boost::asio::awaitable<std::pair<error_code, run_reply>> run_op(std::shared_ptr<state> st, run_request req,
                                                                diagnostics& diag);
boost::asio::awaitable<std::pair<error_code, chat_stream>> run_stream_op(std::shared_ptr<state> st,
                                                                         run_request req, diagnostics& diag);

/// The request a call sends, built without I/O (unit-tested without sockets).
error_code build_legacy(const state& st, const run_request& req, bool stream, diagnostics& diag,
                        chatwire::detail::api_request& out);
error_code build_v1(const state& st, const v1_run_request& req, bool stream, diagnostics& diag,
                    chatwire::detail::api_request& out);

} // namespace chatwire::vectorshift::detail
