#pragma once
// The one file that names the nghttp2 calls whose signatures 1.60 replaced.
// Debian 12 has 1.52: there mem_recv and mem_send return ssize_t and a body
// is read through an nghttp2_data_provider; 1.60 brought
// nghttp2_session_mem_recv2, nghttp2_session_mem_send2,
// nghttp2_data_provider2 and nghttp2_submit_request2 (nghttp2_ssize) and
// deprecated the old ones. Moving to them changes this file and its .cpp only.
// Also the owners of nghttp2's C objects.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace chatwire::http::h2::shim {

struct session_free {
    void operator()(nghttp2_session* s) const noexcept { nghttp2_session_del(s); }
};
struct callbacks_free {
    void operator()(nghttp2_session_callbacks* c) const noexcept { nghttp2_session_callbacks_del(c); }
};
struct option_free {
    void operator()(nghttp2_option* o) const noexcept { nghttp2_option_del(o); }
};
using session_ptr = std::unique_ptr<nghttp2_session, session_free>;
using callbacks_ptr = std::unique_ptr<nghttp2_session_callbacks, callbacks_free>;
using option_ptr = std::unique_ptr<nghttp2_option, option_free>;

/// Empty callbacks and options; std::bad_alloc when nghttp2 cannot allocate them.
callbacks_ptr new_callbacks();
option_ptr new_option();

/// Feeds received bytes to the session, which calls its callbacks from
/// inside. How many bytes it used (all of them unless a callback paused it),
/// or a negative nghttp2_error, always fatal to the session.
std::ptrdiff_t mem_recv(nghttp2_session* s, std::span<const std::uint8_t> bytes);

/// Serializes the next frame due: its bytes in `data` (valid until the next
/// call), 0 when nothing is due, or a negative (fatal) nghttp2_error.
std::ptrdiff_t mem_send(nghttp2_session* s, const std::uint8_t*& data);

/// A body sent from memory, copied into DATA frames as the flow-control
/// windows allow. `rest` is what is still to go. At its end the stream ends,
/// unless `more_later`: then the stream waits, open, until more is put in
/// `rest` and nghttp2_session_resume_data() is called.
struct body_source {
    std::string_view rest;
    bool more_later = false;
};

/// Submits a request (and, when `body` is not null, its body, which must
/// stay in place until the stream closes): the new stream's id, or a
/// negative nghttp2_error. nghttp2 copies the header fields.
std::int32_t submit_request(nghttp2_session* s, std::span<const nghttp2_nv> headers, body_source* body);

/// The same for a server's response (the tests' in-memory server answers
/// through it): 0 or a negative nghttp2_error.
int submit_response(nghttp2_session* s, std::int32_t stream, std::span<const nghttp2_nv> headers,
                    body_source* body);

} // namespace chatwire::http::h2::shim
