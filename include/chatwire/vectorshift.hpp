#pragma once
// VectorShift: the legacy chatbot endpoint (POST /api/chatbots/run, Api-Key)
// and the v1 API (POST /v1/chatbot/{id}/run, Bearer).
#include <chatwire/chat_stream.hpp>
#include <chatwire/detail/initiate.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/page_codec.hpp>
#include <chatwire/pager.hpp>
#include <chatwire/retry/attempt.hpp>
#include <chatwire/retry/policy.hpp>
#include <chatwire/retry/store.hpp>
#include <chatwire/vectorshift/records.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chatwire::vectorshift {

/// How a VectorShift client reaches the API.
struct options {
    std::string base_url = "https://api.vectorshift.ai";  ///< the v1 API lives under {base_url}/v1
    std::string api_key;                                   ///< never logged; see api_key_problem
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

/// The legacy endpoint: one of chatbot_id / chatbot_name.
struct run_request {
    /// What the user says.
    std::string input;
    /// The chatbot, by id.
    std::string chatbot_id;
    /// The chatbot, by name.
    std::string chatbot_name;
    std::string conversation_id;  ///< empty: a new conversation
};

/// The legacy endpoint's reply.
struct run_reply {
    /// The reply text.
    std::string output;
    /// The conversation to continue next time.
    std::string conversation_id;
};

/// The v1 endpoint.
struct v1_run_request {
    /// The chatbot to talk to.
    std::string chatbot_id;
    /// What the user says.
    std::string text;
    /// The conversation to continue (empty: a new one).
    std::string conversation_id;
};

/// The v1 endpoint's reply.
struct v1_run_reply {
    /// The reply text.
    std::string output_message;
    /// The conversation to continue next time.
    std::string conversation_id;
    /// Questions the chatbot suggests asking next.
    std::vector<std::string> follow_up_questions;
};

/// The chatbots of the account.
struct chatbot_list {
    /// Their ids.
    std::vector<std::string> object_ids;
    std::vector<boost::json::object> objects;  ///< with verbose=true
};

/// What chatbots() lists, and where it starts.
struct chatbot_list_options {
    bool include_shared = false;  ///< also the chatbots shared with the account
    /// Continue after this chatbot id (a pager's cursor()). The API has no
    /// cursor of its own: the list comes whole, and the items up to this one
    /// are skipped; an id no longer listed is errc::invalid_argument.
    std::string cursor;
};

/// The codec of GET /v1/chatbots: one page, items `objects` (or only
/// `object_ids` when the answer is not verbose), cursors chatbot ids.
std::shared_ptr<const page_codec> chatbot_list_codec(bool include_shared = false);

/// A file to upload to a chatbot's conversation.
struct upload_file {
    std::string name;   ///< sent when not empty
    std::string bytes;  ///< raw content; the client base64-encodes it
};

/// Files for a chatbot's conversation (its knowledge base).
struct upload_request {
    /// The chatbot.
    std::string chatbot_id;
    /// The files.
    std::vector<upload_file> files;
    /// The conversation (empty: a new one).
    std::string conversation_id;
};

/// What an upload did.
struct upload_reply {
    /// The conversation the files went to.
    std::string conversation_id;
    /// The knowledge base that holds them.
    std::string knowledge_base_id;
    /// The names of the files stored.
    std::vector<std::string> uploaded_files;
    /// What went wrong with the others.
    std::vector<std::string> errors;
};

namespace detail {
struct state;
using chatwire::detail::handler;
std::shared_ptr<chatwire::detail::page_walk> make_walk(const std::shared_ptr<state>&,
                                                      std::shared_ptr<const page_codec>, const pager_options&);
/// The operations of a client, each described once (see chatwire::detail::initiate).
template <class Result>
using call = chatwire::detail::client_call<state, Result>;
struct run : call<run_reply> {
    run_request request;
};
struct run_streamed : call<chat_stream> {
    run_request request;
};
struct run_v1 : call<v1_run_reply> {
    v1_run_request request;
};
struct run_v1_streamed : call<chat_stream> {
    v1_run_request request;
};
struct list_chatbots : call<chatbot_list> {
    bool include_shared = false;
    bool verbose = false;
};
struct fetch_chatbot : call<boost::json::object> {
    std::string id, name;
};
struct upload : call<upload_reply> {
    upload_request request;
};
struct terminate : call<std::string> {
    std::string chatbot_id, pipeline_run_id;
};
} // namespace detail

/// The VectorShift API. Runs on the executor given at construction and starts no
/// threads. By default not thread-safe: use it from one thread (or one strand)
/// at a time. With `options::http.thread_safe` it may be used from any thread
/// of an io_context run by several: its operations run on a strand of its own.
class client {
public:
    /// A client on `ex`.
    client(boost::asio::any_io_executor ex, options opts);

