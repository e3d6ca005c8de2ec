#pragma once
// A sans-io decoder of the WHATWG event-stream format (text/event-stream).
// It sees the caller's bytes in place and hands out events as views: an event
// that lies whole in one fed piece costs no copy at all.
#include <chatwire/error.hpp>

#include <boost/assert.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatwire::stream {

/// One dispatched event. The views stay valid until the next call to
/// `sse_decoder::next()` or `sse_decoder::feed()`.
struct sse_event {
    std::string_view type;           ///< the `event` field, "message" when absent or empty
    std::string_view data;           ///< the `data` lines joined with LF
    std::string_view last_event_id;  ///< the last event ID in effect at dispatch
    std::optional<std::uint64_t> retry;  ///< the reconnection time (ms) last set by a `retry` field
};

enum class decode_status {
    event,      ///< an event (or line) was produced
    need_more,  ///< all fed input is consumed: feed() the next piece or finish()
    error,      ///< see the error code; the decoder stays failed until reset()
};

/// Splits a text/event-stream body into events, piece by piece.
class sse_decoder {
public:
    /// Its limits.
    struct options {
        /// The largest event block accepted, in bytes of its lines (at least 4 MiB
        /// is advised: a long cumulative VectorShift reply comes as one event).
        std::size_t max_event_size = std::size_t{16} << 20;
    };

    sse_decoder();
    /// A decoder with `opts`.
    explicit sse_decoder(options opts);

    /// Hands over the next piece of input. Call it on a fresh decoder or after
    /// next() returned need_more. The decoder keeps a view of the piece until
    /// next() returns need_more; then it copies only the unconsumed tail (the
    /// event in progress), so the caller may reuse the piece's memory.
    void feed(std::string_view piece) noexcept {
        BOOST_ASSERT_MSG(pos_ == input_.size(), "feed() before next() returned need_more");
        input_ = piece;
        pos_ = 0;
    }

    /// The next complete event. The views in `out` point into the fed piece when
    /// the event lies whole in it, else into decoder-owned storage. On error,
    /// `ec` is errc::event_too_large.
    decode_status next(sse_event& out, error_code& ec) {
        // Inline for input fed one byte at a time: a byte that ends no line only
        // joins the block in progress, staged in a small array without a call.
        if (pos_ + 1 == input_.size() && staged_size_ < stage_limit_) {
            const char c = input_[pos_];
            if (c != '\n' && c != '\r') {
                staged_[staged_size_++] = c;  // flush_staged() sets what this byte implies
                pos_ = input_.size();
                return decode_status::need_more;
            }
        }
        return next_general(out, ec);
    }

    /// End of input. An event cut off without its blank line is not dispatched;
    /// returns true when the input ended inside an event block (anything after
    /// the last blank line), so callers can diagnose a truncated stream.
    bool finish() noexcept;

    /// Back to the state of a new stream (the last event ID and reconnection
    /// time too); keeps the buffers' capacity.
    void reset() noexcept;

    /// The last event ID and reconnection time, which persist across events.
    std::string_view last_event_id() const noexcept { return last_event_id_; }
    /// The last `retry:` field, in ms, if any.
    std::optional<std::uint64_t> reconnection_time() const noexcept { return retry_; }

private:
    struct field_view {
        const char* data = nullptr;
        std::size_t size = 0;
        std::string_view view() const noexcept { return {data, size}; }
    };

    decode_status next_general(sse_event& out, error_code& ec);
    bool stage_small_piece() noexcept;
    void flush_staged();
    decode_status next_in_piece(sse_event& out, error_code& ec);
    std::size_t next_line_end(std::size_t from) noexcept;
    void scan_ahead() noexcept;
    decode_status next_from_carry(sse_event& out, error_code& ec);
    bool skip_bom();
    void begin_block() noexcept;
    void apply_line(const char* begin, const char* end);
    bool block_has_event() const noexcept { return has_data_; }
    void fill(sse_event& out) const noexcept;
    decode_status fail(error_code& ec);

    options opts_;
    // The fed piece and how far it is consumed.
    std::string_view input_;
    std::size_t pos_ = 0;
    // The CR and LF bytes of the piece, found a batch ahead of parsing: offsets
    // from ends_base_; ends_[ends_at_, ends_count_) are not consumed yet.
    std::uint16_t ends_[128] = {};
    std::size_t ends_at_ = 0;
    std::size_t ends_count_ = 0;
    std::size_t ends_base_ = 0;
    std::size_t scanned_ = 0;       // bytes of the piece covered by the batches so far
    // The event block in progress when it started in an earlier piece.
    std::string carry_;
    bool release_carry_ = false;    // carry_ holds the last dispatched event: clear on next()
    bool carry_at_line_start_ = true;
    // Small pieces (single bytes most of all) that end no line, appended to
    // carry_ in bulk.
    char staged_[256] = {};
    std::size_t staged_size_ = 0;
    // How many bytes the inline path may stage: set when the general path
    // stages (never past the event size limit), 0 once it does anything else.
    std::size_t stage_limit_ = 0;
    // Stream-wide state.
    bool pending_cr_ = false;       // the last byte seen was a CR: a following LF ends no line
    std::size_t bom_matched_ = 0;   // bytes of a leading BOM seen so far
    bool bom_done_ = false;
    bool failed_ = false;
    std::string last_event_id_;
    std::optional<std::uint64_t> retry_;
    // The block being parsed.
    field_view type_;
    field_view data_;
    std::string joined_data_;       // several data lines, joined with LF
    bool has_data_ = false;
    bool data_joined_ = false;
};

} // namespace chatwire::stream
