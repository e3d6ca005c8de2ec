#pragma once
// VectorShift: the legacy chatbot endpoint (POST /api/chatbots/run, Api-Key)
// and the v1 API (POST /v1/chatbot/{id}/run, Bearer).
#include <chatwire/chat_stream.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace chatwire::vectorshift {

struct options {
    std::string base_url = "https://api.vectorshift.ai";  ///< the v1 API lives under {base_url}/v1
    std::string api_key;                                   ///< never logged
    http::client_options http;
};

/// The legacy endpoint: one of chatbot_id / chatbot_name.
struct run_request {
    std::string input;
    std::string chatbot_id;
    std::string chatbot_name;
    std::string conversation_id;  ///< empty: a new conversation
};

struct run_reply {
    std::string output;
    std::string conversation_id;
};

/// The v1 endpoint.
struct v1_run_request {
    std::string chatbot_id;
    std::string text;
    std::string conversation_id;
};

struct v1_run_reply {
    std::string output_message;
    std::string conversation_id;
    std::vector<std::string> follow_up_questions;
};

struct chatbot_list {
    std::vector<std::string> object_ids;
    std::vector<boost::json::object> objects;  ///< with verbose=true
};

struct upload_file {
    std::string name;   ///< sent when not empty
    std::string bytes;  ///< raw content; the client base64-encodes it
};

struct upload_request {
    std::string chatbot_id;
    std::vector<upload_file> files;
    std::string conversation_id;
};

struct upload_reply {
    std::string conversation_id;
    std::string knowledge_base_id;
    std::vector<std::string> uploaded_files;
    std::vector<std::string> errors;
};

namespace detail {
struct state;
using list_handler = boost::asio::any_completion_handler<void(error_code, chatbot_list)>;
using object_handler = boost::asio::any_completion_handler<void(error_code, boost::json::object)>;
using upload_handler = boost::asio::any_completion_handler<void(error_code, upload_reply)>;
using status_handler = boost::asio::any_completion_handler<void(error_code, std::string)>;
void list_chatbots(const std::shared_ptr<state>&, bool include_shared, bool verbose, diagnostics&, list_handler);
void fetch_chatbot(const std::shared_ptr<state>&, std::string id, std::string name, diagnostics&, object_handler);
void upload(const std::shared_ptr<state>&, upload_request, diagnostics&, upload_handler);
void terminate(const std::shared_ptr<state>&, std::string chatbot_id, std::string pipeline_run_id, diagnostics&,
               status_handler);
using run_handler = boost::asio::any_completion_handler<void(error_code, run_reply)>;
using v1_run_handler = boost::asio::any_completion_handler<void(error_code, v1_run_reply)>;
using stream_handler = boost::asio::any_completion_handler<void(error_code, chat_stream)>;
void run(const std::shared_ptr<state>&, run_request, diagnostics&, run_handler);
void run_stream(const std::shared_ptr<state>&, run_request, diagnostics&, stream_handler);
void run_v1(const std::shared_ptr<state>&, v1_run_request, diagnostics&, v1_run_handler);
void run_v1_stream(const std::shared_ptr<state>&, v1_run_request, diagnostics&, stream_handler);
} // namespace detail

class client {
public:
    client(boost::asio::any_io_executor ex, options opts);

    /// Legacy run, whole reply. `status:"failed"` is errc::run_failed even with HTTP 200.
    template <class CompletionToken>
    auto async_run(run_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, run_reply)>(
            [](auto h, std::shared_ptr<detail::state> s, run_request r, diagnostics* d) {
                detail::run(s, std::move(r), *d, detail::run_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    /// Legacy run, streamed (SSE; cumulative or chunked `output`, both handled).
    template <class CompletionToken>
    auto async_run_stream(run_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, chat_stream)>(
            [](auto h, std::shared_ptr<detail::state> s, run_request r, diagnostics* d) {
                detail::run_stream(s, std::move(r), *d, detail::stream_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    /// v1 run, whole reply.
    template <class CompletionToken>
    auto async_run_v1(v1_run_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, v1_run_reply)>(
            [](auto h, std::shared_ptr<detail::state> s, v1_run_request r, diagnostics* d) {
                detail::run_v1(s, std::move(r), *d, detail::v1_run_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    /// v1 run, streamed (`output_value` chunks, then the final status event).
    template <class CompletionToken>
    auto async_run_v1_stream(v1_run_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, chat_stream)>(
            [](auto h, std::shared_ptr<detail::state> s, v1_run_request r, diagnostics* d) {
                detail::run_v1_stream(s, std::move(r), *d, detail::stream_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    /// GET /v1/chatbots: void(error_code, chatbot_list).
    template <class CompletionToken>
    auto async_list_chatbots(bool include_shared, bool verbose, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, chatbot_list)>(
            [](auto h, std::shared_ptr<detail::state> s, bool shared, bool verb, diagnostics* d) {
                detail::list_chatbots(s, shared, verb, *d, detail::list_handler(std::move(h)));
            },
            token, state_, include_shared, verbose, &diag);
    }

    /// GET /v1/chatbot?id=… (or ?name=… when `id` is empty): void(error_code, object).
    template <class CompletionToken>
    auto async_fetch_chatbot(std::string id, std::string name, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, boost::json::object)>(
            [](auto h, std::shared_ptr<detail::state> s, std::string i, std::string n, diagnostics* d) {
                detail::fetch_chatbot(s, std::move(i), std::move(n), *d, detail::object_handler(std::move(h)));
            },
            token, state_, std::move(id), std::move(name), &diag);
    }

    /// POST /v1/chatbot/{id}/upload (files sent as base64): void(error_code, upload_reply).
    template <class CompletionToken>
    auto async_upload(upload_request req, diagnostics& diag, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, upload_reply)>(
            [](auto h, std::shared_ptr<detail::state> s, upload_request r, diagnostics* d) {
                detail::upload(s, std::move(r), *d, detail::upload_handler(std::move(h)));
            },
            token, state_, std::move(req), &diag);
    }

    /// POST /v1/chatbot/{id}/terminate: void(error_code, std::string status).
    template <class CompletionToken>
    auto async_terminate(std::string chatbot_id, std::string pipeline_run_id, diagnostics& diag,
                         CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::string)>(
            [](auto h, std::shared_ptr<detail::state> s, std::string c, std::string p, diagnostics* d) {
                detail::terminate(s, std::move(c), std::move(p), *d, detail::status_handler(std::move(h)));
            },
            token, state_, std::move(chatbot_id), std::move(pipeline_run_id), &diag);
    }

    http::client& transport();

private:
    std::shared_ptr<detail::state> state_;
};

} // namespace chatwire::vectorshift
