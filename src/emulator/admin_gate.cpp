// The admin API's gate: Host, token and content type, all read from the head.
#include "admin_gate.hpp"

#include "internal.hpp"

#include <boost/beast/core/string.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace chatwire::emulator::detail {

namespace json = boost::json;

namespace {

// "127.0.0.1", "::1" or "[::1]" as a Host header names it (IPv6 in brackets).
std::string host_form(std::string_view address) {
    std::string out;
    const bool bracket = address.find(':') != std::string_view::npos && address.front() != '[';
    out.reserve(address.size() + 2);
    if (bracket) out.push_back('[');
    out.append(address);
    if (bracket) out.push_back(']');
    return out;
}

// The media type of a Content-Type value: parameters and spaces dropped.
std::string_view media_type(std::string_view value) noexcept {
    value = value.substr(0, value.find(';'));
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return value;
}

bool has_body(const request& req) noexcept {
    auto length = req.header("content-length");
    return !req.header("transfer-encoding").empty() || (!length.empty() && length != "0") || !req.body.empty();
}

} // namespace

std::string resolve_admin_token(const options& opts) {
    if (opts.admin_token && !opts.admin_token->empty()) return *opts.admin_token;
    if (opts.api_key && !opts.api_key->empty()) return *opts.api_key;
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("cannot generate the admin token: no randomness available");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (auto b : bytes) {
        hex += digits[b >> 4];
        hex += digits[b & 0xf];
    }
    return hex;
}

bool same_secret(std::string_view a, std::string_view b) noexcept {
    // The length is not secret (a generated token's is documented); the bytes are.
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool host_is_local(std::string_view host, std::string_view listen_host, std::uint16_t port) {
    std::string_view name = host, port_text;
    if (!name.empty() && name.front() == '[') {  // [v6] or [v6]:port
        auto close = name.find(']');
        if (close == std::string_view::npos) return false;
        port_text = name.substr(close + 1);
        name = name.substr(0, close + 1);
        if (!port_text.empty() && port_text.front() != ':') return false;
    } else if (auto colon = name.find(':'); colon != std::string_view::npos) {
        port_text = name.substr(colon);
        name = name.substr(0, colon);
    }
    if (!port_text.empty()) {
        port_text.remove_prefix(1);  // ':'
        if (port_text.empty() || port_text.size() > 5 ||
            !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        if (port != 0 && std::stoul(std::string(port_text)) != port) return false;
    }
    if (name.empty()) return false;
    for (std::string_view local : {std::string_view("localhost"), std::string_view("127.0.0.1"), std::string_view("[::1]")})
        if (boost::beast::iequals(name, local)) return true;
    return !listen_host.empty() && boost::beast::iequals(name, host_form(listen_host));
}

std::optional<response_plan> admin_refusal(const request& req, const options& opts, std::string_view token) {
    // A page on a DNS-rebound name reaches us as same-origin: its Host still names it.
    const auto listen = req.local_address.empty() ? std::string_view(opts.host) : std::string_view(req.local_address);
    const auto port = req.local_port != 0 ? req.local_port : opts.port;
    if (!host_is_local(req.header("host"), listen, port))
        return json_response(421, json::object{{"error", "the admin API answers only requests whose Host is the "
                                                          "emulator's listening address or localhost"}});
    // A custom header cannot be sent cross-site without a CORS preflight, which is never approved.
    auto given = req.header("x-emulator-admin-token");
    if (given.empty())
        return json_response(401, json::object{{"error", "the admin API needs the X-Emulator-Admin-Token header"}});
    if (!same_secret(given, token)) return json_response(401, json::object{{"error", "wrong admin token"}});
    // A body must say it is JSON (and a declared type must be JSON even
    // without one): forms and text/plain are what a page can send cross-site
    // without asking.
    auto type = req.header("content-type");
    if ((has_body(req) || !type.empty()) && !boost::beast::iequals(media_type(type), "application/json"))
        return json_response(415, json::object{{"error", "the admin API accepts only application/json"}});
    return std::nullopt;
}

} // namespace chatwire::emulator::detail
