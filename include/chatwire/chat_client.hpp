#pragma once
// One chat interface over the three APIs: a service switches provider by
// changing how it constructs the chat_client, nothing else.
#include <chatwire/api_key.hpp>
#include <chatwire/chat_stream.hpp>
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/options.hpp>
#include <chatwire/http/pool_stats.hpp>
#include <chatwire/retry/attempt.hpp>
#include <chatwire/retry/policy.hpp>
#include <chatwire/retry/store.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire {

/// Which provider's API a chat_client speaks.
enum class api_kind { vectorshift, chatbotkit, pollybot };

std::string_view to_string(api_kind a) noexcept;
std::optional<api_kind> api_from_string(std::string_view name) noexcept;

/// What a chat_client talks to and how.
struct chat_options {
    /// Which API the client speaks.
    api_kind api = api_kind::pollybot;
    /// VectorShift: the host ("https://api.vectorshift.ai"); ChatBotKit: with
    /// its version prefix ("https://api.chatbotkit.com/v1"); PollyBot: your domain.
    std::string base_url;
    std::string api_key;     ///< never logged; see api_key_problem for what is refused
    std::string chatbot_id;  ///< VectorShift chatbot, ChatBotKit bot (optional), PollyBot chatbot
    /// Transport settings: TLS, timeouts, limits, name resolution, thread safety.
    http::client_options http;
    /// How failed calls are retried (retry_policy::none() turns it off).
    retry_policy retry;
    /// Called after every attempt of every call (may be empty).
    attempt_observer on_attempt;
    /// Where the retry budget and the rate-limit windows live; empty: a store
    /// of the client's own, in this process.
    std::shared_ptr<chatwire::retry_store> retry_store;
};

/// The whole reply of a non-streamed send.
struct chat_reply {
    /// The whole reply text.
    std::string text;
    /// The conversation to continue next time.
    std::string conversation_id;
};

namespace detail {
struct chat_client_state;
/// The operations of a chat_client, each described once (see detail::initiate).
struct send : client_call<chat_client_state, chat_stream> {
    std::string message, conversation;
};
struct send_whole : client_call<chat_client_state, chat_reply> {
    std::string message, conversation;
};
} // namespace detail

/// Not thread-safe by default: use a chat_client from one thread (or strand)
/// at a time. With `http.thread_safe` it may be used from any thread of an
/// io_context run by several (its operations run on a strand of its own).
class chat_client {
public:
    /// A client on `ex` (see http::client_options::thread_safe for several threads).
    chat_client(boost::asio::any_io_executor ex, chat_options opts);

    /// Sends `message` in `conversation` (empty: a new one) and streams the
    /// reply: void(error_code, chat_stream). The stream's conversation_id()
    /// is the one to pass next time; on failure diag.conversation_id names it
    /// (for ChatBotKit, also a conversation this call created).
    template <class CompletionToken>
    auto async_send(std::string message, std::string conversation, diagnostics& diag, CompletionToken&& token) {
        return detail::initiate(std::forward<CompletionToken>(token),
                                detail::send{{state_, &diag}, std::move(message), std::move(conversation)});
    }

    /// The same without streaming: void(error_code, chat_reply).
    template <class CompletionToken>
    auto async_send_whole(std::string message, std::string conversation, diagnostics& diag, CompletionToken&& token) {
        return detail::initiate(std::forward<CompletionToken>(token),
                                detail::send_whole{{state_, &diag}, std::move(message), std::move(conversation)});
    }

    /// The API this client speaks.
    api_kind api() const noexcept;

    /// Its connection pool's counts (connections open, idle, reused...). With
    /// http::client_options::thread_safe, read it on the client's strand.
    http::pool_stats pool_stats() const;

    /// The same client for a call with its own retry policy: the copy shares
    /// this one's connections, retry budget and rate-limit windows, e.g.
    /// `chat.with_retry(retry_policy::none()).async_send(...)`.
    chat_client with_retry(const retry_policy& policy) const;

private:
    explicit chat_client(std::shared_ptr<detail::chat_client_state> st) : state_(std::move(st)) {}
    std::shared_ptr<detail::chat_client_state> state_;
};

} // namespace chatwire

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::detail::send>;
extern template struct chatwire::detail::operation<chatwire::detail::send_whole>;