    /// Legacy run, whole reply. `status:"failed"` is errc::run_failed even with HTTP 200.
    template <class CompletionToken>
    auto async_run(run_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::run{{state_, &diag}, std::move(req)});
    }

    /// Legacy run, streamed (SSE; cumulative or chunked `output`, both handled).
    template <class CompletionToken>
    auto async_run_stream(run_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::run_streamed{{state_, &diag}, std::move(req)});
    }

    /// v1 run, whole reply.
    template <class CompletionToken>
    auto async_run_v1(v1_run_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::run_v1{{state_, &diag}, std::move(req)});
    }

    /// v1 run, streamed (`output_value` chunks, then the final status event).
    template <class CompletionToken>
    auto async_run_v1_stream(v1_run_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::run_v1_streamed{{state_, &diag}, std::move(req)});
    }

    /// GET /v1/chatbots: void(error_code, chatbot_list).
    template <class CompletionToken>
    auto async_list_chatbots(bool include_shared, bool verbose, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::list_chatbots{{state_, &diag}, include_shared, verbose});
    }

    /// GET /v1/chatbots as a pager of chatbots (cursor: the last chatbot id handed out).
    pager<chatbot_record> chatbots(const chatbot_list_options& opts = {});

    /// Any list of the v1 API, with its codec, through this client's
    /// connections, key (Bearer) and retry policy. T converts from each item
    /// by ADL from_json (boost::json::object: the item as is).
    template <class T>
    pager<T> list(std::shared_ptr<const page_codec> codec, const pager_options& opts = {}) {
        return chatwire::detail::pager_access::make<T>(detail::make_walk(state_, std::move(codec), opts));
    }

    /// GET /v1/chatbot?id=… (or ?name=… when `id` is empty): void(error_code, object).
    template <class CompletionToken>
    auto async_fetch_chatbot(std::string id, std::string name, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::fetch_chatbot{{state_, &diag}, std::move(id), std::move(name)});
    }

    /// POST /v1/chatbot/{id}/upload (files sent as base64): void(error_code, upload_reply).
    template <class CompletionToken>
    auto async_upload(upload_request req, diagnostics& diag, CompletionToken&& token) {
        return chatwire::detail::initiate(std::forward<CompletionToken>(token),
                                          detail::upload{{state_, &diag}, std::move(req)});
    }

    /// POST /v1/chatbot/{id}/terminate: void(error_code, std::string status).
    template <class CompletionToken>
    auto async_terminate(std::string chatbot_id, std::string pipeline_run_id, diagnostics& diag,
                         CompletionToken&& token) {
        return chatwire::detail::initiate(
            std::forward<CompletionToken>(token),
            detail::terminate{{state_, &diag}, std::move(chatbot_id), std::move(pipeline_run_id)});
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

} // namespace chatwire::vectorshift

// Compiled once, in the library (see chatwire/detail/operation_impl.hpp).
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::run>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::run_streamed>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::run_v1>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::run_v1_streamed>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::list_chatbots>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::fetch_chatbot>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::upload>;
extern template struct chatwire::detail::operation<chatwire::vectorshift::detail::terminate>;
extern template struct chatwire::detail::operation<chatwire::detail::next_item<chatwire::vectorshift::chatbot_record>>;
extern template struct chatwire::detail::operation<chatwire::detail::next_page<chatwire::vectorshift::chatbot_record>>;
