#pragma once
// The request and response shapes of the transport.
#include <chatwire/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <string>

namespace chatwire::http {

using fields = boost::beast::http::fields;
using field = boost::beast::http::field;
using verb = boost::beast::http::verb;

/// An HTTP request to send.
struct request {
    /// The method.
    verb method = verb::get;
    std::string url;   ///< absolute http:// or https:// URL
    fields headers;    ///< Host, User-Agent and Content-Length are set by the client
    /// The body (Content-Length is set from it).
    std::string body;
};

/// A whole HTTP response.
struct response {
    /// The status code.
    unsigned status = 0;
    /// The header fields.
    fields headers;
    /// The whole body.
    std::string body;
};

/// A method a server may receive twice without a second effect (RFC 9110 9.2.2).
inline bool is_idempotent(verb m) noexcept {
    return m == verb::get || m == verb::head || m == verb::options || m == verb::trace || m == verb::put ||
           m == verb::delete_;
}

/// The peer ended the connection with a clean close (EOF, or TLS cut without
/// close_notify) rather than a reset. Before any byte of an answer on a pooled
/// connection, it is the server's idle close that came before the request: a
/// server that read a request and acted would answer, or reset.
inline bool is_clean_close(const error_code& ec) noexcept {
    return ec == boost::asio::error::eof || ec == boost::beast::http::error::end_of_stream ||
           ec == boost::asio::ssl::error::stream_truncated;
}

} // namespace chatwire::http
