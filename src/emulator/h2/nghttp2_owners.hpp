#pragma once
// The emulator's own handles on nghttp2 (it shares no HTTP/2 code with the
// client, so that a mistake in one is not mirrored in the other): owners of
// nghttp2's C objects, and the calls whose signatures nghttp2 1.60 replaced
// (mem_recv, mem_send and the data provider return ssize_t in Debian 12's
// 1.52; 1.60 brought the *2 variants on nghttp2_ssize). Moving to them
// changes this file and its .cpp only.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace chatwire::emulator::h2::ng {

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

/// A server session; std::bad_alloc when nghttp2 cannot allocate it.
session_ptr new_server(const nghttp2_session_callbacks* cb, const nghttp2_option* opt, void* user);

/// Bounds how fast a client may reset streams (RFC 9113 §10.5, the "rapid
/// reset" attack, CVE-2023-44487): `burst` resets at once, `rate` a second
/// after that; more and nghttp2 ends the connection with GOAWAY. Debian's
/// patched 1.52 declares nghttp2_option_set_stream_reset_rate_limit (and
/// applies 1000 / 33 by default); an unpatched 1.52 header does not, and
/// then this does nothing. Whether it was applied.
bool set_stream_reset_rate_limit(nghttp2_option* o, std::uint64_t burst, std::uint64_t rate);

/// Received bytes in: how many were used, or a negative (fatal) nghttp2_error.
std::ptrdiff_t mem_recv(nghttp2_session* s, std::span<const std::uint8_t> bytes);

/// The next frame due: its bytes in `data` (valid until the next call), 0
/// when nothing is due, or a negative (fatal) nghttp2_error.
std::ptrdiff_t mem_send(nghttp2_session* s, const std::uint8_t*& data);

/// Where a response body is read from, as the client's windows allow. The
/// callback copies up to `length` bytes into `buf` and tells whether the body
/// ended (`eof`); it returns how many it copied, or -1 (nothing now, more
/// later: the stream waits until nghttp2_session_resume_data()).
struct body_reader {
    virtual long read(std::int32_t stream, std::uint8_t* buf, std::size_t length, bool& eof) = 0;

protected:
    ~body_reader() = default;
};

/// Submits a response head; its body, when `body` is not null, is read from
/// it. 0 or a negative nghttp2_error. nghttp2 copies the fields.
int submit_response(nghttp2_session* s, std::int32_t stream, std::span<const nghttp2_nv> fields, body_reader* body);

} // namespace chatwire::emulator::h2::ng
