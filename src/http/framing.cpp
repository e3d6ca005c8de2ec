#include "framing.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace chatwire::http::detail {

namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A coding may carry parameters ("gzip;q=1" is not valid here, but a
// transfer-extension may): only its name decides.
std::string_view coding_name(std::string_view element) { return trim(element.substr(0, element.find(';'))); }

} // namespace

framing_check check_framing(const fields& headers) {
    framing_check out;
    const auto [first, last] = headers.equal_range(bhttp::field::transfer_encoding);
    if (first == last) return out;
    out.transfer_encoding = first->value();
    if (headers.count(bhttp::field::content_length) != 0) {
        out.refusal = errc::bad_response;
        return out;
    }
    // The codings of every Transfer-Encoding field in order, as one list.
    bool any = false;
    bool chunked_seen = false;  // chunked must be the last coding, and only once
    bool unsupported = false;
    for (auto f = first; f != last; ++f) {
        std::string_view list = f->value();
        for (;;) {
            const std::size_t comma = list.find(',');
            const std::string_view name = coding_name(list.substr(0, comma));
            if (!name.empty()) {
                any = true;
                if (chunked_seen) unsupported = true;  // a coding applied after chunked
                if (boost::beast::iequals(name, "chunked")) chunked_seen = true;
                else if (!boost::beast::iequals(name, "identity")) unsupported = true;
            }
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    if (!any) out.refusal = errc::bad_response;
    else if (unsupported) out.refusal = errc::unsupported_encoding;
    return out;
}

bool is_framing_error(const error_code& ec) noexcept {
    return ec == bhttp::error::bad_transfer_encoding || ec == bhttp::error::bad_content_length ||
           ec == bhttp::error::multiple_content_length || ec == bhttp::error::bad_chunk ||
           ec == bhttp::error::bad_chunk_extension || ec == bhttp::error::buffer_overflow;
}

} // namespace chatwire::http::detail
