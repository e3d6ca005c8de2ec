#pragma once
// How an HTTP/2 stream ended, judged from what the session saw of it, and
// the HTTP/2 error codes (RFC 9113 §7) behind a failed connection. The one
// question the pool asks of a failed stream: may it be sent again elsewhere?
// Sans-io: facts in, a verdict out.
#include <chatwire/error.hpp>

#include <cstdint>

namespace chatwire::http::h2 {

/// The RFC 9113 §7 error codes the session names.
namespace code {
inline constexpr std::uint32_t no_error = 0x0;
inline constexpr std::uint32_t protocol_error = 0x1;
inline constexpr std::uint32_t internal_error = 0x2;
inline constexpr std::uint32_t refused_stream = 0x7;
inline constexpr std::uint32_t cancel = 0x8;
inline constexpr std::uint32_t enhance_your_calm = 0xb;
} // namespace code

/// How a stream ended: the last event its sink receives.
struct stream_close {
    /// Empty when the whole response arrived. Otherwise errc::stream_reset
    /// (the server reset or refused it, or never processed it),
    /// errc::protocol_error (it broke the protocol, or the connection failed
    /// under it), errc::header_limit_exceeded, errc::bad_response (more
    /// interim heads than allowed), or the error given to abort().
    error_code ec;
    /// The HTTP/2 error code it was closed with: its RST_STREAM's (sent by
    /// either side), or the failed connection's.
    std::uint32_t h2_error = code::no_error;
    /// The server did not process the request, so it may be sent again on
    /// another connection (RFC 9113 §8.7): REFUSED_STREAM, a stream above the
    /// last stream id of the server's GOAWAY, or one that never left.
    bool unprocessed = false;
};

/// What the session saw of a stream by the time it closed.
struct stream_facts {
    bool response_ended = false;   ///< the server's END_STREAM arrived
    error_code verdict{};          ///< the session's own reason to reset it (a limit), if any
    bool reset_by_server = false;  ///< a RST_STREAM arrived
    bool beyond_goaway = false;    ///< above the last stream id of a GOAWAY received
    bool never_sent = false;       ///< its HEADERS never left the session
    std::uint32_t close_code = code::no_error;  ///< the code nghttp2 closed it with
};

/// The close event those facts make. A response that ended is whole, however
/// the stream closes after it (a server may reset the request's unsent body
/// with NO_ERROR once it has answered, RFC 9113 §8.1).
stream_close judge(const stream_facts& f) noexcept;

/// The HTTP/2 error code of a connection that nghttp2 failed with
/// `lib_error` (a negative nghttp2_error): the code its GOAWAY carries for a
/// protocol violation, and ENHANCE_YOUR_CALM (RFC 9113 §10.5) when the peer
/// sent too much (a SETTINGS or PING flood, a train of CONTINUATION frames).
std::uint32_t connection_code(int lib_error) noexcept;

} // namespace chatwire::http::h2
