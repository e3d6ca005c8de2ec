#include <chatwire/stream/jsonl_decoder.hpp>

#include "line_scan.hpp"

#include <boost/assert.hpp>

namespace chatwire::stream {
namespace {

std::string_view without_cr(const char* begin, const char* end) noexcept {
    if (begin != end && end[-1] == '\r') --end;
    return {begin, static_cast<std::size_t>(end - begin)};
}

bool is_blank(std::string_view line) noexcept {
    for (char c : line)
        if (c != ' ' && c != '\t' && c != '\r') return false;
    return true;
}

} // namespace

jsonl_decoder::jsonl_decoder() : jsonl_decoder(options{}) {}

jsonl_decoder::jsonl_decoder(options opts) : opts_(opts) {}

void jsonl_decoder::feed(std::string_view piece) noexcept {
    BOOST_ASSERT_MSG(pos_ == input_.size(), "feed() before next() returned need_more");
    input_ = piece;
    pos_ = 0;
}

// An unfinished line may still lose a trailing CR to its line end.
bool jsonl_decoder::line_too_large(std::size_t size, bool may_end_in_cr) const noexcept {
    return size - (may_end_in_cr ? 1 : 0) > opts_.max_line_size;
}

decode_status jsonl_decoder::next(std::string_view& line, error_code& ec) {
    if (failed_) return fail(ec);
    if (release_carry_) {
        carry_.clear();
        release_carry_ = false;
    }
    if (last_line_ready_) {
        last_line_ready_ = false;
        release_carry_ = true;
        line = without_cr(carry_.data(), carry_.data() + carry_.size());
        return decode_status::event;
    }
    const char* const end = input_.data() + input_.size();
    const char* p = input_.data() + pos_;
    if (!carry_.empty()) {
        const char* lf = detail::find_lf(p, end);
        carry_.append(p, static_cast<std::size_t>(lf - p));
        if (lf == end) {
            if (line_too_large(carry_.size(), carry_.back() == '\r')) return fail(ec);
            pos_ = input_.size();
            return decode_status::need_more;
        }
        p = lf + 1;
        pos_ = static_cast<std::size_t>(p - input_.data());
        line = without_cr(carry_.data(), carry_.data() + carry_.size());
        if (line.size() > opts_.max_line_size) return fail(ec);
        if (!is_blank(line)) {
            release_carry_ = true;
            return decode_status::event;
        }
        carry_.clear();
    }
    while (p != end) {
        const char* lf = detail::find_lf(p, end);
        if (lf == end) break;
        line = without_cr(p, lf);
        p = lf + 1;
        if (line.size() > opts_.max_line_size) return fail(ec);
        if (line.empty() || is_blank(line)) continue;
        pos_ = static_cast<std::size_t>(p - input_.data());
        return decode_status::event;
    }
    if (line_too_large(static_cast<std::size_t>(end - p), p != end && end[-1] == '\r')) return fail(ec);
    carry_.assign(p, static_cast<std::size_t>(end - p));
    pos_ = input_.size();
    return decode_status::need_more;
}

decode_status jsonl_decoder::fail(error_code& ec) {
    failed_ = true;
    ec = errc::event_too_large;
    return decode_status::error;
}

bool jsonl_decoder::finish() noexcept {
    if (release_carry_) {
        carry_.clear();
        release_carry_ = false;
    }
    input_ = {};
    pos_ = 0;
    last_line_ready_ = !carry_.empty() && !is_blank(carry_);
    if (!last_line_ready_) carry_.clear();
    return last_line_ready_;
}

void jsonl_decoder::reset() noexcept {
    carry_.clear();
    release_carry_ = false;
    last_line_ready_ = false;
    failed_ = false;
    input_ = {};
    pos_ = 0;
}

} // namespace chatwire::stream
