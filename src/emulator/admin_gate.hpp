#pragma once
// Who may use the `/_emulator/` admin API: a request addressed to the
// emulator itself (not a DNS-rebound name), carrying the admin token in a
// header a browser cannot send cross-site, and JSON when it carries a body.
#include <chatwire/emulator/options.hpp>
#include <chatwire/emulator/plan.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire::emulator::detail {

/// The token the admin API asks for: options::admin_token, else the API key,
/// else 128 random bits (hex) from OpenSSL's CSPRNG.
std::string resolve_admin_token(const options& opts);

/// Equal strings, compared in time that does not depend on where they differ.
bool same_secret(std::string_view a, std::string_view b) noexcept;

/// Whether `host` (a Host header) names this emulator: `listen_host` (the
/// configured or the connection's local address), localhost, 127.0.0.1 or
/// [::1], with no port or `port` (any port when `port` is 0).
bool host_is_local(std::string_view host, std::string_view listen_host, std::uint16_t port);

/// The refusal of an admin request (421 foreign Host, 401 missing or wrong
/// token, 415 not JSON), or nullopt when it may proceed. Needs only the head.
std::optional<response_plan> admin_refusal(const request& req, const options& opts, std::string_view token);

} // namespace chatwire::emulator::detail
