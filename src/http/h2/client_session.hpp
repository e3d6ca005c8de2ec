#pragma once
// An HTTP/2 client session over one connection's bytes, sans-io: a driver
// feeds what the socket read to receive(), writes what output() holds, and
// the session tells each stream's sink about its response. nghttp2 does the
// framing, HPACK and flow control; this adds the library's limits and what
// the pool asks of a connection: may a stream open here, and may a failed one
// be sent again elsewhere (RFC 9113 §8.7).
#include "h2_error.hpp"

#include <chatwire/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace chatwire::http::h2 {

/// A header field.
struct header_field {
    std::string_view name;
    std::string_view value;
};

/// A response head: an interim one (1xx, e.g. 103 Early Hints) or the final one.
struct response_head {
    unsigned status = 0;
    std::span<const header_field> fields;  ///< lower-case names, in the order received, no pseudo-fields
    bool interim() const noexcept { return status < 200; }
};

/// Where a stream's response goes. Views are valid during the call only.
/// From inside a call the sink may use the session (consume, cancel, submit,
/// ping, shutdown) but must not destroy it. The events come from whichever
/// session call is running: receive(), output(), or abort().
class stream_sink {
public:
    /// Interim heads come first, any number up to the session's limit; then
    /// the final head.
    virtual void on_head(std::int32_t stream, const response_head& head) = 0;
    /// Body bytes. They hold the stream's and the connection's receive
    /// windows until consume(stream, n) gives them back, now or later, so a
    /// sink that parses them in place and consumes at once copies nothing,
    /// and one that keeps them holds back the server.
    virtual void on_data(std::int32_t stream, std::string_view chunk) = 0;
    /// The last event: the response is whole (how.ec empty) or it failed.
    /// The bytes the stream still held are given back to the connection.
    virtual void on_close(std::int32_t stream, const stream_close& how) = 0;

protected:
    ~stream_sink() = default;
};

/// A request. The fields are read during submit() only; the body must stay
/// in place until the stream closes (it leaves as the server's windows allow).
struct request {
    std::string_view method = "GET";
    std::string_view scheme = "https";
    std::string_view authority;  ///< host[:port]; a Host field may stand in for it
    std::string_view path = "/";  ///< path and query
    /// Any case (sent lower-cased). Connection-specific fields (Connection,
    /// Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, a TE other
    /// than "trailers") and Content-Length (the session's own) are refused;
    /// Host is taken as the authority.
    std::span<const header_field> fields;
    std::string_view body;  ///< sent with its Content-Length (also 0 for POST, PUT and PATCH)
};

/// The session's bounds.
struct session_limits {
    /// The largest response header block, decoded, counted as RFC 9113
    /// §6.5.2 counts SETTINGS_MAX_HEADER_LIST_SIZE (name + value + 32 per
    /// field; the client's limits.max_header_bytes). HPACK makes a few bytes
    /// on the wire decode to many, so the decoded size is what is bounded.
    /// Advertised to the server, and enforced per head: a larger one fails
    /// its stream with errc::header_limit_exceeded.
    std::size_t max_header_bytes = 16 * 1024;
    /// Receive windows: what the server may send before the reader consumes
    /// (client_options::http2_stream_window and http2_connection_window).
    /// A stream's 64 KiB covers a chat reply's tokens or a list page per round
    /// trip (10 Mbit/s at 50 ms) and is all a reader that stops holds of it;
    /// just above the protocol's default (65,535), nothing unusual to a
    /// server. The connection's 1 MiB lets 16 streams run at full window at
    /// once, so one stalled reader never stalls the others, and bounds what a
    /// connection holds unread, 100 streams or not (curl's 10 MiB is for bulk
    /// downloads this library does not make).
    std::uint32_t stream_window = 64 * 1024;
    std::uint32_t connection_window = 1024 * 1024;
    /// The most streams open at once: the lower of this and the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS, taken as 100 until its SETTINGS
    /// arrive (RFC 9113 §6.5.2 recommends no less).
    std::uint32_t max_concurrent_streams = 100;
    /// Interim (1xx) heads a response may send before its final one; one more
    /// fails the stream with errc::bad_response.
    unsigned max_interim_heads = 4;
};

/// A GOAWAY the server sent.
struct goaway_info {
    std::int32_t last_stream_id = 0;  ///< streams above it were not processed
    std::uint32_t error_code = code::no_error;
};

/// Why the connection failed.
struct connection_failure {
    error_code ec;  ///< errc::protocol_error, or the error given to abort()
    std::uint32_t h2_error = code::no_error;  ///< the HTTP/2 error code it ends with
    std::string detail;  ///< nghttp2's reason, for diagnostics::detail
};

class client_session {
public:
    explicit client_session(const session_limits& limits = {});
    ~client_session();  ///< no events: the owner fails the streams it still has
    client_session(client_session&&) noexcept;
    client_session& operator=(client_session&&) noexcept;

    // Streams.

    /// Opens a stream for `req`; its events go to `sink`, which must outlive
    /// it (until on_close, or cancel). The new stream's id; 0 with
    /// errc::stream_reset when the connection takes no new stream (see
    /// can_open), or errc::invalid_argument for a request that cannot be
    /// sent (a bad or refused field, a head over 64 KiB).
    std::int32_t submit(const request& req, stream_sink& sink, error_code& ec);
    /// Gives back `n` bytes of the stream's data to the windows (at most what
    /// it was given and not yet consumed); nothing once it closed.
    void consume(std::int32_t stream, std::size_t n);
    /// Resets the stream (RST_STREAM CANCEL) and gives back what it held; its
    /// sink hears nothing more and may go.
    void cancel(std::int32_t stream);

    // Bytes.

    /// Feeds what the socket read. The connection's failure (errc::protocol_error,
    /// see failure()) fails every open stream; the bytes to write then hold
    /// the GOAWAY that says why, when there is one.
    error_code receive(std::span<const char> bytes);
    /// The bytes to write: the same until wrote() covers them, then the next
    /// frames due, collected up to 64 KiB (and one frame). Valid until the
    /// next output() or wrote().
    std::span<const char> output();
    /// `n` bytes of output() were written.
    void wrote(std::size_t n);
    /// Whether the session reads or writes more; neither: close the connection.
    bool wants_read() const;
    bool wants_write() const;
    /// The connection is gone (a socket error, or its end): every open
    /// stream fails with `ec`, unprocessed if its request never left.
    void abort(error_code ec);

    // The connection.

    /// Whether a stream may open now: below max_concurrent_streams(), no
    /// GOAWAY either way, not failed.
    bool can_open() const;
    std::size_t open_streams() const noexcept;
    /// The lower of the server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until
    /// its SETTINGS arrive) and the client's cap.
    std::uint32_t max_concurrent_streams() const;
    bool settings_received() const noexcept;
    const std::optional<goaway_info>& goaway() const noexcept;
    const connection_failure& failure() const noexcept;
    /// Sends a PING; ping_outstanding() until its ACK comes back.
    void ping();
    bool ping_outstanding() const noexcept;
    /// Sends GOAWAY NO_ERROR: no new stream, the open ones run to their end.
    void shutdown();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace chatwire::http::h2
