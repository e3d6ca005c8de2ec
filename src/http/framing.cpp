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

// Calls f(element, field value) for every element of every `name` field, in
// order, as one comma list; elements trimmed, empty ones skipped. False as
// soon as f returns false.
template <class F>
bool for_each_element(const fields& headers, bhttp::field name, F f) {
    const auto [first, last] = headers.equal_range(name);
    for (auto it = first; it != last; ++it) {
        std::string_view list = it->value();
        for (;;) {
            const std::size_t comma = list.find(',');
            const std::string_view element = trim(list.substr(0, comma));
            if (!element.empty() && !f(element, it->value())) return false;
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    return true;
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
    for_each_element(headers, bhttp::field::transfer_encoding, [&](std::string_view element, std::string_view) {
        const std::string_view name = coding_name(element);
        if (name.empty()) return true;
        any = true;
        if (chunked_seen) unsupported = true;  // a coding applied after chunked
        if (boost::beast::iequals(name, "chunked")) chunked_seen = true;
        else if (!boost::beast::iequals(name, "identity")) unsupported = true;
        return true;
    });
    if (!any) out.refusal = errc::bad_response;
    else if (unsupported) out.refusal = errc::unsupported_encoding;
    return out;
}

std::string_view unsupported_content_coding(const fields& headers) {
    std::string_view refused;
    for_each_element(headers, bhttp::field::content_encoding, [&](std::string_view coding, std::string_view value) {
        if (boost::beast::iequals(coding, "identity")) return true;
        refused = value;
        return false;
    });
    return refused;
}

bool is_framing_error(const error_code& ec) noexcept {
    return ec == bhttp::error::bad_transfer_encoding || ec == bhttp::error::bad_content_length ||
           ec == bhttp::error::multiple_content_length || ec == bhttp::error::bad_chunk ||
           ec == bhttp::error::bad_chunk_extension || ec == bhttp::error::buffer_overflow;
}

} // namespace chatwire::http::detail
