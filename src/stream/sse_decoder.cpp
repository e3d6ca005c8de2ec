#include <chatwire/stream/sse_decoder.hpp>

#include "line_scan.hpp"

#include <boost/assert.hpp>

#include <cstring>
#include <limits>
#include <type_traits>

namespace chatwire::stream {
namespace {

constexpr char byte_order_mark[] = "\xEF\xBB\xBF";
constexpr std::size_t byte_order_mark_size = 3;

bool is_line_end(char c) noexcept { return c == '\n' || c == '\r'; }

bool equals(const char* begin, const char* end, std::string_view word) noexcept {
    return static_cast<std::size_t>(end - begin) == word.size() &&
           std::memcmp(begin, word.data(), word.size()) == 0;
}

// WHATWG: digits only; anything else (or an overflow) leaves the field ignored.
std::optional<std::uint64_t> parse_retry(const char* begin, const char* end) noexcept {
    if (begin == end) return std::nullopt;
    std::uint64_t value = 0;
    for (const char* p = begin; p != end; ++p) {
        if (*p < '0' || *p > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(*p - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

} // namespace

sse_decoder::sse_decoder() : sse_decoder(options{}) {}

sse_decoder::sse_decoder(options opts) : opts_(opts) {}

// Staged bytes end no line, so a CR before them is done with and their line
// is under way. The size limit is checked where the carried block is parsed.
void sse_decoder::flush_staged() {
    carry_.append(staged_, staged_size_);
    staged_size_ = 0;
    pending_cr_ = false;
    carry_at_line_start_ = false;
}

// A piece that fits the staging array and ends no line joins it as a single
// byte does: a few bytes at a time, the general path would cost more than the
// bytes. Staging is open once a BOM is settled, with no failure and no event
// to release, up to the event size limit; the inline path then goes on alone.
bool sse_decoder::stage_small_piece() noexcept {
    constexpr std::size_t small = 16;  // larger pieces are scanned faster as they are
    const std::size_t n = input_.size() - pos_;
    if (n == 0 || n > small || !bom_done_ || failed_ || release_carry_) return false;
    const std::size_t room = opts_.max_event_size > carry_.size() ? opts_.max_event_size - carry_.size() : 0;
    const std::size_t limit = room < sizeof staged_ ? room : sizeof staged_;
    if (staged_size_ + n > limit) return false;
    const char* const p = input_.data() + pos_;
    for (std::size_t i = 0; i < n; ++i)
        if (p[i] == '\n' || p[i] == '\r') return false;
    std::memcpy(staged_ + staged_size_, p, n);
    staged_size_ += n;
    pos_ = input_.size();
    stage_limit_ = limit;
    return true;
}

// The inline next() stages single bytes that end no line; everything else,
// and the line-end batch (reset here when a new piece starts), is done here.
[[gnu::noinline]] decode_status sse_decoder::next_general(sse_event& out, error_code& ec) {
    if (stage_small_piece()) return decode_status::need_more;
    stage_limit_ = 0;  // what follows may change the state: the inline path waits for the next staging
    if (staged_size_ != 0) flush_staged();
    if (pos_ == 0) {  // nothing of this piece is consumed, so nothing of it is scanned
        ends_at_ = 0;
        ends_count_ = 0;
        ends_base_ = 0;
        scanned_ = 0;
    }
    if (failed_) return fail(ec);
    if (release_carry_) {
        carry_.clear();
        release_carry_ = false;
    }
    if (!bom_done_ && !skip_bom()) return decode_status::need_more;
    if (!carry_.empty()) {
        const decode_status status = next_from_carry(out, ec);
        if (status != decode_status::need_more || pos_ == input_.size()) return status;
    }
    return next_in_piece(out, ec);
}

// The first CR or LF at or after `from` (forward only: entries before it are
// dropped), or input_.size().
[[gnu::always_inline]] inline std::size_t sse_decoder::next_line_end(std::size_t from) noexcept {
    for (;;) {
        while (ends_at_ != ends_count_) {
            const std::size_t at = ends_base_ + ends_[ends_at_++];
            if (at >= from) return at;
        }
        if (scanned_ == input_.size()) return scanned_;
        scan_ahead();
    }
}

[[gnu::noinline]] void sse_decoder::scan_ahead() noexcept {
    static_assert(sizeof ends_ / sizeof ends_[0] == detail::line_end_batch_capacity);
    static_assert(std::is_same_v<std::remove_extent_t<decltype(ends_)>, detail::line_end_offset>);
    const char* const begin = input_.data() + scanned_;
    const detail::line_end_batch batch = detail::collect_line_ends(begin, input_.data() + input_.size(), ends_);
    ends_base_ = scanned_;
    ends_at_ = 0;
    ends_count_ = batch.count;
    scanned_ += batch.scanned;
}

// A BOM may arrive split across pieces; bytes that turn out not to be one are
// content, and go to the carry buffer when their piece is already gone.
bool sse_decoder::skip_bom() {
    std::size_t matched_here = 0;
    while (bom_matched_ < byte_order_mark_size) {
        if (pos_ == input_.size()) return false;
        if (input_[pos_] != byte_order_mark[bom_matched_]) {
            const std::size_t matched_before = bom_matched_ - matched_here;
            carry_.clear();  // byte by byte: assign() trips GCC 12's -Wrestrict
            for (std::size_t i = 0; i < matched_before; ++i) carry_.push_back(byte_order_mark[i]);
            carry_at_line_start_ = matched_before == 0;
            pos_ -= matched_here;
            break;
        }
        ++bom_matched_;
        ++matched_here;
        ++pos_;
    }
    bom_done_ = true;
    return true;
}

void sse_decoder::begin_block() noexcept {
    type_ = {};
    data_ = {};
    has_data_ = false;
    data_joined_ = false;
}

// Blocks that lie in the fed piece: parsed in place, nothing copied.
decode_status sse_decoder::next_in_piece(sse_event& out, error_code& ec) {
    const char* const base = input_.data();
    const std::size_t size = input_.size();
    std::size_t pos = pos_;
    if (pending_cr_ && pos != size) {
        pending_cr_ = false;
        if (base[pos] == '\n') ++pos;
    }
    std::size_t block_start = pos;
    begin_block();
    for (;;) {
        const std::size_t eol = next_line_end(pos);
        if (eol == size) break;
        // Past the line end; a CR that is the piece's last byte may have its LF in the next.
        std::size_t next = eol + 1;
        if (base[eol] == '\r') {
            if (next == size) pending_cr_ = true;
            else if (base[next] == '\n') ++next;
        }
        if (eol == pos) {  // a blank line ends the block
            if (eol - block_start > opts_.max_event_size) return fail(ec);
            pos = next;
            if (block_has_event()) {
                pos_ = pos;
                fill(out);
                return decode_status::event;
            }
            begin_block();
            block_start = pos;
            continue;
        }
        const char* const line = base + pos;
        if (!has_data_ && eol - pos >= 5 && std::memcmp(line, "data:", 5) == 0) {  // the usual line, inline
            const char* value = line[5] == ' ' && eol - pos > 5 ? line + 6 : line + 5;
            data_ = {value, static_cast<std::size_t>(base + eol - value)};
            has_data_ = true;
        } else {
            apply_line(line, base + eol);
        }
        pos = next;
    }
    // Out of input inside a block: keep its bytes; it is parsed again once whole.
    if (size - block_start > opts_.max_event_size) return fail(ec);
    carry_.assign(base + block_start, size - block_start);
    carry_at_line_start_ = pos == size;
    pos_ = size;
    return decode_status::need_more;
}

// A block that started in an earlier piece: find its end, append, parse the copy.
decode_status sse_decoder::next_from_carry(sse_event& out, error_code& ec) {
    const char* const base = input_.data();
    const std::size_t size = input_.size();
    const std::size_t start = pos_;
    std::size_t p = start;
    bool at_line_start = carry_at_line_start_;
    while (p != size) {
        if (pending_cr_) {
            pending_cr_ = false;
            if (base[p] == '\n') {
                ++p;
                continue;
            }
        }
        if (at_line_start && is_line_end(base[p])) {
            if (carry_.size() + (p - start) > opts_.max_event_size) return fail(ec);
            carry_.append(base + start, p - start);
            pending_cr_ = base[p] == '\r';
            pos_ = p + 1;
            begin_block();
            const char* line = carry_.data();
            const char* const carry_end = line + carry_.size();
            while (line != carry_end) {
                const char* eol = detail::find_cr_or_lf(line, carry_end);
                if (line != eol) apply_line(line, eol);
                if (eol == carry_end) break;
                line = eol + 1;
                if (*eol == '\r' && line != carry_end && *line == '\n') ++line;
            }
            carry_at_line_start_ = true;
            if (block_has_event()) {
                fill(out);
                release_carry_ = true;
                return decode_status::event;
            }
            carry_.clear();
            return decode_status::need_more;  // the caller goes on in the piece
        }
        const std::size_t eol = next_line_end(p);
        if (eol == size) {
            at_line_start = false;
            p = size;
            break;
        }
        at_line_start = true;
        pending_cr_ = base[eol] == '\r';
        p = eol + 1;
    }
    if (carry_.size() + (size - start) > opts_.max_event_size) return fail(ec);
    carry_.append(base + start, size - start);
    carry_at_line_start_ = at_line_start;
    pos_ = size;
    return decode_status::need_more;
}

void sse_decoder::apply_line(const char* begin, const char* end) {
    if (*begin == ':') return;  // a comment
    // Most lines are "data:": skip the search for the colon.
    const bool data_line = end - begin >= 5 && std::memcmp(begin, "data:", 5) == 0;
    const char* colon = data_line ? begin + 4 : nullptr;
    if (!data_line) colon = static_cast<const char*>(std::memchr(begin, ':', static_cast<std::size_t>(end - begin)));
    const char* name_end = colon ? colon : end;
    const char* value = colon ? colon + 1 : end;
    if (value != end && *value == ' ') ++value;
    const std::size_t value_size = static_cast<std::size_t>(end - value);
    if (data_line || equals(begin, name_end, "data")) {
        if (!has_data_) {
            data_ = {value, value_size};
            has_data_ = true;
            return;
        }
        if (!data_joined_) {
            joined_data_.assign(data_.data, data_.size);
            data_joined_ = true;
        }
        joined_data_.push_back('\n');
        joined_data_.append(value, value_size);
    } else if (equals(begin, name_end, "event")) {
        type_ = {value, value_size};
    } else if (equals(begin, name_end, "id")) {
        if (!std::memchr(value, '\0', value_size)) last_event_id_.assign(value, value_size);
    } else if (equals(begin, name_end, "retry")) {
        if (auto retry = parse_retry(value, end)) retry_ = retry;
    }
}

void sse_decoder::fill(sse_event& out) const noexcept {
    out.type = type_.size != 0 ? type_.view() : std::string_view("message");
    out.data = data_joined_ ? std::string_view(joined_data_) : data_.view();
    out.last_event_id = last_event_id_;
    out.retry = retry_;
}

decode_status sse_decoder::fail(error_code& ec) {
    failed_ = true;
    ec = errc::event_too_large;
    return decode_status::error;
}

bool sse_decoder::finish() noexcept {
    const bool partial_bom = !bom_done_ && bom_matched_ != 0;
    const bool partial_block = !release_carry_ && (!carry_.empty() || staged_size_ != 0);
    carry_.clear();
    staged_size_ = 0;
    release_carry_ = false;
    carry_at_line_start_ = true;
    pending_cr_ = false;
    bom_matched_ = 0;
    bom_done_ = false;
    stage_limit_ = 0;
    input_ = {};
    pos_ = 0;
    return partial_bom || partial_block;
}

void sse_decoder::reset() noexcept {
    finish();
    failed_ = false;
    last_event_id_.clear();
    retry_.reset();
    begin_block();
}

} // namespace chatwire::stream
