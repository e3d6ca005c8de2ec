#pragma once
// The shared state behind http::client: options, TLS context and the pool.
#include "connection.hpp"
#include "deadline.hpp"
#include "exchange.hpp"
#include "handshake_gate.hpp"

#include <chatwire/detail/operation_impl.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>

#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

namespace chatwire::http::detail {

class h2_link;

struct pool_waiter {
    explicit pool_waiter(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    bool woken = false;
};

struct origin_pool {
    std::vector<std::unique_ptr<connection>> idle;  // most recently used last
    std::size_t open = 0;                          // idle + leased + HTTP/2 links + being opened
    std::deque<std::shared_ptr<pool_waiter>> waiters;
    std::shared_ptr<SSL_SESSION> tls_session;      // for resumption
    std::vector<std::shared_ptr<h2_link>> links;   // HTTP/2 connections, each carrying many streams
    bool speaks_h2 = false;      // the last connection made here negotiated HTTP/2
    bool protocol_known = false; // a connection was made here (speaks_h2 tells what it spoke)
    std::size_t h2_opening = 0;  // connections being opened that may speak HTTP/2: a call may wait for one
};

struct client_state;

/// A connection taken from the pool. Dropping it closes the connection and
/// frees its slot; give_back() returns a healthy keep-alive connection.
class lease {
public:
    lease() = default;
    lease(std::shared_ptr<client_state> owner, std::unique_ptr<connection> conn)
        : owner_(std::move(owner)), conn_(std::move(conn)) {}
    lease(lease&&) noexcept = default;
    lease& operator=(lease&& other) noexcept {
        if (this != &other) {
            discard();
            owner_ = std::move(other.owner_);
            conn_ = std::move(other.conn_);
        }
        return *this;
    }
    ~lease() { discard(); }

    connection* operator->() const noexcept { return conn_.get(); }
    connection& operator*() const noexcept { return *conn_; }
    explicit operator bool() const noexcept { return conn_ != nullptr; }

    void give_back();
    void discard() noexcept;

private:
    std::shared_ptr<client_state> owner_;
    std::unique_ptr<connection> conn_;
};

struct client_state : std::enable_shared_from_this<client_state> {
    client_state(boost::asio::any_io_executor ex, client_options opts);

    boost::asio::any_io_executor executor;
    client_options options;
    boost::asio::ssl::context tls_context;
    error_code tls_setup_error;
    std::string tls_setup_detail;
    std::string user_agent;
    std::unordered_map<std::string, origin_pool> pools;
    pool_stats counters;
    handshake_gate handshakes;  // max_concurrent_handshakes, all origins together

    ~client_state();

    void put_idle(std::unique_ptr<connection> conn);
    void drop(std::unique_ptr<connection> conn) noexcept;
    void wake_one(origin_pool& pool);
    void wake_all(origin_pool& pool);
    /// A closed HTTP/2 link leaves its pool and frees its slot.
    void forget(const h2_link& link, const std::string& key) noexcept;
};

/// Takes an idle connection for `to`, or an HTTP/2 link with room for a
/// stream, without suspending; false when there is none.
bool take_idle(const std::shared_ptr<client_state>& state, const endpoint& to, lease& out,
               std::shared_ptr<h2_link>& link);

/// Takes an idle connection for `to` (or room on an HTTP/2 link) or opens
/// one, waiting while the origin is at its connection limit (the wait is
/// added to diag.connection_wait). Honours the deadline and terminal
/// cancellation. Sets `out` for HTTP/1.1 and `link` for HTTP/2.
/// `fresh_only`: a new connection, never an idle one (after a pooled one
/// failed), or an HTTP/2 link other than `avoid` (the one that failed).
boost::asio::awaitable<error_code> acquire(const std::shared_ptr<client_state>& state, const endpoint& to,
                                           deadline& dl, diagnostics& diag, lease& out,
                                           std::shared_ptr<h2_link>& link, bool fresh_only = false,
                                           const h2_link* avoid = nullptr);

/// The TLS context of a client, from its options (tls_setup.cpp): on failure
/// `ec` and a `detail` for diagnostics, and every TLS request fails with them.
void configure_tls(boost::asio::ssl::context& ctx, const tls_options& tls, error_code& ec, std::string& detail);

/// What the library's own layers may see of a client's state.
struct access {
    static const std::shared_ptr<client_state>& state(const client& c) noexcept { return c.state_; }
    /// Another handle on an existing pool.
    static client handle(std::shared_ptr<client_state> st) { return client(std::move(st)); }
};

using chatwire::detail::is_cancelled;

/// Maps a transport error to the library's codes (timeouts by the stage that
/// was armed, parser limits, cancellation); leaves others as they are.
error_code map_transport_error(error_code ec, const deadline& dl, bool cancelled);

} // namespace chatwire::http::detail
