#include "nghttp2_shim.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace chatwire::http::h2::shim {
namespace {

// nghttp2_data_source_read_callback (1.52); nghttp2_data_source_read_callback2
// returns nghttp2_ssize instead.
ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                  nghttp2_data_source* source, void*) {
    auto& body = *static_cast<body_source*>(source->ptr);
    const auto n = std::min(length, body.rest.size());
    if (n != 0) std::memcpy(buf, body.rest.data(), n);
    body.rest.remove_prefix(n);
    if (body.rest.empty()) {
        if (!body.more_later) *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0) return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(n);
}

nghttp2_data_provider provider(body_source* body) {
    nghttp2_data_provider p{};
    p.source.ptr = body;
    p.read_callback = read_body;
    return p;
}

} // namespace

callbacks_ptr new_callbacks() {
    nghttp2_session_callbacks* c = nullptr;
    if (nghttp2_session_callbacks_new(&c) != 0) throw std::bad_alloc();
    return callbacks_ptr(c);
}

option_ptr new_option() {
    nghttp2_option* o = nullptr;
    if (nghttp2_option_new(&o) != 0) throw std::bad_alloc();
    return option_ptr(o);
}

std::ptrdiff_t mem_recv(nghttp2_session* s, std::span<const std::uint8_t> bytes) {
    return nghttp2_session_mem_recv(s, bytes.data(), bytes.size());
}

std::ptrdiff_t mem_send(nghttp2_session* s, const std::uint8_t*& data) {
    return nghttp2_session_mem_send(s, &data);
}

std::int32_t submit_request(nghttp2_session* s, std::span<const nghttp2_nv> headers, body_source* body) {
    const auto p = provider(body);
    return nghttp2_submit_request(s, nullptr, headers.data(), headers.size(), body ? &p : nullptr, nullptr);
}

int submit_response(nghttp2_session* s, std::int32_t stream, std::span<const nghttp2_nv> headers,
                    body_source* body) {
    const auto p = provider(body);
    return nghttp2_submit_response(s, stream, headers.data(), headers.size(), body ? &p : nullptr);
}

} // namespace chatwire::http::h2::shim
