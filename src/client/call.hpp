#pragma once
// The choke point: every request of every provider client, whole or
// streamed, goes through call(). It builds the wire request, runs the
// exchange, and turns the status and body into errc + diagnostics; the retry
// loop belongs here too. Diagnostics accumulate across its layers.
#include "../http/exchange.hpp"
#include "encoding.hpp"
#include "provider_errors.hpp"

#include <chatwire/chat_stream.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/retry/attempt.hpp>
#include <chatwire/retry/budget.hpp>
#include <chatwire/retry/policy.hpp>
#include <chatwire/retry/store.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace chatwire::detail {

/// Maps a provider's error answer to errc, keeping its code and message.
using error_mapper = error_code (*)(unsigned status, const http::fields& headers, std::string_view body,
                                    diagnostics& diag);

/// What every provider client holds: a transport of its own, where its API
/// lives (the base URL, parsed once), and how to read its errors.
struct provider_core {
    /// Runs on `ex`, or on a strand over it when `http.thread_safe` (see
    /// serial_executor). An empty `store`: one of the client's own.
    provider_core(boost::asio::any_io_executor ex, std::string_view base_url, const http::client_options& http,
                  const retry_policy& retry, attempt_observer on_attempt, error_mapper map_error,
                  std::shared_ptr<retry_store> store = nullptr);

    /// From the settings every provider's `options` has: base_url, http,
    /// retry, on_attempt and retry_store.
    template <class ProviderOptions>
    provider_core(boost::asio::any_io_executor ex, const ProviderOptions& o, error_mapper map_error)
        : provider_core(std::move(ex), o.base_url, o.http, o.retry, o.on_attempt, map_error, o.retry_store) {}

    /// Renders a header line the client sends with every request of a kind
    /// (its key, say); a CR or LF in it makes every such request fail.
    std::string fixed_header(std::string_view name, std::string_view value, std::string_view what);

    /// fixed_header for a credential: `scheme` (e.g. "Bearer ") then `key`.
    /// A key api_key_problem refuses makes every request fail instead, with
    /// `what` and the reason (never the key) in diagnostics::detail.
    std::string credential_header(std::string_view name, std::string_view scheme, std::string_view key,
                                  std::string_view what);

    /// Names the key whose rate-limit window pacing follows: the origin and a
    /// digest of `credential` (the key itself is never kept).
    void set_rate_key(std::string_view credential);

    boost::asio::any_io_executor executor;
    http::client http;
    http::detail::endpoint api;  ///< where the API lives: origin and path prefix
    error_mapper map_error;
    retry_policy retry;
    /// The retry budget (shared by the client's calls, so a storm of failures
    /// is not multiplied) and the key's rate-limit window, for pacing.
    std::shared_ptr<retry_store> store;
    std::string rate_key;     ///< see set_rate_key; empty: no pacing
    attempt_observer on_attempt;
    error_code setup_error;   ///< a bad base URL or key: every call fails with it
    std::string setup_detail;
    /// Added to diagnostics::detail when an answer maps to errc::not_found:
    /// why the base URL itself may be wrong (empty: nothing to add).
    std::string not_found_hint;
};

/// The Accept lines a provider asks with.
inline constexpr std::string_view accept_json = "Accept: application/json\r\n";
inline constexpr std::string_view accept_sse = "Accept: text/event-stream\r\n";
inline constexpr std::string_view accept_jsonl = "Accept: application/jsonl\r\n";

/// One request of a provider's API.
struct api_request {
    http::verb method = http::verb::post;
    std::string path;              ///< after the base URL's path, with its query
    std::string body;              ///< JSON text, or empty
    std::string_view fixed_lines;  ///< the client's own header lines (auth)
    std::string_view accept = accept_json;  ///< the whole Accept line
    bool stream = false;           ///< read the body as a stream
    bool idempotent = false;       ///< safe to resend even if the server may have acted (reads, lists)
    const retry_policy* retry = nullptr;  ///< this call's own policy; null: the client's
};

/// What came back: for a streamed request the body is in `stream`.
struct api_reply {
    unsigned status = 0;
    http::fields headers;
    std::string body;
    http::body_stream stream;
};

/// Sends `req`; a non-2xx answer is read (bounded, for a stream) and mapped
/// through the provider's error mapper. A failure the client's retry policy
/// allows is sent again after a backoff (or the server's hint), within the
/// call's deadline and the client's retry budget; a streamed reply is retried
/// only before it is handed out, so no event is ever replayed. Counts every
/// attempt in diag.attempts.
boost::asio::awaitable<error_code> call(provider_core& p, const api_request& req, diagnostics& diag, api_reply& out);

/// call() for an answer that is a JSON object: the body must parse.
boost::asio::awaitable<error_code> call_json(provider_core& p, const api_request& req, diagnostics& diag,
                                             boost::json::value& out, http::fields* headers = nullptr);

/// call() for a streamed chat reply: the stream, ready for its events.
boost::asio::awaitable<error_code> call_stream(provider_core& p, const api_request& req, diagnostics& diag,
                                               stream_format format, std::string conversation_id, chat_stream& out,
                                               http::fields* headers = nullptr);

/// A JSON body as text.
std::string to_body(const boost::json::value& v);

/// Parses a JSON body; errc::bad_response when it is not a JSON object.
error_code parse_object(std::string_view body, boost::json::value& out, diagnostics& diag);

/// errc::invalid_argument when `value` is empty.
error_code check_not_empty(std::string_view what, std::string_view value, diagnostics& diag);

} // namespace chatwire::detail
