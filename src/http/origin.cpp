#include <chatwire/http/origin.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <charconv>

namespace chatwire::http {

namespace {
// Built with append: GCC 12 reports a false -Wrestrict on "[" + s + "]".
std::string bracketed(const std::string& host) {
    if (host.find(':') == std::string::npos) return host;
    std::string out;
    out.reserve(host.size() + 2);
    out.append(1, '[').append(host).append(1, ']');
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// A DNS name: letters, digits, '-', '.' and '_'. Anything else (percent
// escapes, sub-delims) could never resolve, so it is refused up front.
bool is_host_name(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_';
        if (!ok) return false;
    }
    return true;
}

bool parse_port(std::string_view p, std::uint16_t& out) {
    unsigned value = 0;
    auto [ptr, err] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || err != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535) return false;
    out = static_cast<std::uint16_t>(value);
    return true;
}

// The authority is split here, not by Boost.URL: 1.81 takes a leading
// dotted quad as an IPv4 host and the rest of the authority as the path
// ("http://127.0.0.1.example.invalid:8080" would go to 127.0.0.1:80).
// A host is an IP literal only when the whole host is one.
bool parse_authority(std::string_view a, bool tls, origin& o) {
    std::string_view host = a, port;
    if (!a.empty() && a.front() == '[') {
        auto close = a.find(']');
        if (close == std::string_view::npos) return false;
        host = a.substr(1, close - 1);
        auto after = a.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return false;
            port = after.substr(1);
            if (port.empty()) return false;
        }
        error_code ec;
        auto v6 = boost::asio::ip::make_address_v6(std::string(host), ec);
        if (ec || v6.scope_id() != 0) return false;
        o.host = v6.to_string();
        o.host_is_ip = true;
    } else {
        if (auto colon = a.rfind(':'); colon != std::string_view::npos) {
            host = a.substr(0, colon);
            port = a.substr(colon + 1);
            if (port.empty()) return false;
        }
        if (!is_host_name(host)) return false;
        error_code ec;
        auto v4 = boost::asio::ip::make_address_v4(std::string(host), ec);  // the whole host, or it is a name
        if (!ec) {
            o.host = v4.to_string();
            o.host_is_ip = true;
        } else {
            o.host.assign(host);
            o.host_is_ip = false;
        }
    }
    o.tls = tls;
    o.port = tls ? 443 : 80;
    return port.empty() || parse_port(port, o.port);
}

// "http://" or "https://", case-insensitive; false for anything else.
bool take_scheme(std::string_view& text, bool& tls) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos) return false;
    auto scheme = text.substr(0, sep);
    if (iequals(scheme, "http")) tls = false;
    else if (iequals(scheme, "https")) tls = true;
    else return false;
    text.remove_prefix(sep + 3);
    return true;
}
} // namespace

std::string origin::key() const {
    std::string out(tls ? "https://" : "http://");
    out.append(bracketed(host)).append(1, ':').append(std::to_string(port));
    return out;
}

std::string origin::host_header() const {
    std::string h = bracketed(host);
    if (port != (tls ? 443 : 80)) h.append(1, ':').append(std::to_string(port));
    return h;
}

bool origin::is_loopback() const {
    if (!host_is_ip) return iequals(host, "localhost");
    error_code ec;
    auto a = boost::asio::ip::make_address(host, ec);
    return !ec && a.is_loopback();
}

parsed_url parse_url(std::string_view text, error_code& ec) {
    ec = {};
    parsed_url out;
    bool tls = false;
    if (!take_scheme(text, tls)) {
        ec = errc::invalid_url;
        return out;
    }
    auto end = text.find_first_of("/?#");
    auto authority = text.substr(0, end == std::string_view::npos ? text.size() : end);
    auto rest = text.substr(authority.size());
    // User-info is refused: credentials never belong in a URL.
    if (authority.find('@') != std::string_view::npos || !parse_authority(authority, tls, out.origin) ||
        rest.find('#') != std::string_view::npos) {
        ec = errc::invalid_url;
        return out;
    }
    std::string target;
    if (rest.empty() || rest.front() == '?') target.assign(1, '/');
    target.append(rest);
    // Boost.URL checks the path and query characters.
    if (!boost::urls::parse_origin_form(target)) {
        ec = errc::invalid_url;
        return out;
    }
    out.target = std::move(target);
    return out;
}

} // namespace chatwire::http
