#include <chatwire/stream/chatbotkit_mapper.hpp>

#include "field_extractor.hpp"
#include "mapper_support.hpp"

#include <memory>
#include <string>

namespace chatwire::stream {
namespace {

enum field : std::size_t {
    type, token, text, message_type, model, input_tokens, output_tokens, message,
    code, reason, function_name, id, usage_token, end_reason,
};

// Compiled once, shared by every stream's extractor.
const std::shared_ptr<const detail::field_set>& wanted_fields() {
    static const auto set = std::make_shared<const detail::field_set>(std::initializer_list<detail::field_path>{
        {"type"}, {"data", "token"}, {"data", "text"}, {"data", "type"}, {"data", "model"},
        {"data", "inputTokensUsed"}, {"data", "outputTokensUsed"}, {"data", "message"},
        {"data", "code"}, {"data", "reason"}, {"data", "functionName"}, {"data", "id"},
        {"data", "usage", "token"}, {"data", "end", "reason"},
    });
    return set;
}

} // namespace

struct chatbotkit_mapper::impl {
    detail::field_extractor fields{wanted_fields()};
    std::string text;
    std::size_t max_text = detail::default_max_text;
    bool terminal = false;
};

chatbotkit_mapper::chatbotkit_mapper() : impl_(std::make_unique<impl>()) {}
chatbotkit_mapper::chatbotkit_mapper(std::size_t max_text_bytes) : chatbotkit_mapper() {
    impl_->max_text = max_text_bytes;
}
chatbotkit_mapper::~chatbotkit_mapper() = default;
chatbotkit_mapper::chatbotkit_mapper(chatbotkit_mapper&&) noexcept = default;
chatbotkit_mapper& chatbotkit_mapper::operator=(chatbotkit_mapper&&) noexcept = default;

error_code chatbotkit_mapper::map(std::string_view line, event& out, bool& produced, diagnostics& diag) {
    produced = false;
    if (detail::trim_json_space(line).empty()) return {};
    auto& f = impl_->fields;
    if (f.parse(line) || !f.is_object()) return detail::malformed(diag, "a ChatBotKit stream line is not a valid JSON object");
    const std::string_view kind = f[type].text;
    detail::clear_event(out);
    out.raw = line;
    produced = true;
    if (kind == "token") {
        out.kind = event_kind::token;
        out.text = f[token].text;
        if (auto ec = detail::append_reply_text(impl_->text, out.text, impl_->max_text, diag)) {
            produced = false;
            return ec;
        }
    } else if (kind == "reasoningToken") {
        out.kind = event_kind::reasoning_token;
        out.text = f[token].text;
    } else if (kind == "message") {
        out.kind = event_kind::message;
        out.text = f[text].text;
        out.message_type = f[message_type].text;
    } else if (kind == "usage") {
        out.kind = event_kind::usage;
        out.model = f[model].text;
        out.input_tokens = f[input_tokens].count;
        out.output_tokens = f[output_tokens].count;
    } else if (kind == "completeBegin") {
        out.kind = event_kind::begin;
    } else if (kind == "completeEnd") {
        out.kind = event_kind::end;
    } else if (kind == "waitForChannelMessageBegin") {
        out.kind = event_kind::wait_begin;
    } else if (kind == "waitForChannelMessageEnd") {
        out.kind = event_kind::wait_end;
    } else if (kind == "abort") {
        out.kind = event_kind::abort;
        out.text = f[reason].text;
        out.function_name = f[function_name].text;
    } else if (kind == "result") {
        out.kind = event_kind::result;
        out.text = f[text].text;
        out.id = f[id].text;
        out.total_tokens = f[usage_token].count;
        out.end_reason = f[end_reason].text;
        impl_->terminal = true;
    } else if (kind == "item") {
        out.kind = event_kind::item;
    } else if (kind == "error") {
        out.kind = event_kind::error;
        out.text = f[message].text;
        out.error_code = f[code].text;
        return detail::provider_error(errc::stream_error, diag, out.error_code, out.text);
    } else {
        produced = false;  // a type this client does not know: tolerated
    }
    return {};
}

bool chatbotkit_mapper::terminal_seen() const noexcept { return impl_->terminal; }

std::string_view chatbotkit_mapper::text_so_far() const noexcept { return impl_->text; }

void chatbotkit_mapper::reset() noexcept {
    impl_->text.clear();
    impl_->terminal = false;
}

} // namespace chatwire::stream
