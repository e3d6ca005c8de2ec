#pragma once
// One chat interface over the three APIs: a service switches provider by
// changing how it constructs the chat_client, nothing else.
#include <chatwire/chat_stream.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire {

enum class api { vectorshift, chatbotkit, pollybot };

std::string_view to_string(api a) noexcept;
std::optional<api> api_from_string(std::string_view name) noexcept;

struct chat_options {
    enum api api = api::pollybot;
    /// VectorShift: the host ("https://api.vectorshift.ai"); ChatBotKit: with
    /// its version prefix ("https://api.chatbotkit.com/v1"); PollyBot: your domain.
    std::string base_url;
    std::string api_key;     ///< never logged
    std::string chatbot_id;  ///< VectorShift chatbot, ChatBotKit bot (optional), PollyBot chatbot
    http::client_options http;
};

/// The whole reply of a non-streamed send.
struct chat_reply {
    std::string text;
    std::string conversation_id;
};

namespace detail {
struct chat_client_state;
using chat_stream_handler = boost::asio::any_completion_handler<void(error_code, chat_stream)>;
using chat_reply_handler = boost::asio::any_completion_handler<void(error_code, chat_reply)>;
void send_stream(const std::shared_ptr<chat_client_state>&, std::string message, std::string conversation,
                 diagnostics&, chat_stream_handler);
void send_whole(const std::shared_ptr<chat_client_state>&, std::string message, std::string conversation,
                diagnostics&, chat_reply_handler);
} // namespace detail

class chat_client {
public:
    chat_client(boost::asio::any_io_executor ex, chat_options opts);

    /// Sends `message` in `conversation` (empty: a new one) and streams the
    /// reply: void(error_code, chat_stream). The stream's conversation_id()
    /// is the one to pass next time; on failure diag.conversation_id names it
    /// (for ChatBotKit, also a conversation this call created).
    template <class CompletionToken>
    auto async_send(std::string message, std::string conversation, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, chat_stream)>(
            [](auto h, std::shared_ptr<detail::chat_client_state> s, std::string m, std::string c, diagnostics* d) {
                detail::send_stream(s, std::move(m), std::move(c), *d, detail::chat_stream_handler(std::move(h)));
            },
            token, state_, std::move(message), std::move(conversation), &diag);
    }

    /// The same without streaming: void(error_code, chat_reply).
    template <class CompletionToken>
    auto async_send_whole(std::string message, std::string conversation, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, chat_reply)>(
            [](auto h, std::shared_ptr<detail::chat_client_state> s, std::string m, std::string c, diagnostics* d) {
                detail::send_whole(s, std::move(m), std::move(c), *d, detail::chat_reply_handler(std::move(h)));
            },
            token, state_, std::move(message), std::move(conversation), &diag);
    }

    enum api api() const noexcept;

private:
    std::shared_ptr<detail::chat_client_state> state_;
};

} // namespace chatwire
