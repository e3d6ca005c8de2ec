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

/// How a PollyBot client reaches the API.
struct options {
    std::string base_url;  ///< the customer's own domain, e.g. "https://bots.example.com"
    std::string api_key;   ///< "sk-workspace_…"; sent as a Bearer token, never logged; see api_key_problem
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

/// One chat turn.
struct chat_request {
    /// The chatbot to talk to.
    std::string chatbot_id;
    /// What the user says.
    std::string message;
    std::string conversation_id;        ///< empty: a new conversation
    std::optional<bool> stream;         ///< unset: the chatbot's configured default
    boost::json::object metadata;       ///< sent when not empty
};

/// X-RateLimit-* of a response (absent headers stay empty).
struct rate_limit {
    /// The X-RateLimit-Limit, -Remaining, -Reset and -Used values.
    ///@{
    std::optional<std::uint64_t> limit, remaining, reset, used;  ///< reset: Unix seconds
    ///@}
};

/// A whole (non-streamed) reply.
struct chat_reply {
    /// The reply text.
    std::string response;
    /// The conversation to continue next time.
    std::string conversation_id;
    /// The reply message's id.
    std::string message_id;
};

namespace detail {
struct state;
/// The operations of a client, each described once (see chatwire::detail::initiate).
struct chat : chatwire::detail::client_call<state, chat_reply> {
    chat_request request;
};
struct chat_streamed : chatwire::detail::client_call<state, chat_stream> {
    chat_request request;
};
} // namespace detail

/// The PollyBot API. Runs on the executor given at construction and starts no
/// threads. By default not thread-safe: use it from one thread (or one strand)
/// at a time. With `options::http.thread_safe` it may be used from any thread
/// of an io_context run by several: its operations run on a strand of its own.
class client {
public:
    /// A client on `ex`.
    client(boost::asio::any_io_executor ex, options opts);

    /// One reply, whole: void(error_code, chat_reply). Sends "stream": false
    /// only when the request says so explicitly.
    template <class CompletionToken>
    auto async_chat(chat_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::chat{{state_, &diag}, std::move(req)});
    }

    /// A streamed reply: void(error_code, chat_stream) once the headers arrived.
    template <class CompletionToken>
    auto async_chat_stream(chat_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::chat_streamed{{state_, &diag}, std::move(req)});
    }

    /// The rate-limit headers of the most recent response.
    rate_limit last_rate_limit() const;
    /// The same client for a call with its own retry policy: the copy shares
    /// this one's connections, retry budget and rate-limit windows, e.g.
    /// `c.with_retry(retry_policy::none()).async_...(...)`. Costs one small
    /// allocation; keep it for as many calls as share the policy.
    client with_retry(const retry_policy& policy) const;
    /// The HTTP client underneath (its pool statistics, idle connections).
    http::client& transport();

private:
    explicit client(std::shared_ptr<detail::state> st) : state_(std::move(st)) {}
    std::shared_ptr<detail::state> state_;
};

} // namespace chatwire::pollybot

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::pollybot::detail::chat>;
extern template struct chatwire::detail::operation<chatwire::pollybot::detail::chat_streamed>;
