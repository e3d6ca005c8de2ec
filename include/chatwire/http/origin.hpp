#pragma once
// Where a request goes: scheme, host and port (the pool's key), and the target.
#include <chatwire/error.hpp>

#include <cstdint>
#include <string>

namespace chatwire::http {

/// Where requests go: scheme, host and port.
struct origin {
    /// https (true) or http.
    bool tls = true;
    std::string host;        ///< name or IP literal, without IPv6 brackets
    /// The port, the scheme's default when the URL names none.
    std::uint16_t port = 0;
    /// Whether `host` is an IP literal (never resolved).
    bool host_is_ip = false;

    /// "https://host:port": the pool's key.
    std::string key() const;
    /// The Host header value (port only when not the scheme's default).
    std::string host_header() const;
    /// A loopback IP literal or exactly "localhost": traffic that stays on this machine.
    bool is_loopback() const;
    friend bool operator==(const origin&, const origin&) = default;
};

/// A URL split into its origin and its target.
struct parsed_url {
    /// Scheme, host and port.
    struct origin origin;
    std::string target;  ///< path and query, at least "/"
};

/// Parses an absolute http/https URL: a host (a name, or an IP literal when
/// the whole host is one), an optional port, and a path that is empty or
/// starts with '/'. errc::invalid_url for anything else, including user-info
/// (credentials never belong in a URL) and fragments.
parsed_url parse_url(std::string_view url, error_code& ec);

} // namespace chatwire::http
