#pragma once
// What every provider client shares: input checks, JSON requests, reading an
// error body from a stream, and turning a provider's error into errc + diagnostics.
#include <chatwire/chat_stream.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace chatwire::detail {

/// Percent-encodes one path segment (everything but unreserved characters).
std::string encode_segment(std::string_view s);
/// Percent-encodes a query value.
std::string encode_query(std::string_view s);

/// errc::invalid_argument with the reason in diag.detail when `value` holds CR or LF.
error_code check_header_value(std::string_view name, std::string_view value, diagnostics& diag);
/// errc::invalid_argument when `value` is empty.
error_code check_not_empty(std::string_view what, std::string_view value, diagnostics& diag);

/// Joins a base URL (with or without trailing slash) and an absolute path.
std::string join_url(std::string_view base, std::string_view path);

http::request json_request(http::verb method, std::string url, const boost::json::value* body);

/// Maps a provider's error answer to errc, keeping its code and message.
using error_mapper = error_code (*)(unsigned status, const http::fields& headers, std::string_view body,
                                    diagnostics& diag);

/// What each provider client holds: its options and a transport of its own.
template <class Options>
struct provider_state {
    provider_state(boost::asio::any_io_executor ex, Options o)
        : opts(std::move(o)), http(ex, opts.http), executor(std::move(ex)) {}
    Options opts;
    http::client http;
    boost::asio::any_io_executor executor;
};

/// Sends and reads the whole response; transport errors come back as they are.
boost::asio::awaitable<std::pair<error_code, http::response>> send(http::client& c, http::request req,
                                                                   diagnostics& diag);

/// Opens a streamed response. A non-2xx status is read whole (bounded) and
/// handed to `map_error`; on success the stream is ready for the decoder.
/// `headers`, when given, receives the response's headers in either case.
boost::asio::awaitable<std::pair<error_code, http::body_stream>> open_stream(http::client& c, http::request req,
                                                                             diagnostics& diag,
                                                                             error_mapper map_error,
                                                                             http::fields* headers = nullptr);

/// An operation refused before it started, as an awaitable result.
template <class T>
boost::asio::awaitable<std::pair<error_code, T>> refused(error_code ec) {
    co_return std::pair<error_code, T>{ec, T{}};
}

/// Sends a request whose answer is a JSON object: a non-2xx status goes
/// through `map_error`, a 2xx body must parse. `headers` gets the response's.
boost::asio::awaitable<error_code> call_json(http::client& c, http::request req, diagnostics& diag,
                                             error_mapper map_error, boost::json::value& out,
                                             http::fields* headers = nullptr);

/// Parses a JSON body; errc::bad_response when it is not a JSON object.
error_code parse_object(std::string_view body, boost::json::value& out, diagnostics& diag);

/// The server's hint from a Retry-After header (delay-seconds or an HTTP date).
void note_retry_after(const http::fields& headers, diagnostics& diag);

/// Per-API error mapping (the provider's code and message kept verbatim).
error_code map_vectorshift_error(unsigned status, const http::fields& headers, std::string_view body,
                                 diagnostics& diag);
error_code map_chatbotkit_error(unsigned status, const http::fields& headers, std::string_view body,
                                diagnostics& diag);
error_code map_pollybot_error(unsigned status, const http::fields& headers, std::string_view body,
                              diagnostics& diag);

std::string_view string_at(const boost::json::value& v, std::string_view key);

} // namespace chatwire::detail
