#pragma once
// What the emulator's protocol logic consumes and produces, free of sockets:
// a parsed request in, a response plan out, and the plan turned into timed
// byte segments that the I/O layer only has to write.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatwire::emulator {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A request as the emulator read it.
struct request {
    std::string method;   ///< "GET", "POST", ...
    std::string target;   ///< path and query, as received
    header_list headers;  ///< names in lower case
    /// The whole body.
    std::string body;
    /// Whether the client keeps the connection open.
    bool keep_alive = true;
    int version = 11;     ///< 10, 11 or 20 (HTTP/2): HTTP/1.0 gets no chunked encoding
    /// The address the connection was accepted on ("127.0.0.1", "::1"), which
    /// a Host header may name; empty when unknown (options::host is used).
    std::string local_address;
    /// The port the connection was accepted on; 0 when unknown (options::port is used).
    std::uint16_t local_port = 0;
    /// The first value of a header (name in lower case), or empty.
    std::string_view header(std::string_view lower_name) const noexcept;
};

enum class stream_framing { none, sse, jsonl };

/// What to answer, and how: the response and the faults to act out while sending it.
struct response_plan {
    /// The HTTP status.
    int status = 200;
    header_list headers;                 ///< besides Content-Type / framing headers
    /// The Content-Type header.
    std::string content_type = "application/json";
    std::string body;                    ///< the whole body when not streaming
    bool streaming = false;              ///< chunked; `events` are the body
    std::vector<std::string> events;     ///< each already framed ("data: …\n\n" or "…\n")
    std::chrono::milliseconds event_delay{0};  ///< before every event but the first
    /// How the events are framed (SSE, JSON lines), when streaming.
    stream_framing framing = stream_framing::none;
    std::size_t terminal_events = 0;     ///< how many of the last events end the stream
    // effects of fault rules, carried out by the I/O layer
    /// Faults to act out: reset the connection (before answering or after N events), stall (before, or after N events), or drip the bytes out a few at a time.
    ///@{
    bool reset_before_response = false;
    std::optional<std::size_t> reset_after_events;
    std::chrono::milliseconds stall_before{0};
    std::optional<std::size_t> stall_after_events;
    std::chrono::milliseconds stall_mid{0};
    std::size_t drip_bytes = 0;
    std::chrono::milliseconds drip_delay{0};
    ///@}
    bool close = false;                  ///< close the connection after this response
    /// HTTP/2 only (the HTTP/1.1 wire resets the connection before answering):
    /// refuse the stream (REFUSED_STREAM), or leave it out of a GOAWAY with
    /// this error code.
    ///@{
    bool refuse_stream = false;
    std::optional<std::uint32_t> goaway;
    ///@}
    /// The HTTP/2 error code a reset sends (INTERNAL_ERROR; the HTTP/1.1 wire resets the TCP connection).
    std::uint32_t h2_reset_code = 0x2;
};

/// One write: wait `delay`, then send `bytes`.
struct segment {
    /// The wait before the write.
    std::chrono::milliseconds delay{0};
    /// The bytes to write.
    std::string bytes;
};

enum class ending { keep_alive, close, reset };

/// A response as the writes that send it, and how the connection ends.
struct wire_plan {
    /// The writes, in order.
    std::vector<segment> segments;
    /// Keep the connection, close it, or reset it afterwards.
    ending end = ending::keep_alive;
    /// A drip fault: at most `drip_bytes` a write, `drip_delay` apart. Cut while
    /// writing (write_steps), so that a dripped response costs no more memory
    /// than a whole one.
    ///@{
    std::size_t drip_bytes = 0;
    std::chrono::milliseconds drip_delay{0};
    ///@}
};

/// One write: wait `delay`, then send `bytes` (a view into the wire plan).
struct write_step {
    /// The wait before the write.
    std::chrono::milliseconds delay{0};
    /// The bytes to write.
    std::string_view bytes;
};

/// The writes of a wire plan in order, drips cut as they are reached.
class write_steps {
public:
    /// The writes of `w`, which must outlive this object.
    explicit write_steps(const wire_plan& w) noexcept : w_(w) {}
    /// The next write; nullopt after the last.
    std::optional<write_step> next();

private:
    const wire_plan& w_;
    std::size_t seg_ = 0, off_ = 0;
    bool first_ = true;
};

/// Serialises a plan as HTTP/1.1 (chunked when streaming). `reason` is the
/// status line's reason phrase. Consumes the plan's strings.
wire_plan to_wire(response_plan&& plan, std::string_view reason, const request& req);

} // namespace chatwire::emulator
