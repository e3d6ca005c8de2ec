#pragma once
// ChatBotKit's client state and its operations as awaitables (for chat_client).
#include "call.hpp"

#include <chatwire/chatbotkit.hpp>

namespace chatwire::chatbotkit::detail {

struct state : chatwire::detail::provider_core {
    state(boost::asio::any_io_executor ex, options o);
    options opts;
    std::string auth;  ///< Authorization, and X-RunAs-UserId when set
};

boost::asio::awaitable<std::pair<error_code, std::string>> create_conversation_op(std::shared_ptr<state> st,
                                                                                  conversation_fields f,
                                                                                  diagnostics& diag);
boost::asio::awaitable<std::pair<error_code, completion>> complete_op(std::shared_ptr<state> st,
                                                                      complete_request req, diagnostics& diag);
boost::asio::awaitable<std::pair<error_code, chat_stream>> complete_stream_op(std::shared_ptr<state> st,
                                                                              complete_request req,
                                                                              diagnostics& diag);

/// The request a call sends, built without I/O (unit-tested without sockets).
error_code build_complete(const state& st, const complete_request& req, bool stream, diagnostics& diag,
                          chatwire::detail::api_request& out);

} // namespace chatwire::chatbotkit::detail
