#pragma once
// What a client's connection pool holds and has done, for monitoring.
#include <cstddef>

namespace chatwire::http {

/// A snapshot of a client's connection pool.
struct pool_stats {
    std::size_t connections_opened = 0;   ///< TCP connections made so far
    std::size_t connections_reused = 0;   ///< requests that took a pooled connection
    std::size_t tls_sessions_resumed = 0; ///< TLS handshakes that resumed a session
    std::size_t open = 0;                 ///< connections open now (idle + in use)
    std::size_t idle = 0;                 ///< connections waiting in the pool now (HTTP/2 ones with no stream open included)
    std::size_t http2_connections = 0;    ///< of `open`, those speaking HTTP/2
    std::size_t http2_streams = 0;        ///< requests open on them now
    /// The most TLS connections being opened (connect and handshake) at once
    /// so far: at most client_options::max_concurrent_handshakes when set.
    std::size_t peak_concurrent_handshakes = 0;
    std::size_t handshakes_waited = 0;    ///< TLS connections that waited for a handshake slot
};

} // namespace chatwire::http
