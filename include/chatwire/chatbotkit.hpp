#pragma once
// ChatBotKit v1: conversations and their completion (JSON or JSON lines).
#include <chatwire/chat_stream.hpp>
#include <chatwire/chatbotkit/records.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/pager.hpp>

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
using conversation_handler = boost::asio::any_completion_handler<void(error_code, conversation_record)>;
void create_conversation(const std::shared_ptr<state>&, conversation_fields, diagnostics&, id_handler);
void fetch_conversation(const std::shared_ptr<state>&, std::string id, diagnostics&, conversation_handler);
void update_conversation(const std::shared_ptr<state>&, std::string id, conversation_fields,
                         std::optional<boost::json::object> merge_meta, diagnostics&, id_handler);
void delete_conversation(const std::shared_ptr<state>&, std::string id, diagnostics&, id_handler);
void create_message(const std::shared_ptr<state>&, std::string conversation_id, message, diagnostics&, id_handler);
std::shared_ptr<chatwire::detail::list_state> make_list(const std::shared_ptr<state>&, std::string path,
                                                         const list_options&);
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

    /// GET /conversation/{id}/fetch: void(error_code, conversation_record).
    template <class CompletionToken>
    auto async_fetch_conversation(std::string id, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, conversation_record)>(
            [](auto h, std::shared_ptr<detail::state> s, std::string i, diagnostics* d) {
                detail::fetch_conversation(s, std::move(i), *d, detail::conversation_handler(std::move(h)));
            },
            token, state_, std::move(id), &diag);
    }

    /// POST /conversation/{id}/update: the non-empty fields; `fields.meta`
    /// replaces all meta, `merge_meta` is sent as `$update` and merges.
    /// void(error_code, std::string id).
    template <class CompletionToken>
    auto async_update_conversation(std::string id, conversation_fields fields,
                                   std::optional<boost::json::object> merge_meta, diagnostics& diag,
                                   CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string)>(
            [](auto h, std::shared_ptr<detail::state> s, std::string i, conversation_fields f,
               std::optional<boost::json::object> m, diagnostics* d) {
                detail::update_conversation(s, std::move(i), std::move(f), std::move(m), *d,
                                            detail::id_handler(std::move(h)));
            },
            token, state_, std::move(id), std::move(fields), std::move(merge_meta), &diag);
    }

    /// POST /conversation/{id}/delete: void(error_code, std::string id).
    template <class CompletionToken>
    auto async_delete_conversation(std::string id, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string)>(
            [](auto h, std::shared_ptr<detail::state> s, std::string i, diagnostics* d) {
                detail::delete_conversation(s, std::move(i), *d, detail::id_handler(std::move(h)));
            },
            token, state_, std::move(id), &diag);
    }

    /// POST /conversation/{id}/message/create: void(error_code, std::string id).
    template <class CompletionToken>
    auto async_create_message(std::string conversation_id, message m, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string)>(
            [](auto h, std::shared_ptr<detail::state> s, std::string c, message msg, diagnostics* d) {
                detail::create_message(s, std::move(c), std::move(msg), *d, detail::id_handler(std::move(h)));
            },
            token, state_, std::move(conversation_id), std::move(m), &diag);
    }

    /// GET /conversation/list, page by page (or streamed) as items are needed.
    pager<conversation_record> conversations(const list_options& opts = {});
    /// GET /conversation/{id}/message/list.
    pager<message_record> messages(const std::string& conversation_id, const list_options& opts = {});
    /// GET /bot/list.
    pager<bot_record> bots(const list_options& opts = {});

    http::client& transport();

private:
    std::shared_ptr<detail::state> state_;
};

} // namespace chatwire::chatbotkit
