#pragma once
// The emulator's HTTP/2 server session over one connection's bytes, sans-io:
// a driver feeds what the socket read to receive(), writes what output()
// holds, hands each whole request to the engine and answers through
// respond() and send(), timing the pieces itself (SSE with pauses). nghttp2
// does the framing, HPACK and flow control; this adds the emulator's limits
// and the faults an HTTP/2 test server must act out (resets, GOAWAY, tiny
// windows, unanswered PINGs). Shares no code with the client's session.
#include <chatwire/emulator/plan.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace chatwire::emulator::h2 {

/// The RFC 9113 §7 error codes the emulator sends.
namespace code {
inline constexpr std::uint32_t no_error = 0x0;
inline constexpr std::uint32_t protocol_error = 0x1;
inline constexpr std::uint32_t internal_error = 0x2;
inline constexpr std::uint32_t refused_stream = 0x7;
inline constexpr std::uint32_t cancel = 0x8;
inline constexpr std::uint32_t enhance_your_calm = 0xb;
} // namespace code

/// The largest stream id: goaway(last_stream) for "every stream so far".
inline constexpr std::int32_t max_stream_id = 0x7fffffff;

/// What the session's calls fail with.
enum class session_errc {
    protocol_error = 1,  ///< the client broke the protocol (a bad preface, a bad frame)
    flooded,             ///< the client asked for more than the flood limits allow
    no_such_stream,      ///< not an open stream of this session (closed, reset, never opened)
    already_answered,    ///< respond() twice on a stream
    not_answered,        ///< send() before respond()
    ended,               ///< the response already ended
    failed,              ///< the connection already failed
};
const std::error_category& session_category() noexcept;
std::error_code make_error_code(session_errc e) noexcept;

/// The session's settings and limits; the defaults are an ordinary server.
struct server_settings {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: more open streams are refused
    /// (RST_STREAM REFUSED_STREAM, by nghttp2). 1 for one-stream tests.
    std::uint32_t max_concurrent_streams = 100;
    /// SETTINGS_INITIAL_WINDOW_SIZE: what the client may send on a stream
    /// before the server's WINDOW_UPDATE (the protocol's default; the server
    /// reads every body byte at once).
    std::uint32_t initial_window_size = 65535;
    /// SETTINGS_MAX_HEADER_LIST_SIZE, advertised and enforced: a request
    /// head over it (name + value + 32 a field, RFC 9113 §6.5.2, pseudo-fields
    /// included) is answered 431 and its stream closed.
    std::size_t max_header_list_bytes = 16 * 1024;
    /// A request body over it (by Content-Length, or as it arrives) is
    /// answered 413 and its stream closed: the session holds no more of it.
    std::size_t max_request_body = 1024 * 1024;
    /// False is a fault: PINGs go unanswered (nghttp2's automatic ACK is
    /// always off; the session answers them itself unless this is false).
    bool answer_pings = true;
};

/// A whole request (its head and its body, END_STREAM seen).
struct incoming_request {
    std::int32_t stream = 0;
    std::string method;     ///< ":method"
    std::string scheme;     ///< ":scheme"
    std::string path;       ///< ":path": path and query
    std::string authority;  ///< ":authority", or empty
    header_list fields;     ///< lower-case names (HTTP/2 requires it), no pseudo-fields, in order
    std::string body;
};

/// The engine's request: the path as the target, a Host field from the
/// authority when the request had none (RFC 9113 §8.3.1), version 20.
/// `local_address` and `local_port` are the connection's, as for HTTP/1.1.
request to_engine_request(incoming_request&& r, std::string local_address = {}, std::uint16_t local_port = 0);

/// Why the session refused a request itself, answering it with a status.
enum class refusal {
    header_list_too_large,  ///< answered 431, stream closed (RST_STREAM NO_ERROR if the body was still coming)
    body_too_large,         ///< answered 413, stream closed the same way
};

