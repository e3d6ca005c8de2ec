#pragma once
// Transport settings: TLS trust, per-stage timeouts, size limits, pool size.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chatwire::http {

/// Which servers to trust.
struct tls_options {
    /// Trust the operating system's CA store (on by default).
    bool use_system_ca = true;
    /// An extra CA to trust, as a PEM file path (e.g. the emulator's --cert-out).
    std::string extra_ca_file;
    /// An extra CA to trust, as PEM text.
    std::string extra_ca_pem;
    /// Turns off certificate and host-name verification. Never use it outside a
    /// throwaway test: anyone on the path can read and change the traffic.
    bool insecure_skip_verification_do_not_use_in_production = false;
};

/// How long each stage of a request may take.
struct timeouts {
    /// Every limit is in milliseconds.
    using duration = std::chrono::milliseconds;
    duration connect{std::chrono::seconds(10)};     ///< name lookup, TCP connect and TLS handshake together; also the longest wait for a free connection when `total` is not set
    duration first_byte{std::chrono::seconds(60)};  ///< request sent → the final response's header (interim answers included)
    duration idle{std::chrono::seconds(60)};        ///< longest silence between reads
    duration total{0};                              ///< whole operation (0 = none); a stream counts until its end
    /// The deadline of a whole (non-streamed) call when `total` is longer or
    /// not set, so that no server holds one for ever (0 = none).
    duration whole_call{std::chrono::seconds(600)};
    /// How long an HTTP/2 connection checked after an idle spell (see
    /// client_options::ping_after_idle) has to answer its PING; past it the
    /// connection is closed and the requests that waited for it go to another.
    /// Also how long a write may stay untaken before the connection gets no
    /// new request (a server that stopped reading).
    duration ping{std::chrono::seconds(5)};
};

/// Size limits on what the server sends.
struct limits {
    std::size_t max_header_bytes = 16 * 1024;        ///< response header
    std::size_t max_body_bytes = 8 * 1024 * 1024;    ///< non-streaming response body
    /// A streamed reply's accumulated text (chat_stream::text_so_far): a reply
    /// that would outgrow it ends with errc::reply_too_large, its text kept.
    std::size_t max_reply_bytes = 16 * 1024 * 1024;
    /// One event (an SSE event or a JSON line) of a streamed reply.
    std::size_t max_event_bytes = 16 * 1024 * 1024;
};

/// A host name's addresses given in advance, like curl's `--resolve`: the
/// client connects to them without a lookup. TLS still checks the name.
struct host_addresses {
    std::string host;                    ///< as in the URL (compared without case)
    std::vector<std::string> addresses;  ///< IP literals, tried in order
};

/// Which HTTP version a client speaks.
enum class protocol {
    /// https: offers HTTP/2 and HTTP/1.1 by ALPN and speaks what the server
    /// picks (HTTP/1.1 when it picks nothing); http: HTTP/1.1.
    automatic,
    http1,  ///< HTTP/1.1 only (no ALPN offer of h2)
    /// HTTP/2 only: https offers h2 alone by ALPN (a server that picks
    /// nothing is spoken to in HTTP/2 all the same); http speaks HTTP/2
    /// with prior knowledge (h2c, RFC 9113 §3.3), for sidecars and tests.
    http2,
};

/// Everything an HTTP client can be told.
struct client_options {
    /// Which servers to trust.
    tls_options tls;
    /// How long each stage may take.
    struct timeouts timeouts;
    /// How large a response may be.
    struct limits limits;
    /// An HTTP/1.1 stream holds its connection to the end: the cap must not be
    /// what limits a service (requests beyond it wait, see diagnostics::connection_wait).
    std::size_t max_connections_per_origin = 1000;
    /// Which HTTP version to speak (see protocol).
    enum protocol protocol = protocol::automatic;
    /// The most requests one HTTP/2 connection carries at once: the lower of
    /// this and the server's SETTINGS_MAX_CONCURRENT_STREAMS (100 assumed
    /// until the server's SETTINGS arrive). Past it a new connection is
    /// opened, up to max_connections_per_origin.
    std::uint32_t max_streams_per_connection = 100;
    /// HTTP/2 receive window of a stream (RFC 9113 §6.9): how much the server
    /// may send on it before this side has taken it. A streamed body's bytes
    /// hold their stream's window, and the connection's, until the reader
    /// takes them: a reader that stops holds at most this much. 64 KiB covers
    /// a chat reply per round trip (benchmarks/README.md: token latency and
    /// memory at 16, 64 and 256 KiB). Taken as at least 1 KiB.
    std::uint32_t http2_stream_window = 64 * 1024;
    /// HTTP/2 receive window of a connection, shared by its streams: it bounds
    /// what a connection holds unread, and 1 MiB lets 16 streams whose readers
    /// stopped hold a full stream window each before the others on the
    /// connection wait too. HTTP/2 opens a connection's window at 65,535
    /// bytes and can only widen it: a smaller value counts as that.
    std::uint32_t http2_connection_window = 1024 * 1024;
    /// An HTTP/2 connection idle for longer than this is checked before its
    /// next request: a PING, and the request waits for its answer (one round
    /// trip), so that a connection a NAT or a hung server silently dropped
    /// costs timeouts::ping and a request that was never sent, not a request
    /// lost in flight (0 = never checked). The socket is peeked for a close
    /// before every reuse in any case.
    std::chrono::milliseconds ping_after_idle{std::chrono::seconds(10)};
    /// TLS handshakes one client runs at once, all origins together (0 = no
    /// limit); a connection takes its slot once its TCP connect succeeded. A handshake in flight holds OpenSSL's handshake buffers and
    /// key-exchange state, about 10 KiB, and thousands at once leave that much
    /// freed heap resident: past the limit a new connection waits its turn,
    /// first come first served, within the connect timeout (the wait counts in
    /// diagnostics::connection_wait). Plain HTTP connections do not count.
    std::size_t max_concurrent_handshakes = 64;
    /// An idle pooled connection older than this is closed instead of reused.
    std::chrono::milliseconds max_idle_age{std::chrono::seconds(30)};
    /// Deprecated and ignored: every pooled connection is now checked before
    /// each reuse (one non-blocking peek), as a byte that arrived on it since
    /// its last answer, however soon, is a close or an answer to no request.
    std::chrono::milliseconds probe_idle_after{std::chrono::seconds(1)};
    std::string user_agent;  ///< empty: "chatwire/<version>"
    /// Names not to look up (their addresses given here). Any other name is
    /// resolved by c-ares on the client's executor, no thread started: the
    /// names in /etc/hosts, then the name servers of /etc/resolv.conf. IP
    /// literals are never resolved.
    std::vector<host_addresses> resolve;
    /// The name servers to ask, as "address" or "address:port" ("[v6]:port"),
    /// instead of those of /etc/resolv.conf (empty: those).
    std::vector<std::string> name_servers;
    /// Makes the client usable from an io_context run by several threads: its
    /// operations, timers and sockets all run on a strand of its own (see
    /// get_executor()). Off by default: one thread (or one strand of the
    /// caller's) at a time, no strand and no lock.
    bool thread_safe = false;
};

} // namespace chatwire::http
