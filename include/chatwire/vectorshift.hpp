#pragma once
// VectorShift: the legacy chatbot endpoint (POST /api/chatbots/run, Api-Key)
// and the v1 API (POST /v1/chatbot/{id}/run, Bearer).
#include <chatwire/chat_stream.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>

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

namespace detail {
struct state;
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

    http::client& transport();

private:
    std::shared_ptr<detail::state> state_;
};

} // namespace chatwire::vectorshift
