// The connection pool: acquiring (reuse, connect, wait) and releasing.
#include "client_state.hpp"
#include "framing.hpp"
#include "h2_link.hpp"
#include "resolver.hpp"

#include "../detail/serial_executor.hpp"

#include <chatwire/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

namespace chatwire::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);


namespace {

// A pooled connection is reused only when nothing arrived on it since its
// last answer: a byte there is a server's close, or an answer nobody asked
// for that the next request would take as its own (a server that sends a
// second response after a 503 would answer the retry with it). The check is
// one non-blocking peek, made before every reuse, as a server may send such
// bytes at any moment; what a TLS stream already took from the socket is
// looked at without a syscall.
bool still_usable(connection& c, const client_options& opts) {
    auto& sock = c.tcp().socket();
    if (!sock.is_open() || c.buffer.size() != 0 || c.holds_unread_input()) return false;
    if (std::chrono::steady_clock::now() - c.idle_since > opts.max_idle_age) return false;
    char byte;
    const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void prepare_tls(connection& c, const origin& o, const client_state& st, SSL_SESSION* session,
                 error_code& ec) {
    SSL* ssl = c.tls()->native_handle();
    const bool verify = !st.options.tls.insecure_skip_verification_do_not_use_in_production;
    if (!o.host_is_ip && !SSL_set_tlsext_host_name(ssl, o.host.c_str())) {
        ec = errc::tls_setup_failed;
        return;
    }
    if (verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = o.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), o.host.size());
        if (ok != 1) {
            ec = errc::tls_setup_failed;
            return;
        }
    }
    if (session) SSL_set_session(ssl, session);
    // ALPN (RFC 7301): the server picks; with no answer the connection speaks HTTP/1.1.
    static constexpr unsigned char both[] = "\x02h2\x08http/1.1";
    static constexpr unsigned char h2_only[] = "\x02h2";
    const auto protocol = st.options.protocol;
    if (protocol == http::protocol::automatic) SSL_set_alpn_protos(ssl, both, sizeof both - 1);
    else if (protocol == http::protocol::http2) SSL_set_alpn_protos(ssl, h2_only, sizeof h2_only - 1);
}

// Whether a connection to `o` may speak HTTP/2 (before one was made).
bool may_speak_h2(const origin& o, const client_options& opts) {
    return opts.protocol == http::protocol::http2 || (opts.protocol == http::protocol::automatic && o.tls);
}

// Whether a new connection speaks HTTP/2: over TLS as ALPN chose (or as
// the options insist); in clear only with prior knowledge.
bool speaks_h2(connection& c, const client_options& opts) {
    if (opts.protocol == http::protocol::http1) return false;
    if (opts.protocol == http::protocol::http2) return true;
    auto* tls = c.tls();
    if (!tls) return false;
    const unsigned char* name = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(tls->native_handle(), &name, &size);
    return size == 2 && name[0] == 'h' && name[1] == '2';
}

std::string tls_failure_detail(connection& c) {
    long result = SSL_get_verify_result(c.tls()->native_handle());
    if (result != X509_V_OK) return std::string("certificate verification failed: ") + X509_verify_cert_error_string(result);
    return "TLS handshake failed";
}

