#pragma once
// How an emulator instance behaves: where it listens, whether it checks keys,
// how fast it streams, and which faults it starts with.
#include <chatwire/emulator/certificate.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire::emulator {

/// The header that carries the admin API's token. A browser sends no such
/// header cross-site without a CORS preflight, and the emulator approves none.
inline constexpr std::string_view admin_token_header = "X-Emulator-Admin-Token";

/// What the emulator's HTTP/2 side announces and does: the defaults are an
/// ordinary server; the others are faults a client must live with.
struct http2_settings {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: a stream beyond it is refused
    /// (RST_STREAM REFUSED_STREAM). 1 makes a client open more connections
    /// or queue.
    std::uint32_t max_concurrent_streams = 100;
    /// SETTINGS_INITIAL_WINDOW_SIZE: what a client may send on a stream
    /// before the emulator's WINDOW_UPDATE (a tiny one stalls a request body
    /// at every few bytes). 1 to 2^31-1.
    std::uint32_t initial_window = 65535;
    /// False: PINGs are never acknowledged, as from a connection that died
    /// without a close (a NAT that dropped it, a hung server).
    bool answer_pings = true;
};

/// How an emulator instance behaves.
struct options {
    /// The address to listen on.
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;                  ///< 0 picks a free port
    bool tls = true;                         ///< false serves plain HTTP
    /// When set, every API checks for exactly this key and answers a wrong one
    /// with its own 401 body. When empty any key is accepted, but a request
    /// without one is still refused with the API's 401.
    std::optional<std::string> api_key;
    /// The token the `/_emulator/` admin API asks for in admin_token_header.
    /// When unset (or empty) the API key is the token; without either, a
    /// random one is generated at start (see server::admin_token()).
    std::optional<std::string> admin_token;
    std::chrono::milliseconds token_delay{0};  ///< pause between streamed events
    std::uint64_t seed = 0;                  ///< changes every reply and generated id
    std::string faults_json;                 ///< initial fault script (a JSON array), may be empty
    /// PollyBot's sliding window per key. Without a limit the headers still
    /// report the documented default (1000 an hour) but nothing is refused.
    std::optional<std::size_t> rate_limit;
    /// The length of the rate-limit window.
    std::chrono::seconds rate_window{3600};
    /// A certificate to serve instead of a freshly generated self-signed one.
    std::optional<self_signed_certificate> certificate;
    std::size_t max_body_bytes = 32u << 20;  ///< larger request bodies get 413
    /// A write that the peer does not take within this time closes the
    /// connection, so a client that never reads cannot hold it and its bytes.
    std::chrono::milliseconds write_timeout{30'000};
    /// Connections beyond this many are accepted and closed at once.
    std::size_t max_connections = 10'000;
    /// Speak HTTP/2 as well: offered by ALPN over TLS (h2, then http/1.1),
    /// and taken in clear from a client that starts with HTTP/2's preface
    /// (prior knowledge). Off: HTTP/1.1 only.
    bool http2 = false;
    /// The HTTP/2 side's settings and faults (when http2 is on).
    http2_settings h2;
    /// Per API, the conversations kept; creating one more forgets the oldest.
    std::size_t max_conversations = 10'000;
};

} // namespace chatwire::emulator
