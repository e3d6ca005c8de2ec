#pragma once
// ChatBotKit v1: conversations and their completion (JSON or JSON lines).
#include <chatwire/chat_stream.hpp>
#include <chatwire/detail/initiate.hpp>
#include <chatwire/chatbotkit/records.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/retry/attempt.hpp>
#include <chatwire/retry/policy.hpp>
#include <chatwire/page_codec.hpp>
#include <chatwire/retry/store.hpp>
#include <chatwire/pager.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace chatwire::chatbotkit {

enum class auth_scheme { bearer, token };

/// How a ChatBotKit client reaches the API.
struct options {
    /// Includes the version prefix: "https://api.chatbotkit.com/v1", or
    /// "<emulator>/api/v1" (the emulator serves both /v1 and /api/v1).
    std::string base_url = "https://api.chatbotkit.com/v1";
    std::string secret;                      ///< never logged; see api_key_problem
    /// How the secret is sent: `Authorization: Bearer` or `Token`.
    auth_scheme scheme = auth_scheme::bearer;
    std::string run_as_user_id;              ///< X-RunAs-UserId when not empty
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

/// One message of a conversation.
struct message {
    std::string type;  ///< "user", "bot", ...
    /// What the message says.
    std::string text;
};

/// The fields of a conversation to create or update (empty ones are not sent).
struct conversation_fields {
    /// The conversation's bot, model, backstory, name and description.
    ///@{
    std::string bot_id;
    std::string model;
    std::string backstory;
    std::string name;
    std::string description;
    ///@}
    std::optional<boost::json::object> meta;  ///< create: the meta; update: replaces all meta
    std::vector<message> messages;            ///< create only
};

/// A completed reply.
struct completion {
    std::string id;    ///< empty for a stateless completion
    /// The reply text.
    std::string text;
    /// Tokens used, when the API says.
    std::optional<std::uint64_t> tokens;
    /// Why the reply ended ("stop", "length", ...).
    std::string end_reason;
};

/// A completion: of a stored conversation, or stateless of `messages`.
struct complete_request {
    std::string conversation_id;  ///< empty: stateless completion of `messages`
    std::string text;             ///< the user's message (conversation completion)
    /// The messages of a stateless completion.
    std::vector<message> messages;
    /// A stateless completion's bot (optional).
    std::string bot_id;
    /// A stateless completion's model (optional).
    std::string model;
};

/// The codec of one ChatBotKit list action, `path` after the base URL
/// ("/conversation/list"): `order`, `take` and the meta filters go into every
/// page's query; cursors are item ids, pages or stream alike.
std::shared_ptr<const page_codec> list_codec(std::string path, const list_options& opts = {});
/// The codecs of GET /conversation/list, /bot/list and /conversation/{id}/message/list.
std::shared_ptr<const page_codec> conversation_list_codec(const list_options& opts = {});
std::shared_ptr<const page_codec> bot_list_codec(const list_options& opts = {});
std::shared_ptr<const page_codec> message_list_codec(std::string_view conversation_id, const list_options& opts = {});
/// What list_options says of the walk itself (cursor, stream, prefetch).
pager_options paging(const list_options& opts);

namespace detail {
struct state;
std::shared_ptr<chatwire::detail::page_walk> make_walk(const std::shared_ptr<state>&,
                                                      std::shared_ptr<const page_codec>, const pager_options&);
/// The operations of a client, each described once (see chatwire::detail::initiate).
template <class Result>
using call = chatwire::detail::client_call<state, Result>;
struct create_conversation : call<std::string> {
    conversation_fields fields;
};
struct complete : call<completion> {
    complete_request request;
};
struct complete_streamed : call<chat_stream> {
    complete_request request;
};
struct fetch_conversation : call<conversation_record> {
    std::string id;
};
struct update_conversation : call<std::string> {
    std::string id;
    conversation_fields fields;
    std::optional<boost::json::object> merge_meta;
};
struct delete_conversation : call<std::string> {
    std::string id;
};
struct create_message : call<std::string> {
    std::string conversation_id;
    message text;
};
} // namespace detail

/// The ChatBotKit API. Runs on the executor given at construction and starts no
/// threads. By default not thread-safe: use it from one thread (or one strand)
/// at a time. With `options::http.thread_safe` it may be used from any thread
/// of an io_context run by several: its operations run on a strand of its own.
class client {
public:
    /// A client on `ex`.
    client(boost::asio::any_io_executor ex, options opts);

