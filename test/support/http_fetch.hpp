#pragma once
// Requests over chatwire's transport, for the tests that drive it against
// test_server: options that trust the server's certificate, a GET, and a
// request awaited as (error, response).
#include "test_server.hpp"

#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <utility>

namespace chatwire::testing {

/// Completion token: an awaited operation yields its error instead of throwing it.
inline constexpr auto tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Client options that trust `server`'s self-signed certificate.
inline http::client_options trusting(const test_server& server) {
    http::client_options o;
    o.tls.extra_ca_pem = server.certificate_pem();
    return o;
}

inline http::request get(std::string url) {
    http::request r;
    r.url = std::move(url);
    return r;
}

inline boost::asio::awaitable<std::pair<error_code, http::response>> fetch(http::client& c, http::request req,
                                                                           diagnostics& diag) {
    auto [ec, res] = co_await c.async_request(std::move(req), diag, tuple_awaitable);
    co_return std::pair{ec, std::move(res)};
}

} // namespace chatwire::testing
