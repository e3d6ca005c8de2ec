#include <chatwire/stream/pollybot_mapper.hpp>

#include "field_extractor.hpp"
#include "mapper_support.hpp"

#include <memory>
#include <string>

namespace chatwire::stream {
namespace {

enum field : std::size_t {
    type, content, token, conversation_id, response, done_conversation_id, message_id, error, message, code,
};

// Compiled once, shared by every stream's extractor.
const std::shared_ptr<const detail::field_set>& wanted_fields() {
    static const auto set = std::make_shared<const detail::field_set>(std::initializer_list<detail::field_path>{
        {"type"}, {"content"}, {"token"}, {"conversationId"}, {"data", "response"},
        {"data", "conversationId"}, {"data", "messageId"}, {"error"}, {"message"}, {"code"},
    });
    return set;
}

} // namespace

struct pollybot_mapper::impl {
    detail::field_extractor fields{wanted_fields()};
    std::string text;
    std::size_t max_text = detail::default_max_text;
    bool terminal = false;
};

pollybot_mapper::pollybot_mapper() : impl_(std::make_unique<impl>()) {}
pollybot_mapper::pollybot_mapper(std::size_t max_text_bytes) : pollybot_mapper() {
    impl_->max_text = max_text_bytes;
}
pollybot_mapper::~pollybot_mapper() = default;
pollybot_mapper::pollybot_mapper(pollybot_mapper&&) noexcept = default;
pollybot_mapper& pollybot_mapper::operator=(pollybot_mapper&&) noexcept = default;

error_code pollybot_mapper::map(std::string_view data, event& out, bool& produced, diagnostics& diag) {
    produced = false;
    const std::string_view trimmed = detail::trim_json_space(data);
    if (trimmed.empty()) return {};
    detail::clear_event(out);
    out.raw = data;
    if (trimmed.front() == '[' && trimmed == "[DONE]") {
        out.kind = event_kind::done;
        impl_->terminal = produced = true;
        return {};
    }
    auto& f = impl_->fields;
    if (f.parse(data) || !f.is_object()) return detail::malformed(diag, "a PollyBot event is not a valid JSON object");
    const std::string_view kind = f[type].text;
    produced = true;
    if (kind == "token") {
        out.kind = event_kind::token;
        out.text = f[content].is_string() ? f[content].text : f[token].text;
        if (auto ec = detail::append_reply_text(impl_->text, out.text, impl_->max_text, diag)) {
            produced = false;
            return ec;
        }
    } else if (kind == "start") {
        out.kind = event_kind::begin;
        out.conversation_id = f[conversation_id].text;
    } else if (kind == "done") {
        out.kind = event_kind::result;
        out.text = f[response].text;
        out.conversation_id = f[done_conversation_id].text;
        out.id = f[message_id].text;
        impl_->terminal = true;
    } else if (kind == "error") {
        out.kind = event_kind::error;
        out.text = f[error].is_string() ? f[error].text : f[message].text;
        out.error_code = f[code].text;
        return detail::provider_error(errc::stream_error, diag, out.error_code, out.text);
    } else {
        produced = false;  // a type this client does not know: tolerated
    }
    return {};
}

bool pollybot_mapper::terminal_seen() const noexcept { return impl_->terminal; }

std::string_view pollybot_mapper::text_so_far() const noexcept { return impl_->text; }

void pollybot_mapper::reset() noexcept {
    impl_->text.clear();
    impl_->terminal = false;
}

} // namespace chatwire::stream