asio::awaitable<error_code> open_connection(std::shared_ptr<client_state> st, const origin& o,
                                            const std::string& key, deadline& dl, diagnostics& diag,
                                            std::unique_ptr<connection>& out) {
    // One limit for the whole stage: resolve, connect and handshake together.
    const auto stage_end = deadline::after(deadline::clock::now(), st->options.timeouts.connect);
    tcp::resolver::results_type endpoints;
    if (o.host_is_ip) {
        error_code aec;
        auto address = asio::ip::make_address(o.host, aec);
        if (aec) co_return errc::invalid_url;
        endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, o.port), o.host,
                                                        std::to_string(o.port));
    } else {
        // Names go to c-ares on this executor (no thread); IP literals skip
        // it. The resolver has no expiry of its own: a timer bounds it.
        struct race {
            race(const asio::any_io_executor& ex, const client_options& opts) : resolver(ex, opts) {}
            detail::resolver resolver;
            bool resolved = false;
            bool timed_out = false;
        };
        auto r = std::make_shared<race>(st->executor, st->options);
        asio::steady_timer bound(st->executor);
        bound.expires_at(dl.arm_until(stage_end, errc::connect_timeout));
        // The timer's handler may run after the resolve finished: it owns a
        // share of the race and checks before touching the resolver.
        bound.async_wait([r](error_code ec) {
            if (ec || r->resolved) return;
            r->timed_out = true;
            r->resolver.cancel();
        });
        auto [ec, results] = co_await r->resolver.resolve(o.host, o.port);
        r->resolved = true;
        bound.cancel();
        if (r->timed_out) co_return dl.timeout_error();
        if (ec) {
            diag.detail = "cannot resolve " + o.host;
            co_return map_transport_error(ec, dl, is_cancelled(co_await asio::this_coro::cancellation_state));
        }
        endpoints = std::move(results);
    }

    beast::tcp_stream tcp(st->executor);
    tcp.expires_at(dl.arm_until(stage_end, errc::connect_timeout));
    auto [ec, ep] = co_await tcp.async_connect(endpoints, as_tuple_awaitable);
    if (ec) {
        diag.detail = "cannot connect to " + o.key();
        co_return map_transport_error(ec, dl, is_cancelled(co_await asio::this_coro::cancellation_state));
    }
    error_code nodelay_ec;  // best effort; the connection works without it
    tcp.socket().set_option(tcp::no_delay(true), nodelay_ec);
    ++st->counters.connections_opened;

    // A TLS connection takes its handshake slot once connected: the handshake
    // is what costs memory, and the slots are shared by all origins, so a
    // host that drops SYNs must not hold them for its whole connect timeout
    // while healthy origins wait. The wait is part of the connect stage: the
    // same limit bounds it (the server sees a connection quiet for as long).
    handshake_slot handshake;
    if (o.tls) {
        auto wait_ec = co_await take_handshake_slot(st, dl, stage_end, diag, handshake);
        if (wait_ec) co_return wait_ec;
    }

    auto conn = o.tls ? std::make_unique<connection>(std::move(tcp), st->tls_context.native_handle())
                      : std::make_unique<connection>(std::move(tcp));
    conn->pool_key = key;
    if (o.tls) {
        auto& pool = st->pools[conn->pool_key];
        error_code setup;
        prepare_tls(*conn, o, *st, pool.tls_session.get(), setup);
        if (setup) co_return setup;
        // The connect expiry still runs: the handshake is part of the connect stage.
        auto [hec] = co_await conn->tls()->async_handshake(as_tuple_awaitable);
        if (hec) {
            bool cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
            if (hec != beast::error::timeout && !cancelled) diag.detail = tls_failure_detail(*conn);
            co_return map_transport_error(hec, dl, cancelled);
        }
        if (SSL_session_reused(conn->tls()->native_handle())) ++st->counters.tls_sessions_resumed;
    }
    // From here the connection's own watchdog bounds its I/O, not Beast's per-operation timer.
    conn->tcp().expires_never();
    out = std::move(conn);
    co_return error_code{};
}

/// Counts a connection being opened that may speak HTTP/2 (calls wait for
/// it) until done(), exceptions included.
struct opening_guard {
    opening_guard(std::shared_ptr<client_state> s, std::string k, bool counts)
        : st(std::move(s)), key(std::move(k)), armed(counts) {
        if (armed) ++st->pools[key].h2_opening;
    }
    opening_guard(const opening_guard&) = delete;
    opening_guard& operator=(const opening_guard&) = delete;
    void done() noexcept {
        if (!armed) return;
        armed = false;
        auto& pool = st->pools[key];
        if (pool.h2_opening > 0) --pool.h2_opening;
    }
    ~opening_guard() {
        if (!armed) return;
        done();
        st->wake_all(st->pools[key]);
    }
    std::shared_ptr<client_state> st;
    std::string key;
    bool armed;
};

/// Gives an origin's connection slot back unless released.
struct slot_guard {
    std::shared_ptr<client_state> st;
    std::string key;
    bool armed = true;
    void release() noexcept { armed = false; }
    ~slot_guard() {
        if (!armed) return;
        auto& pool = st->pools[key];
        if (pool.open > 0) --pool.open;
        st->wake_one(pool);
    }
};

} // namespace

client_state::~client_state() {
    // The links' pending reads hold them: closing ends those, and the links with them.
    for (auto& [key, pool] : pools)
        for (auto& link : std::vector<std::shared_ptr<h2_link>>(std::move(pool.links))) link->close(errc::cancelled);
}

client_state::client_state(asio::any_io_executor ex, client_options opts)
    : executor(std::move(ex)), options(std::move(opts)), tls_context(asio::ssl::context::tls_client) {
    configure_tls(tls_context, options.tls, tls_setup_error, tls_setup_detail);
    user_agent = options.user_agent.empty() ? "chatwire/" + std::string(chatwire::version()) : options.user_agent;
}

