#pragma once
// The transport's operations as plain awaitables, for the library's own
// layers: http::client's public async_* and the providers' choke point both
// call these, so one public call is one coroutine all the way to the socket.
#include <chatwire/error.hpp>
#include <chatwire/http/body_stream.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/http/message.hpp>
#include <chatwire/http/origin.hpp>

#include <boost/asio/awaitable.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace chatwire::http::detail {

/// Where a client's requests go, parsed once from its base URL: the origin,
/// the pool's key, the Host header and the path prefix.
struct endpoint {
    struct origin origin;
    std::string key;
    std::string host_header;
    std::string prefix;  ///< the base URL's path without a trailing '/'; may be empty
};

/// A base URL: http or https, a host, an optional port and an optional path;
/// no query, fragment or user-info. errc::invalid_url otherwise.
endpoint make_endpoint(std::string_view base_url, error_code& ec);
endpoint make_endpoint(const parsed_url& url);

/// A request ready for the wire, as views of its parts (nothing is copied
/// until the head is rendered into the connection's buffer). The header lines
/// are whole "Name: value\r\n" lines, already checked for CR and LF inside
/// values; Host, User-Agent (unless given) and Content-Length are the
/// transport's own. Everything viewed must outlive the exchange.
struct outgoing {
    verb method = verb::get;
    std::string_view target_prefix;  ///< prepended to target (a base URL's path)
    std::string_view target;         ///< path and query
    std::array<std::string_view, 4> header_lines{};
    std::string_view body;
    bool has_user_agent = false;
};

/// Appends "Name: value\r\n"; false (nothing appended) when either holds CR or LF.
bool append_header(std::string& lines, std::string_view name, std::string_view value);

/// What an exchange got to before it ended, for deciding whether to resend it.
struct attempt_info {
    bool connection_reused = false;  ///< it ran on a pooled keep-alive connection
    bool request_written = false;    ///< the whole request went out
    bool response_started = false;   ///< at least one byte of an answer came back
    /// The transport sent the request again on a new connection because a
    /// pooled one turned out closed; why the first try failed.
    error_code stale_resend;
};

/// The deadline of a call under `t`: `total`, and for a whole (non-streamed)
/// call `whole_call` too; time_point::max() for none.
std::chrono::steady_clock::time_point call_deadline(const timeouts& t, bool whole);

/// Sends and reads the whole response. Any status is a success here. Fills
/// diag's HTTP status and request id; never clears what the caller set.
/// `end` bounds it (see call_deadline); `info` says how far it got.
boost::asio::awaitable<error_code> exchange(const client& c, const endpoint& to, const outgoing& req,
                                            diagnostics& diag, response& out,
                                            std::chrono::steady_clock::time_point end, attempt_info& info);

/// Sends and reads the response header; the body is then read from `out`.
boost::asio::awaitable<error_code> open(const client& c, const endpoint& to, const outgoing& req,
                                        diagnostics& diag, body_stream& out,
                                        std::chrono::steady_clock::time_point end, attempt_info& info);

} // namespace chatwire::http::detail
