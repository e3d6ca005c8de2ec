#pragma once
// PollyBot: POST {base}/api/v1/chatbots/{chatbotId}/chat, JSON or SSE, with
// rate-limit headers on every response.
#include <chatwire/chat_stream.hpp>
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/retry/attempt.hpp>
#include <chatwire/retry/policy.hpp>
#include <chatwire/retry/store.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <memory>
#include <string>

namespace chatwire::pollybot {

struct options {
    std::string base_url;  ///< the customer's own domain, e.g. "https://bots.example.com"
    std::string api_key;   ///< "sk-workspace_…"; sent as a Bearer token, never logged
    http::client_options http;
    /// How failed calls are retried (retry_policy::none() turns it off).
    retry_policy retry;
    /// Called after every attempt of every call (may be empty).
    attempt_observer on_attempt;
    /// Where the retry budget and the rate-limit windows live; empty: a store
    /// of the client's own, in this process.
    std::shared_ptr<chatwire::retry_store> retry_store;
};

struct chat_request {
    std::string chatbot_id;
    std::string message;
    std::string conversation_id;        ///< empty: a new conversation
    std::optional<bool> stream;         ///< unset: the chatbot's configured default
    boost::json::object metadata;       ///< sent when not empty
};

/// X-RateLimit-* of a response (absent headers stay empty).
struct rate_limit {
    std::optional<std::uint64_t> limit, remaining, reset, used;  ///< reset: Unix seconds
};

struct chat_reply {
    std::string response;
    std::string conversation_id;
    std::string message_id;
};

namespace detail {
struct state;
void chat(std::shared_ptr<state>, chat_request, diagnostics*, chatwire::detail::handler<chat_reply>);
void stream(std::shared_ptr<state>, chat_request, diagnostics*, chatwire::detail::handler<chat_stream>);
} // namespace detail

class client {
public:
    client(boost::asio::any_io_executor ex, options opts);

    /// One reply, whole: void(error_code, chat_reply). Sends "stream": false
    /// only when the request says so explicitly.
    template <class CompletionToken>
    auto async_chat(chat_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate<chat_reply>(std::forward<CompletionToken>(token), &detail::chat, state_,
                                                      std::move(req), &diag);
    }

    /// A streamed reply: void(error_code, chat_stream) once the headers arrived.
    template <class CompletionToken>
    auto async_chat_stream(chat_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate<chat_stream>(std::forward<CompletionToken>(token), &detail::stream, state_,
                                                       std::move(req), &diag);
    }

    /// The rate-limit headers of the most recent response.
    rate_limit last_rate_limit() const;
    /// The same client for a call with its own retry policy: the copy shares
    /// this one's connections, retry budget and rate-limit windows, e.g.
    /// `c.with_retry(retry_policy::none()).async_...(...)`. Costs one small
    /// allocation; keep it for as many calls as share the policy.
    client with_retry(const retry_policy& policy) const;
    http::client& transport();

private:
    explicit client(std::shared_ptr<detail::state> st) : state_(std::move(st)) {}
    std::shared_ptr<detail::state> state_;
};

} // namespace chatwire::pollybot