namespace {

// With TLS 1.3 the ticket arrives after the handshake: it is taken when the
// connection goes idle or is dropped after an answer (a server that closes
// every connection), once per session. A copy: OpenSSL marks the live session
// unresumable when the connection is later closed without a TLS shutdown.
void keep_session(origin_pool& pool, connection& conn) {
    auto* tls = conn.tls();
    if (!tls) return;
    SSL_SESSION* live = SSL_get0_session(tls->native_handle());
    if (!live || live == conn.session_kept || !SSL_SESSION_is_resumable(live)) return;
    SSL_SESSION* copy = SSL_SESSION_dup(live);
    if (!copy) return;
    try {
        pool.tls_session.reset(copy, SSL_SESSION_free);
        conn.session_kept = live;
    } catch (const std::bad_alloc&) {  // reset() frees the copy; resumption is only lost
    }
}

} // namespace

void client_state::put_idle(std::unique_ptr<connection> conn) {
    auto& pool = pools[conn->pool_key];
    keep_session(pool, *conn);
    conn->idle_since = std::chrono::steady_clock::now();
    conn->io_limit.release();
    conn->reused = true;
    pool.idle.push_back(std::move(conn));
    wake_one(pool);
}

void client_state::drop(std::unique_ptr<connection> conn) noexcept {
    auto it = pools.find(conn->pool_key);
    // After a whole answer its session is as good as a pooled one's.
    if (it != pools.end() && conn->request_written) keep_session(it->second, *conn);
    conn->close();
    if (it == pools.end()) return;
    if (it->second.open > 0) --it->second.open;
    wake_one(it->second);
}

void client_state::wake_all(origin_pool& pool) {
    while (!pool.waiters.empty()) wake_one(pool);
}

void client_state::forget(const h2_link& link, const std::string& key) noexcept {
    auto it = pools.find(key);
    if (it == pools.end()) return;
    auto& links = it->second.links;
    for (auto l = links.begin(); l != links.end(); ++l) {
        if (l->get() != &link) continue;
        links.erase(l);
        if (it->second.open > 0) --it->second.open;
        wake_one(it->second);
        return;
    }
}

void client_state::wake_one(origin_pool& pool) {
    while (!pool.waiters.empty()) {
        auto w = std::move(pool.waiters.front());
        pool.waiters.pop_front();
        if (w->woken) continue;
        w->woken = true;
        w->timer.cancel();
        return;
    }
}

// A stream may be closed or dropped on any thread: with thread_safe, the pool
// is touched on the client's strand only.
void lease::give_back() {
    if (!conn_) return;
    if (chatwire::detail::outside_strand(owner_->executor)) {
        auto owner = std::move(owner_);
        asio::post(owner->executor, [owner, conn = std::move(conn_)]() mutable { owner->put_idle(std::move(conn)); });
        return;
    }
    owner_->put_idle(std::move(conn_));
    owner_.reset();
}

void lease::discard() noexcept {
    if (!conn_) return;
    if (chatwire::detail::outside_strand(owner_->executor)) {
        auto owner = std::move(owner_);
        asio::post(owner->executor, [owner, conn = std::move(conn_)]() mutable { owner->drop(std::move(conn)); });
        return;
    }
    owner_->drop(std::move(conn_));
    owner_.reset();
}

error_code map_transport_error(error_code ec, const deadline& dl, bool cancelled) {
    if (!ec) return ec;
    if (cancelled) return errc::cancelled;
    if (ec == beast::error::timeout) return dl.timeout_error();
    if (ec == beast::http::error::header_limit) return errc::header_limit_exceeded;
    if (ec == beast::http::error::body_limit) return errc::body_limit_exceeded;
    if (is_framing_error(ec)) return errc::bad_response;
    return ec;
}

namespace {

// An HTTP/2 link of the origin with room for one more stream; the busiest
// first, so that idle links age out and close. A resend (`resend`) takes
// only a link whose server's SETTINGS came: on one that may still announce a
// lower stream limit it could be refused again, and it is sent once only.
std::shared_ptr<h2_link> take_link(client_state& st, origin_pool& pool, const h2_link* avoid = nullptr,
                                   bool resend = false) {
    std::shared_ptr<h2_link> best;
    for (std::size_t i = 0; i < pool.links.size();) {
        auto link = pool.links[i];
        if (link.get() == avoid || (resend && !link->session().settings_received()) ||
            !link->usable_for_new_stream(st.options)) {
            if (i < pool.links.size() && pool.links[i] == link) ++i;  // not closed (a full link), or already gone
            continue;
        }
        if (!best || link->session().open_streams() > best->session().open_streams()) best = link;
        ++i;
    }
    if (best) ++st.counters.connections_reused;
    return best;
}

} // namespace

