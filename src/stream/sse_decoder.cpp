#include <chatwire/stream/sse_decoder.hpp>

#include "line_scan.hpp"

#include <boost/assert.hpp>

#include <cstring>
#include <limits>

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

void sse_decoder::feed(std::string_view piece) noexcept {
    BOOST_ASSERT_MSG(pos_ == input_.size(), "feed() before next() returned need_more");
    input_ = piece;
    pos_ = 0;
}

decode_status sse_decoder::next(sse_event& out, error_code& ec) {
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
    const char* const end = input_.data() + input_.size();
    const char* p = input_.data() + pos_;
    if (pending_cr_ && p != end) {
        pending_cr_ = false;
        if (*p == '\n') ++p;
    }
    // Past a line end; sets pending_cr_ when a CR is the piece's last byte.
    auto skip_line_end = [this, end](const char* eol) {
        if (*eol == '\r') {
            if (eol + 1 == end) {
                pending_cr_ = true;
                return end;
            }
            if (eol[1] == '\n') return eol + 2;
        }
        return eol + 1;
    };
    const char* block_start = p;
    bool at_line_start = true;
    begin_block();
    while (p != end) {
        if (is_line_end(*p)) {  // a blank line ends the block
            if (static_cast<std::size_t>(p - block_start) > opts_.max_event_size) return fail(ec);
            p = skip_line_end(p);
            pos_ = static_cast<std::size_t>(p - input_.data());
            if (block_has_event()) {
                fill(out);
                return decode_status::event;
            }
            begin_block();
            block_start = p;
            continue;
        }
        const char* eol = detail::find_cr_or_lf(p, end);
        if (eol == end) {
            at_line_start = false;
            break;
        }
        if (!has_data_ && eol - p >= 5 && std::memcmp(p, "data:", 5) == 0) {  // the usual line, inline
            const char* value = p[5] == ' ' && eol - p > 5 ? p + 6 : p + 5;
            data_ = {value, static_cast<std::size_t>(eol - value)};
            has_data_ = true;
        } else {
            apply_line(p, eol);
        }
        p = skip_line_end(eol);
    }
    // Out of input inside a block: keep its bytes; it is parsed again once whole.
    if (static_cast<std::size_t>(end - block_start) > opts_.max_event_size) return fail(ec);
    carry_.assign(block_start, static_cast<std::size_t>(end - block_start));
    carry_at_line_start_ = at_line_start;
    pos_ = input_.size();
    return decode_status::need_more;
}

// A block that started in an earlier piece: find its end, append, parse the copy.
decode_status sse_decoder::next_from_carry(sse_event& out, error_code& ec) {
    const char* const end = input_.data() + input_.size();
    const char* const start = input_.data() + pos_;
    const char* p = start;
    bool at_line_start = carry_at_line_start_;
    while (p != end) {
        if (pending_cr_) {
            pending_cr_ = false;
            if (*p == '\n') {
                ++p;
                continue;
            }
        }
        if (at_line_start && is_line_end(*p)) {
            if (carry_.size() + static_cast<std::size_t>(p - start) > opts_.max_event_size) return fail(ec);
            carry_.append(start, static_cast<std::size_t>(p - start));
            pending_cr_ = *p == '\r';
            pos_ = static_cast<std::size_t>(p + 1 - input_.data());
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
        const char* eol = detail::find_cr_or_lf(p, end);
        if (eol == end) {
            at_line_start = false;
            p = end;
            break;
        }
        at_line_start = true;
        pending_cr_ = *eol == '\r';
        p = eol + 1;
    }
    if (carry_.size() + static_cast<std::size_t>(end - start) > opts_.max_event_size) return fail(ec);
    carry_.append(start, static_cast<std::size_t>(end - start));
    carry_at_line_start_ = at_line_start;
    pos_ = input_.size();
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
    const bool partial_block = !release_carry_ && !carry_.empty();
    carry_.clear();
    release_carry_ = false;
    carry_at_line_start_ = true;
    pending_cr_ = false;
    bom_matched_ = 0;
    bom_done_ = false;
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
