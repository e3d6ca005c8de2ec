#pragma once
// The request and response shapes of the transport.
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <string>

namespace chatwire::http {

using fields = boost::beast::http::fields;
using field = boost::beast::http::field;
using verb = boost::beast::http::verb;

struct request {
    verb method = verb::get;
    std::string url;   ///< absolute http:// or https:// URL
    fields headers;    ///< Host, User-Agent and Content-Length are set by the client
    std::string body;
};

struct response {
    unsigned status = 0;
    fields headers;
    std::string body;
};

} // namespace chatwire::http