bool take_idle(const std::shared_ptr<client_state>& st, const endpoint& to, lease& out,
               std::shared_ptr<h2_link>& link) {
    if (to.origin.tls && st->tls_setup_error) return false;
    auto it = st->pools.find(to.key);
    if (it == st->pools.end()) return false;
    auto& pool = it->second;
    if (!pool.links.empty() && (link = take_link(*st, pool))) return true;
    while (!pool.idle.empty()) {
        auto conn = std::move(pool.idle.back());
        pool.idle.pop_back();
        if (still_usable(*conn, st->options)) {
            ++st->counters.connections_reused;
            out = lease(st, std::move(conn));
            return true;
        }
        conn->close();
        --pool.open;
    }
    return false;
}

asio::awaitable<error_code> acquire(const std::shared_ptr<client_state>& st, const endpoint& to, deadline& dl,
                                    diagnostics& diag, lease& out, std::shared_ptr<h2_link>& link,
                                    bool fresh_only, const h2_link* avoid) {
    const origin& o = to.origin;
    if (o.tls && st->tls_setup_error) {
        diag.detail = st->tls_setup_detail;
        co_return st->tls_setup_error;
    }
    const auto& key = to.key;
    const auto max_open = std::max<std::size_t>(1, st->options.max_connections_per_origin);
    // One end for all the waits of this call: a waiter whose wake-up another
    // call took waits again, but not for a fresh limit each time.
    const auto wait_end = st->options.timeouts.total.count() > 0
                              ? dl.end()
                              : std::min(dl.end(), deadline::after(deadline::clock::now(), st->options.timeouts.connect));
    for (;;) {
        auto& pool = st->pools[key];
        if (!fresh_only && take_idle(st, to, out, link)) co_return error_code{};
        // A resend goes to a new connection, or to another HTTP/2 link with
        // room than the one that failed it (`avoid`): a GOAWAY's hundred
        // dropped streams need not open a hundred connections.
        if (fresh_only && !pool.links.empty() && (link = take_link(*st, pool, avoid, true))) co_return error_code{};
        // An origin that speaks HTTP/2, or may (its first connection is on
        // its way): that connection will carry this stream too, rather than
        // one more handshake per call in a burst at start-up. When it turns
        // out to speak HTTP/1.1 the waiting calls open their own.
        const bool may_multiplex = pool.speaks_h2 || (!pool.protocol_known && may_speak_h2(o, st->options));
        const bool await_link = may_multiplex && pool.h2_opening > 0 && !fresh_only;
        if (pool.open < max_open && !await_link) {
            // The slot is taken now and given back by the guard on any failure,
            // exceptions included; a lease or a link owns it on success.
            ++pool.open;
            slot_guard guard{st, key};
            const bool expect_h2 = may_multiplex;
            opening_guard opening{st, key, expect_h2};
            std::unique_ptr<connection> conn;
            auto ec = co_await open_connection(st, o, key, dl, diag, conn);
            auto& opened_in = st->pools[key];
            opening.done();
            if (ec) {
                // Calls that waited for this link open their own now.
                if (expect_h2) st->wake_all(opened_in);
                co_return ec;
            }
            guard.release();
            opened_in.speaks_h2 = speaks_h2(*conn, st->options);
            opened_in.protocol_known = true;
            if (!opened_in.speaks_h2) {
                if (expect_h2) st->wake_all(opened_in);
                out = lease(st, std::move(conn));
                co_return error_code{};
            }
            h2::session_limits limits;
            limits.max_header_bytes = st->options.limits.max_header_bytes;
            limits.max_concurrent_streams = std::max<std::uint32_t>(1, st->options.max_streams_per_connection);
            limits.stream_window = std::max<std::uint32_t>(1024, st->options.http2_stream_window);
            limits.connection_window = std::max<std::uint32_t>(65535, st->options.http2_connection_window);
            link = std::make_shared<h2_link>(st, std::move(conn), limits);
            opened_in.links.push_back(link);
            st->wake_all(opened_in);
            co_return error_code{};
        }
        // At the limit: wait for a release, bounded by the total deadline.
        // Until the caller's total deadline; without one, as long as a connect may take.
        auto waiter = std::make_shared<pool_waiter>(st->executor);
        waiter->timer.expires_at(dl.arm_until(wait_end, errc::connect_timeout));
        pool.waiters.push_back(waiter);
        const auto wait_start = std::chrono::steady_clock::now();
        co_await waiter->timer.async_wait(as_tuple_awaitable);
        diag.connection_wait += std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - wait_start);
        const bool cancelled = is_cancelled(co_await asio::this_coro::cancellation_state);
        if (!waiter->woken || cancelled) {
            // Pass a wake-up we will not use on to the next waiter.
            if (waiter->woken) st->wake_one(st->pools[key]);
            waiter->woken = true;  // so a later release does not count on us
            if (cancelled) co_return errc::cancelled;
            diag.detail = "no connection became free in time (max_connections_per_origin)";
            co_return dl.timeout_error();
        }
    }
}

} // namespace chatwire::http::detail

