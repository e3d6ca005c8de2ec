#include "h2_error.hpp"

#include <nghttp2/nghttp2.h>

namespace chatwire::http::h2 {

stream_close judge(const stream_facts& f) noexcept {
    if (f.response_ended) return {{}, f.close_code, false};
    if (f.verdict) return {f.verdict, f.close_code, false};
    if (f.reset_by_server) return {errc::stream_reset, f.close_code, f.close_code == code::refused_stream};
    // nghttp2 closes the streams above a GOAWAY's last id itself, and fails
    // the HEADERS still queued for them: the server never saw them.
    if (f.beyond_goaway || f.never_sent) return {errc::stream_reset, f.close_code, true};
    // nghttp2 reset it for a protocol violation on it.
    return {errc::protocol_error, f.close_code, false};
}

std::uint32_t connection_code(int lib_error) noexcept {
    // The fatal codes from NGHTTP2_ERR_FLOODED (-904) down are volume:
    // FLOODED, and TOO_MANY_CONTINUATIONS (-905) in the builds that have it.
    if (lib_error <= NGHTTP2_ERR_FLOODED) return code::enhance_your_calm;
    // As nghttp2 picks the code of the GOAWAY it sends.
    switch (lib_error) {
    case NGHTTP2_ERR_STREAM_CLOSED: return NGHTTP2_STREAM_CLOSED;
    case NGHTTP2_ERR_HEADER_COMP: return NGHTTP2_COMPRESSION_ERROR;
    case NGHTTP2_ERR_FRAME_SIZE_ERROR: return NGHTTP2_FRAME_SIZE_ERROR;
    case NGHTTP2_ERR_FLOW_CONTROL: return NGHTTP2_FLOW_CONTROL_ERROR;
    case NGHTTP2_ERR_PROTO:
    case NGHTTP2_ERR_HTTP_HEADER:
    case NGHTTP2_ERR_HTTP_MESSAGING:
    case NGHTTP2_ERR_SETTINGS_EXPECTED: return code::protocol_error;
    default: return code::internal_error;
    }
}

} // namespace chatwire::http::h2
