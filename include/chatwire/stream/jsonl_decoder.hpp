#pragma once
// A sans-io decoder of JSON lines (application/jsonl): LF or CRLF line ends,
// blank lines skipped. Lines are handed out as views into the caller's bytes
// whenever a line lies whole in one fed piece.
#include <chatwire/error.hpp>
#include <chatwire/stream/sse_decoder.hpp>  // decode_status

#include <cstddef>
#include <string>
#include <string_view>

namespace chatwire::stream {

/// Splits a JSON-lines body into lines, piece by piece.
class jsonl_decoder {
public:
    /// Its limits.
    struct options {
        std::size_t max_line_size = std::size_t{16} << 20;  ///< bytes, without the line end
    };

    jsonl_decoder();
    /// A decoder with `opts`.
    explicit jsonl_decoder(options opts);

    /// Same contract as sse_decoder::feed(): the piece is seen in place until
    /// next() returns need_more; only an unfinished last line is then copied.
    void feed(std::string_view piece) noexcept;

    /// The next non-blank line, without its line end. The view points into the
    /// fed piece when the line lies whole in it, else into decoder-owned storage;
    /// valid until the next call to next() or feed(). On error, `ec` is
    /// errc::event_too_large.
    decode_status next(std::string_view& line, error_code& ec);

    /// End of input. Unlike an SSE event, a last line without its LF is kept
    /// (JSON needs no terminator): the following next() hands it out. Returns
    /// true when there was such an unterminated line.
    bool finish() noexcept;

    /// Back to the state of a new stream; keeps the buffers' capacity.
    void reset() noexcept;

private:
    decode_status fail(error_code& ec);
    bool line_too_large(std::size_t size, bool may_end_in_cr) const noexcept;

    options opts_;
    std::string_view input_;
    std::size_t pos_ = 0;
    std::string carry_;            // an unfinished line from an earlier piece
    bool release_carry_ = false;   // carry_ holds the line last handed out
    bool last_line_ready_ = false; // finish() left an unterminated last line in carry_
    bool failed_ = false;
};

} // namespace chatwire::stream