    /// POST /conversation/create: void(error_code, std::string id).
    template <class CompletionToken>
    auto async_create_conversation(conversation_fields fields, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::create_conversation{{state_, &diag}, std::move(fields)});
    }

    /// POST /conversation/{id}/complete, or /conversation/complete when the
    /// request has no conversation id: void(error_code, completion).
    template <class CompletionToken>
    auto async_complete(complete_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::complete{{state_, &diag}, std::move(req)});
    }

    /// The same, streamed as JSON lines: void(error_code, chat_stream).
    template <class CompletionToken>
    auto async_complete_stream(complete_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::complete_streamed{{state_, &diag}, std::move(req)});
    }

    /// GET /conversation/{id}/fetch: void(error_code, conversation_record).
    template <class CompletionToken>
    auto async_fetch_conversation(std::string id, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::fetch_conversation{{state_, &diag}, std::move(id)});
    }

    /// POST /conversation/{id}/update: the non-empty fields; `fields.meta`
    /// replaces all meta, `merge_meta` is sent as `$update` and merges.
    /// void(error_code, std::string id).
    template <class CompletionToken>
    auto async_update_conversation(std::string id, conversation_fields fields,
                                   std::optional<boost::json::object> merge_meta, diagnostics& diag,
                                   CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::update_conversation{{state_, &diag}, std::move(id), std::move(fields), std::move(merge_meta)});
    }

    /// POST /conversation/{id}/delete: void(error_code, std::string id).
    template <class CompletionToken>
    auto async_delete_conversation(std::string id, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::delete_conversation{{state_, &diag}, std::move(id)});
    }

    /// POST /conversation/{id}/message/create: void(error_code, std::string id).
    template <class CompletionToken>
    auto async_create_message(std::string conversation_id, message m, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::create_message{{state_, &diag}, std::move(conversation_id), std::move(m)});
    }

    /// GET /conversation/list, page by page (or streamed) as items are needed.
    pager<conversation_record> conversations(const list_options& opts = {});
    /// GET /conversation/{id}/message/list.
    pager<message_record> messages(const std::string& conversation_id, const list_options& opts = {});
    /// GET /bot/list.
    pager<bot_record> bots(const list_options& opts = {});

    /// Any list, with its codec (list_codec() for ChatBotKit's own shape),
    /// through this client's connections, key and retry policy. T converts
    /// from each item by ADL from_json (boost::json::object: the item as is).
    template <class T>
    pager<T> list(std::shared_ptr<const page_codec> codec, const pager_options& opts = {}) {
        return chatwire::detail::pager_access::make<T>(detail::make_walk(state_, std::move(codec), opts));
    }

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

} // namespace chatwire::chatbotkit

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::create_conversation>;
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::complete>;
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::complete_streamed>;
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::fetch_conversation>;
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::update_conversation>;
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::delete_conversation>;
extern template struct chatwire::detail::operation<chatwire::chatbotkit::detail::create_message>;
extern template struct chatwire::detail::operation<chatwire::detail::next_item<chatwire::chatbotkit::conversation_record>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_page<chatwire::chatbotkit::conversation_record>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_item<chatwire::chatbotkit::message_record>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_page<chatwire::chatbotkit::message_record>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_item<chatwire::chatbotkit::bot_record>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_page<chatwire::chatbotkit::bot_record>>;
