#include <chatwire/stream/vectorshift_mapper.hpp>

#include "field_extractor.hpp"
#include "mapper_support.hpp"
#include "raw_json.hpp"

#include <memory>
#include <string>

namespace chatwire::stream {
namespace {

enum field : std::size_t { type, output, output_value, output_message, conversation_id, status, error };

enum class output_mode { undecided, cumulative, chunked };

// Compiled once, shared by every stream's extractor.
const std::shared_ptr<const detail::field_set>& wanted_fields() {
    static const auto set = std::make_shared<const detail::field_set>(std::initializer_list<detail::field_path>{
        {"type"}, {"output"}, {"output_value"}, {"output_message"}, {"conversation_id"}, {"status"}, {"error"},
    });
    return set;
}

} // namespace

struct vectorshift_mapper::impl {
    detail::field_extractor fields{wanted_fields()};
    std::string text;
    std::size_t max_text = detail::default_max_text;
    output_mode mode = output_mode::undecided;
    bool terminal = false;

    // A cumulative stream resends all its text in every event, so parsing each
    // whole would cost more the longer the reply. Once the stream is known to
    // be cumulative, an event that starts with the previous event's bytes up
    // to the end of its `output` value is parsed without them: the document
    // `raw_head` + what follows, in which `output` holds just the new text.
    std::string raw_head;   // the bytes before the output value's content
    std::string raw_value;  // the output value's content as written (escaped)
    std::string shortened;  // the document parsed instead
    bool raw_known = false;

    // The payload without the text it repeats, or the payload itself.
    std::string_view without_repeated_text(std::string_view payload, bool& repeated) {
        repeated = mode == output_mode::cumulative && raw_known && payload.starts_with(raw_head) &&
                   payload.substr(raw_head.size()).starts_with(raw_value);
        if (!repeated) return payload;
        shortened.assign(raw_head);
        shortened.append(payload.substr(raw_head.size() + raw_value.size()));
        return shortened;
    }

    // After a whole cumulative event whose output is all the text so far:
    // where that value lies, for the next event.
    void learn_raw_output(std::string_view payload) {
        raw_known = false;
        const std::size_t start = detail::top_level_string_start(payload, "output");
        if (start == detail::no_position) return;
        const std::size_t end = detail::string_content_end(payload, start);
        if (end == detail::no_position) return;
        raw_head.assign(payload.substr(0, start));
        raw_value.assign(payload.substr(start, end - start));
        raw_known = true;
    }

    // After a shortened event, whose output is only the new text: the text
    // joins the reply; its bytes join the known value.
    error_code append_new_text(std::string_view payload, std::string_view new_text, std::string_view& added,
                               diagnostics& diag) {
        const std::size_t at = text.size();
        if (auto ec = detail::append_reply_text(text, new_text, max_text, diag)) return ec;
        added = std::string_view(text).substr(at);
        const std::string_view rest = payload.substr(raw_head.size() + raw_value.size());
        const std::size_t end = detail::string_content_end(rest, 0);
        if (end == detail::no_position) raw_known = false;
        else raw_value.append(rest.substr(0, end));
        return {};
    }

    // The new text an output value brings, appended to `text`.
    error_code delta(std::string_view value, std::string_view& added, diagnostics& diag) {
        const bool extends = value.starts_with(text);
        if (mode == output_mode::undecided && !text.empty() && !value.empty())
            mode = extends ? output_mode::cumulative : output_mode::chunked;
        // A cumulative stream that stops extending its text is taken as chunks:
        // nothing already handed out can be taken back.
        if (mode != output_mode::chunked && extends) value.remove_prefix(text.size());
        if (auto ec = detail::append_reply_text(text, value, max_text, diag)) return ec;
        added = value;
        return {};
    }
};

vectorshift_mapper::vectorshift_mapper() : impl_(std::make_unique<impl>()) {}
vectorshift_mapper::vectorshift_mapper(std::size_t max_text_bytes) : vectorshift_mapper() {
    impl_->max_text = max_text_bytes;
}
vectorshift_mapper::~vectorshift_mapper() = default;
vectorshift_mapper::vectorshift_mapper(vectorshift_mapper&&) noexcept = default;
vectorshift_mapper& vectorshift_mapper::operator=(vectorshift_mapper&&) noexcept = default;

error_code vectorshift_mapper::map(std::string_view payload, event& out, bool& produced, diagnostics& diag) {
    produced = false;
    if (detail::trim_json_space(payload).empty()) return {};
    detail::clear_event(out);
    out.raw = payload;
    if (detail::is_done_marker(payload)) {
        out.kind = event_kind::done;
        impl_->terminal = produced = true;
        return {};
    }
    auto& f = impl_->fields;
    bool repeated = false;
    const std::string_view document = impl_->without_repeated_text(payload, repeated);
    if (repeated && (f.parse(document) || !f.is_object())) repeated = false;  // the whole payload tells what is wrong
    if (!repeated && (f.parse(payload) || !f.is_object()))
        return detail::malformed(diag, "a VectorShift event is not a valid JSON object");
    out.conversation_id = f[conversation_id].text;
    if (f[status].text == "failed") {
        produced = true;
        out.kind = event_kind::error;
        out.text = f[error].text;
        return detail::provider_error(errc::run_failed, diag, {}, out.text);
    }
    const bool v1_chunk = f[type].text == "stream" || f[output_value].is_string();
    if (v1_chunk || f[output].is_string()) {
        out.kind = event_kind::token;
        if (!v1_chunk && repeated) {
            if (auto ec = impl_->append_new_text(payload, f[output].text, out.text, diag)) return ec;
        } else {
            if (auto ec = impl_->delta(v1_chunk ? f[output_value].text : f[output].text, out.text, diag)) return ec;
            // Only an output that is the whole text so far can be skipped next time.
            const bool whole_text = !v1_chunk && impl_->mode == output_mode::cumulative && f[output].text == impl_->text;
            if (whole_text) impl_->learn_raw_output(payload);
            else impl_->raw_known = false;
        }
        if (!v1_chunk) impl_->terminal = true;  // the legacy endpoint ends with its body
        produced = !out.text.empty();
        return {};
    }
    if (f[error].is_string()) {
        produced = true;
        out.kind = event_kind::error;
        out.text = f[error].text;
        return detail::provider_error(errc::stream_error, diag, {}, out.text);
    }
    if (f[status].is_string()) {
        produced = true;
        out.kind = event_kind::result;
        out.text = f[output_message].text;
        impl_->terminal = true;
    }
    return {};
}

bool vectorshift_mapper::terminal_seen() const noexcept { return impl_->terminal; }

std::string_view vectorshift_mapper::text_so_far() const noexcept { return impl_->text; }

void vectorshift_mapper::reset() noexcept {
    impl_->text.clear();
    impl_->mode = output_mode::undecided;
    impl_->terminal = false;
    impl_->raw_known = false;
}

bool vectorshift_mapper::body_is_bare_json(std::string_view head) noexcept {
    if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
    head = detail::trim_json_space(head);
    return !head.empty() && (head.front() == '{' || head.front() == '[');
}

} // namespace chatwire::stream
