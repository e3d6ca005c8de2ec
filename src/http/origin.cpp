#include <chatwire/http/origin.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

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

parsed_url parse_url(std::string_view text, error_code& ec) {
    ec = {};
    parsed_url out;
    auto r = boost::urls::parse_absolute_uri(text);
    if (!r) {
        ec = errc::invalid_url;
        return out;
    }
    boost::urls::url_view u = *r;
    auto scheme = u.scheme_id();
    if ((scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) || u.has_userinfo() ||
        u.has_fragment() || u.encoded_host().empty()) {
        ec = errc::invalid_url;
        return out;
    }
    out.origin.tls = scheme == boost::urls::scheme::https;
    switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
        out.origin.host = u.host_ipv4_address().to_string();
        out.origin.host_is_ip = true;
        break;
    case boost::urls::host_type::ipv6:
        out.origin.host = u.host_ipv6_address().to_string();
        out.origin.host_is_ip = true;
        break;
    case boost::urls::host_type::name:
        out.origin.host = u.host();
        break;
    default:
        ec = errc::invalid_url;
        return out;
    }
    if (u.has_port()) {
        auto p = u.port();
        unsigned value = 0;
        auto [ptr, err] = std::from_chars(p.data(), p.data() + p.size(), value);
        if (p.empty() || err != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535) {
            ec = errc::invalid_url;
            return out;
        }
        out.origin.port = static_cast<std::uint16_t>(value);
    } else {
        out.origin.port = out.origin.tls ? 443 : 80;
    }
    auto path = u.encoded_path();
    out.target.assign(path.data(), path.size());
    if (out.target.empty()) out.target.assign(1, '/');
    if (u.has_query()) {
        auto query = u.encoded_query();
        out.target.append(1, '?').append(query.data(), query.size());
    }
    return out;
}

} // namespace chatwire::http