/// What the session tells its driver. Called from inside receive() (after
/// nghttp2 returned, so the handler may respond(), reset() or goaway()) or
/// output(); the handler must not destroy the session.
struct server_handlers {
    /// A whole request to answer.
    std::function<void(incoming_request&&)> on_request;
    /// A request the session refused (its answer is already queued).
    std::function<void(std::int32_t stream, refusal why)> on_refused;
    /// A stream closed: its response sent whole, or reset by either side
    /// (`h2_error` its code), or dropped by a GOAWAY. The driver stops
    /// producing for it. Optional.
    std::function<void(std::int32_t stream, std::uint32_t h2_error)> on_closed;
};

/// Counts over the connection's life.
struct session_stats {
    std::size_t streams_opened = 0;      ///< request heads begun
    std::size_t requests = 0;            ///< whole requests handed to on_request
    std::size_t refused = 0;             ///< requests the session answered 413 / 431
    std::size_t responses_completed = 0; ///< responses whose END_STREAM was sent
    std::size_t reset_by_client = 0;     ///< RST_STREAM received
    std::size_t reset_by_server = 0;     ///< RST_STREAM sent (reset(), refusals, nghttp2's own)
    std::size_t pings_received = 0;
    std::size_t pings_answered = 0;
    std::size_t data_frames_received = 0; ///< request body frames (many when the window is tiny)
};

class server_session {
public:
    /// Queues the server's SETTINGS (the preface's first frame).
    explicit server_session(server_handlers handlers, const server_settings& settings = {});
    ~server_session();
    server_session(const server_session&) = delete;
    server_session& operator=(const server_session&) = delete;

    // Bytes.

    /// Feeds what the socket read; requests completed by them go to the
    /// handlers. A connection error (session_errc::protocol_error or
    /// flooded) is final: wants_read() turns false, and output() may still
    /// hold a GOAWAY to write before closing.
    std::error_code receive(std::span<const char> bytes);
    /// The bytes to write: the same until wrote() covers them, then the next
    /// frames due, collected up to 64 KiB. Valid until the next output() or wrote().
    std::span<const char> output();
    /// `n` bytes of output() were written.
    void wrote(std::size_t n);
    /// Whether the session reads or writes more; neither: close the connection.
    bool wants_read() const;
    bool wants_write() const;

    // Responses.

    /// Sends a response head (`status`, lower-case `fields`; no
    /// Content-Length is added) and a first piece of body; `end` ends the
    /// response, otherwise send() brings the rest.
    std::error_code respond(std::int32_t stream, unsigned status, const header_list& fields,
                            std::string_view body = {}, bool end = true);
    /// More body for a response begun with end = false; `end` ends it (an
    /// empty piece with end = true just ends it).
    std::error_code send(std::int32_t stream, std::string_view body, bool end);
    /// Body bytes given to the stream and not yet framed: they wait for the
    /// client's flow-control windows. The driver pauses producing while this
    /// is high, so a client that does not read never makes the session
    /// buffer without bound. 0 for a stream not open.
    std::size_t queued(std::int32_t stream) const;
    /// Open streams (requests begun, not yet closed).
    std::size_t open_streams() const noexcept;

    // Faults.

    /// RST_STREAM with `h2_error` (INTERNAL_ERROR mid-reply, REFUSED_STREAM
    /// to have the client send it again elsewhere...). Body not yet framed is
    /// dropped; what output() already gave has gone before it.
    std::error_code reset(std::int32_t stream, std::uint32_t h2_error);
    /// GOAWAY: streams above `last_stream` are dropped unprocessed (nghttp2
    /// clamps it to the last stream the client opened), the others run to
    /// their end. max_stream_id with NO_ERROR is the graceful shutdown.
    std::error_code goaway(std::int32_t last_stream, std::uint32_t h2_error);
    /// Sends a PING (the client answers; nghttp2 takes its ACK).
    void ping();

    const session_stats& stats() const noexcept;
    /// Whether nghttp2's stream-reset rate limit (CVE-2023-44487) is set:
    /// false only with a header that does not declare it.
    bool reset_rate_limited() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace chatwire::emulator::h2

template <>
struct std::is_error_code_enum<chatwire::emulator::h2::session_errc> : std::true_type {};
