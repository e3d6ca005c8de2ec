#pragma once
// The decisions of one exchange, apart from its I/O: which step comes next,
// when each step's I/O must end, which answers are interim, whether a failed
// attempt goes out again on a new connection, and whether the connection is
// kept. A driver performs the step next() names and reports how it went; the
// machine never touches a socket, so every decision is unit-tested without
// one (test/unit/http_exchange_machine_test.cpp). HTTP/1.1 over a pooled
// connection (request.cpp) drives it; an HTTP/2 stream reports the same
// outcomes, plus `unprocessed` for a stream the server refused or left above
// a GOAWAY's last stream id.
#include "deadline.hpp"
#include "exchange.hpp"

#include <chatwire/http/message.hpp>
#include <chatwire/http/options.hpp>

namespace chatwire::http::detail {

class exchange_machine {
public:
    enum class step {
        take_connection,  ///< an idle pooled connection or a new one (a new one only when fresh_only())
        send_request,     ///< the request head and body
        read_head,        ///< the next response head, interim answers included
        read_body,        ///< the rest of a whole answer
        deliver,          ///< done: the whole answer, or a streamed answer's head
        fail,             ///< done: error() says why
    };

    /// Interim (1xx) answers taken before the final one; more is a bad response.
    static constexpr int max_interim_answers = 8;

    /// `whole`: the body is read here (a whole call); else the exchange ends
    /// at the final head and the body is streamed by the caller.
    exchange_machine(verb method, bool whole, const timeouts& limits, deadline dl) noexcept
        : method_(method), whole_(whole), limits_(limits), dl_(dl) {}

    step next() const noexcept { return step_; }
    /// The connection to take must be a new one (a resend after a pooled one failed).
    bool fresh_only() const noexcept { return attempt_ > 0; }
    /// The call's deadline, for the connection set-up and a streamed body's reads.
    deadline& call_deadline() noexcept { return dl_; }

    /// When the I/O of the step now due must end: the idle limit for writing
    /// and for each body read; for the heads, the first-byte limit that started
    /// when the request left (interim answers do not restart it); never past
    /// the call's deadline. Remembers which limit it was, for error().
    deadline::clock::time_point io_end();

    // ---- outcomes of the step now due ------------------------------------------

    /// take_connection: got one; `reused`: it served a request before.
    void connected(bool reused) noexcept;
    /// take_connection: none could be had; `ec` is final (already classified).
    void no_connection(error_code ec) noexcept;
    /// send_request: the whole request left.
    void sent();
    /// read_head: a head with this status came. Returns true when it was an
    /// interim answer and another head is to be read (the driver renews its parser).
    bool head(unsigned status) noexcept;
    /// read_head: the final head makes the answer unusable (its framing, or a
    /// coding this client does not undo): the call fails with `why` (or
    /// errc::cancelled when the caller's cancel was seen), not resent.
    void refuse(error_code why, bool cancelled) noexcept;
    /// read_body: the whole body is in.
    void body_done() noexcept;
    /// The I/O of the step now due failed with `ec`; `answer_began`: bytes of a
    /// final head had come (interim answers are counted here already).
    /// `cancelled`: the caller's cancel was seen. Either a resend (next() is
    /// take_connection again, on a new connection) or the end.
    void failed(error_code ec, bool answer_began, bool cancelled) noexcept;
    /// A cancel was seen between steps: the call ends with errc::cancelled.
    void cancelled() noexcept;
    /// The server did not process the request at all (HTTP/2: REFUSED_STREAM,
    /// or a stream above a GOAWAY's last stream id). Sent again once on a new
    /// connection whatever its method, as RFC 9113 §8.7 allows; a second time,
    /// the call ends with `ec`.
    void unprocessed(error_code ec) noexcept;

    // ---- what the driver reads -------------------------------------------------

    /// Why the call failed, mapped to the library's codes (timeouts by the
    /// limit that was armed, parser limits, cancellation). Empty unless next() is fail.
    error_code error() const;
    /// How far the last attempt got, and why an earlier one was resent.
    const attempt_info& info() const noexcept { return info_; }
    /// Whether the final answer to this method with `status` has a body whose framing matters.
    bool framed_body(unsigned status) const noexcept;
    /// After deliver: whether a whole answer's connection may serve another
    /// request. `server_keeps`: the answer allows keep-alive; `drained`: no
    /// byte past the answer waits on the connection (in its buffer or below it).
    bool keep_connection(bool server_keeps, bool drained) const noexcept {
        return whole_ && step_ == step::deliver && server_keeps && drained;
    }

private:
    void fail_with(error_code ec, bool cancelled) noexcept;

    verb method_;
    bool whole_;
    timeouts limits_;
    deadline dl_;
    step step_ = step::take_connection;
    int attempt_ = 0;
    int interim_ = 0;
    bool unprocessed_resent_ = false;
    deadline::clock::time_point first_byte_end_ = deadline::clock::time_point::max();
    attempt_info info_;
    error_code error_;
    bool error_final_ = false;  // error_ is to be reported as it is
    bool cancelled_ = false;
};

} // namespace chatwire::http::detail
