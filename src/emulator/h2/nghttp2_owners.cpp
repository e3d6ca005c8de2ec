#include "nghttp2_owners.hpp"

#include <new>
#include <type_traits>

// Found by overload resolution when the header declares no rate limit (an
// unpatched 1.52): the real function, declared in the global namespace, wins
// over this template when it exists, since a non-template exact match beats
// a template.
namespace chatwire_emulator_nghttp2_fallback {
template <class Option, class... Rest>
bool nghttp2_option_set_stream_reset_rate_limit(Option*, Rest...) {
    return false;
}
} // namespace chatwire_emulator_nghttp2_fallback

namespace chatwire::emulator::h2::ng {
namespace {

// nghttp2_data_source_read_callback (1.52); 1.60's *_callback2 returns nghttp2_ssize.
ssize_t read_body(nghttp2_session*, std::int32_t stream, std::uint8_t* buf, std::size_t length,
                  std::uint32_t* flags, nghttp2_data_source* source, void*) {
    bool eof = false;
    const long n = static_cast<body_reader*>(source->ptr)->read(stream, buf, length, eof);
    if (n < 0) return NGHTTP2_ERR_DEFERRED;
    if (eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return n;
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

session_ptr new_server(const nghttp2_session_callbacks* cb, const nghttp2_option* opt, void* user) {
    nghttp2_session* s = nullptr;
    if (nghttp2_session_server_new2(&s, cb, user, opt) != 0) throw std::bad_alloc();
    return session_ptr(s);
}

bool set_stream_reset_rate_limit(nghttp2_option* o, std::uint64_t burst, std::uint64_t rate) {
    using namespace chatwire_emulator_nghttp2_fallback;
    // The real function returns void, the fallback bool.
    using result = decltype(nghttp2_option_set_stream_reset_rate_limit(o, burst, rate));
    nghttp2_option_set_stream_reset_rate_limit(o, burst, rate);
    return std::is_void_v<result>;
}

std::ptrdiff_t mem_recv(nghttp2_session* s, std::span<const std::uint8_t> bytes) {
    return nghttp2_session_mem_recv(s, bytes.data(), bytes.size());
}

std::ptrdiff_t mem_send(nghttp2_session* s, const std::uint8_t*& data) {
    return nghttp2_session_mem_send(s, &data);
}

int submit_response(nghttp2_session* s, std::int32_t stream, std::span<const nghttp2_nv> fields, body_reader* body) {
    nghttp2_data_provider p{};
    p.source.ptr = body;
    p.read_callback = read_body;
    return nghttp2_submit_response(s, stream, fields.data(), fields.size(), body ? &p : nullptr);
}

} // namespace chatwire::emulator::h2::ng
