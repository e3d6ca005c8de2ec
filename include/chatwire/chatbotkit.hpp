#pragma once
// ChatBotKit v1: conversations and their completion (JSON or JSON lines).
#include <chatwire/chat_stream.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chatwire::chatbotkit {

enum class auth_scheme { bearer, token };

struct options {
    /// Includes the version prefix: "https://api.chatbotkit.com/v1", or
    /// "<emulator>/api/v1" (the emulator serves both /v1 and /api/v1).
    std::string base_url = "https://api.chatbotkit.com/v1";
    std::string secret;                      ///< never logged
    auth_scheme scheme = auth_scheme::bearer;
    std::string run_as_user_id;              ///< X-RunAs-UserId when not empty
    http::client_options http;
};

struct message {
    std::string type;  ///< "user", "bot", ...
    std::string text;
};

struct conversation_fields {
    std::string bot_id;
    std::string model;
    std::string backstory;
    std::string name;
    std::string description;
    std::optional<boost::json::object> meta;  ///< create: the meta; update: replaces all meta
    std::vector<message> messages;            ///< create only
};

struct completion {
    std::string id;    ///< empty for a stateless completion
    std::string text;
    std::optional<std::uint64_t> tokens;
    std::string end_reason;
};

struct complete_request {
    std::string conversation_id;  ///< empty: stateless completion of `messages`
    std::string text;             ///< the user's message (conversation completion)
    std::vector<message> messages;
    std::string bot_id;
    std::string model;
};

namespace detail {
struct state;
using id_handler = boost::asio::any_completion_handler<void(error_code, std::string)>;
using completion_handler = boost::asio::any_completion_handler<void(error_code, completion)>;
using stream_handler = boost::asio::any_completion_handler<void(error_code, chat_stream)>;
void create_conversation(const std::shared_ptr<state>&, conversation_fields, diagnostics&, id_handler);
void complete(const std::shared_ptr<state>&, complete_request, diagnostics&, completion_handler);
void complete_stream(const std::shared_ptr<state>&, complete_request, diagnostics&, stream_handler);
} // namespace detail

class client {
public:
    client(boost::asio::any_io_executor ex, options opts);

    /// POST /conversation/create: void(error_code, std::string id).
    template <class CompletionToken>
    auto async_create_conversation(conversation_fields fields, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string)>(
            [](auto h, std::shared_ptr<detail::state> s, conversation_fields f, diagnostics* d) {
                detail::create_conversation(s, std::move(f), *d, detail::id_handler(std::move(h)));
            },
            token, state_, std::move(fields), &diag);
    }

    /// POST /conversation/{id}/complete, or /conversation/complete when the
    /// request has no conversation id: void(error_code, completion).
    template <class CompletionToken>
    auto async_complete(complete_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, completion)>(
            [](auto h, std::shared_ptr<detail::state> s, complete_request r, diagnostics* d) {
                detail::complete(s, std::move(r), *d, detail::completion_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    /// The same, streamed as JSON lines: void(error_code, chat_stream).
    template <class CompletionToken>
    auto async_complete_stream(complete_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, chat_stream)>(
            [](auto h, std::shared_ptr<detail::state> s, complete_request r, diagnostics* d) {
                detail::complete_stream(s, std::move(r), *d, detail::stream_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    http::client& transport();

private:
    std::shared_ptr<detail::state> state_;
};

} // namespace chatwire::chatbotkit
