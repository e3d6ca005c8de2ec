#include <chatwire/stream/vectorshift_mapper.hpp>

#include "field_extractor.hpp"
#include "mapper_support.hpp"

#include <string>

namespace chatwire::stream {
namespace {

enum field : std::size_t { type, output, output_value, output_message, conversation_id, status, error };

enum class output_mode { undecided, cumulative, chunked };

} // namespace

struct vectorshift_mapper::impl {
    detail::field_extractor fields{
        {"type"}, {"output"}, {"output_value"}, {"output_message"}, {"conversation_id"}, {"status"}, {"error"},
    };
    std::string text;
    output_mode mode = output_mode::undecided;
    bool terminal = false;

    // The new text an output value brings, appended to `text`.
    std::string_view delta(std::string_view value) {
        const bool extends = value.starts_with(text);
        if (mode == output_mode::undecided && !text.empty() && !value.empty())
            mode = extends ? output_mode::cumulative : output_mode::chunked;
        // A cumulative stream that stops extending its text is taken as chunks:
        // nothing already handed out can be taken back.
        if (mode != output_mode::chunked && extends) value.remove_prefix(text.size());
        text.append(value);
        return value;
    }
};

vectorshift_mapper::vectorshift_mapper() : impl_(std::make_unique<impl>()) {}
vectorshift_mapper::~vectorshift_mapper() = default;
vectorshift_mapper::vectorshift_mapper(vectorshift_mapper&&) noexcept = default;
vectorshift_mapper& vectorshift_mapper::operator=(vectorshift_mapper&&) noexcept = default;

error_code vectorshift_mapper::map(std::string_view payload, event& out, bool& produced, diagnostics& diag) {
    produced = false;
    if (detail::trim_json_space(payload).empty()) return {};
    out = event{};
    out.raw = payload;
    if (detail::is_done_marker(payload)) {
        out.kind = event_kind::done;
        impl_->terminal = produced = true;
        return {};
    }
    auto& f = impl_->fields;
    if (f.parse(payload) || !f.is_object()) return detail::malformed(diag, "a VectorShift event is not a valid JSON object");
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
        out.text = impl_->delta(v1_chunk ? f[output_value].text : f[output].text);
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
}

bool vectorshift_mapper::body_is_bare_json(std::string_view head) noexcept {
    if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
    head = detail::trim_json_space(head);
    return !head.empty() && (head.front() == '{' || head.front() == '[');
}

} // namespace chatwire::stream
