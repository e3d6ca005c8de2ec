// http::parse_url on arbitrary text: no crash, no sanitizer report, and on
// success
//   - the host is not empty and the target starts with '/';
//   - host_is_ip exactly when the whole host parses as an IP address;
//   - "scheme://" + host_header() + target parses again to the same origin
//     and target, and so does the pool key + target;
// and a URL that starts with "http://127.0.0.1." and a non-digit never goes
// to host 127.0.0.1 (Boost.URL 1.81 would take the dotted quad alone).
#include "fuzz_split.hpp"

#include <chatwire/http/origin.hpp>

#include <boost/asio/ip/address.hpp>

#include <string>

using chatwire::error_code;
using chatwire::fuzz::check;
using chatwire::http::parse_url;
using chatwire::http::parsed_url;

namespace {

bool same(const parsed_url& a, const parsed_url& b) { return a.origin == b.origin && a.target == b.target; }

void check_parsed(std::string_view text, const parsed_url& url) {
    const auto& o = url.origin;
    check(!o.host.empty());
    check(!url.target.empty() && url.target.front() == '/');
    check(url.target.find('#') == std::string::npos);
    check(o.port != 0);

    error_code ip_ec;
    const auto address = boost::asio::ip::make_address(o.host, ip_ec);
    check(o.host_is_ip == !ip_ec);
    if (o.host_is_ip) check(address.to_string() == o.host);  // kept in canonical form
    (void)o.is_loopback();

    const std::string scheme = o.tls ? "https://" : "http://";
    error_code ec;
    const parsed_url again = parse_url(scheme + o.host_header() + url.target, ec);
    check(!ec && same(again, url));
    const parsed_url by_key = parse_url(o.key() + url.target, ec);
    check(!ec && same(by_key, url));

    constexpr std::string_view trap = "http://127.0.0.1.";
    if (text.size() > trap.size() && text.starts_with(trap)) {
        const char next = text[trap.size()];
        if (next < '0' || next > '9') check(o.host != "127.0.0.1");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    error_code ec;
    const parsed_url url = parse_url(text, ec);
    if (!ec) check_parsed(text, url);
    else check(ec == chatwire::errc::invalid_url);
    return 0;
}
