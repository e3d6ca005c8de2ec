#pragma once
// GET /_emulator/stats from a test coroutine, as JSON (over HTTP/1.1, so that
// the fetch adds nothing to the HTTP/2 counts a test looks at).
#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace chatwire::testing {

inline boost::asio::awaitable<boost::json::value> emulator_stats(std::string base_url, std::string pem,
                                                                  std::string admin_token) {
    http::client_options o;
    o.tls.extra_ca_pem = std::move(pem);
    o.protocol = http::protocol::http1;  // counted apart from the HTTP/2 traffic under test
    http::client c(co_await boost::asio::this_coro::executor, o);
    http::request req;
    req.method = http::verb::get;
    req.url = base_url + "/_emulator/stats";
    req.headers.set("X-Emulator-Admin-Token", admin_token);
    diagnostics diag;
    auto [ec, res] = co_await c.async_request(std::move(req), diag, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec || res.status != 200) co_return boost::json::value{};
    co_return boost::json::parse(res.body);
}

/// A counter of the stats (`section` "routes", "statuses", "http1" or
/// "http2"), 0 when absent.
inline std::uint64_t stat(const boost::json::value& stats, std::string_view section, std::string_view key) {
    if (!stats.is_object()) return 0;
    const auto* s = stats.as_object().if_contains(section);
    if (!s || !s->is_object()) return 0;
    const auto* n = s->as_object().if_contains(key);
    return n && n->is_int64() ? static_cast<std::uint64_t>(n->as_int64())
           : n && n->is_uint64() ? n->as_uint64() : 0;
}

} // namespace chatwire::testing
