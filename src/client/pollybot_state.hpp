#pragma once
// PollyBot's client state and its operations as awaitables (for chat_client).
#include "call.hpp"

#include <chatwire/pollybot.hpp>

namespace chatwire::pollybot::detail {

struct state : chatwire::detail::provider_core {
    state(boost::asio::any_io_executor ex, options o);
    options opts;
    std::string auth;  ///< "Authorization: Bearer …\r\n"
    /// Of the most recent response; shared with the copies with_retry makes.
    std::shared_ptr<rate_limit> last = std::make_shared<rate_limit>();
};

boost::asio::awaitable<std::pair<error_code, chat_reply>> chat_op(std::shared_ptr<state> st, chat_request req,
                                                                  diagnostics& diag);
boost::asio::awaitable<std::pair<error_code, chat_stream>> chat_stream_op(std::shared_ptr<state> st,
                                                                          chat_request req, diagnostics& diag);

/// The request a call sends, built without I/O (unit-tested without sockets).
error_code build_chat(const state& st, const chat_request& req, bool stream, diagnostics& diag,
                      chatwire::detail::api_request& out);

} // namespace chatwire::pollybot::detail
