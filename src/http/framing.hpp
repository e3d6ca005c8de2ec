#pragma once
// Whether a response's framing can be trusted, judged from its header before
// any byte of its body is read. A response framed two ways (Transfer-Encoding
// and Content-Length) is how one answer is smuggled into the next; a transfer
// coding this client does not undo would reach the decoders as garbage.
// Sans-io: headers in, a verdict out.
#include <chatwire/error.hpp>
#include <chatwire/http/message.hpp>

#include <string_view>

namespace chatwire::http::detail {

struct framing_check {
    /// errc::bad_response (ambiguous or malformed framing), errc::unsupported_encoding
    /// (a transfer coding other than chunked and identity, or chunked applied
    /// before another coding), or none.
    error_code refusal;
    /// The Transfer-Encoding field's value, for diagnostics (empty when absent).
    std::string_view transfer_encoding;
};

/// Judges the Transfer-Encoding and Content-Length fields of a response whose
/// header was parsed. Beast frames "Transfer-Encoding: gzip" followed by a
/// Content-Length by the length and keeps the connection; RFC 9112 §6.3 says
/// a message with both must be treated as an error and the connection closed.
/// A final coding other than chunked delimits the body by the close, which
/// the parser already does (such a connection is never reused).
framing_check check_framing(const fields& headers);

/// The first Content-Encoding field naming a coding other than identity
/// (empty when there is none): such a body would reach the decoders as
/// garbage, and is refused rather than read.
std::string_view unsupported_content_coding(const fields& headers);

/// A Beast parser error that means the response's framing cannot be trusted
/// (conflicting or malformed lengths, transfer codings, chunks, or framing
/// that outgrew its bound): reported as errc::bad_response.
bool is_framing_error(const error_code& ec) noexcept;

} // namespace chatwire::http::detail
