// The three mappers on arbitrary payloads (one per input line; the first byte
// picks the mapper). Checked: token texts add up to text_so_far(), and for
// ChatBotKit the extracted token agrees with a Boost.JSON DOM of the line.
#include "fuzz_split.hpp"

#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>

#include <boost/json.hpp>

#include <string>

using namespace chatwire::stream;

namespace {

// What the ChatBotKit mapper must agree with, read the slow way.
void check_against_dom(std::string_view line, chatwire::error_code ec, bool produced, const event& ev) {
    boost::system::error_code parse_ec;
    const boost::json::value doc = boost::json::parse(line, parse_ec);
    const bool blank = line.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (blank) return;
    const bool is_object = !parse_ec && doc.is_object();
    chatwire::fuzz::check(is_object == (ec != chatwire::errc::malformed_event));
    if (!is_object) return;
    const auto& object = doc.get_object();
    const auto* type = object.if_contains("type");
    if (!type || !type->is_string() || type->get_string() != "token") return;
    chatwire::fuzz::check(produced && ev.kind == event_kind::token);
    const auto* body = object.if_contains("data");
    const boost::json::value* token = body && body->is_object() ? body->get_object().if_contains("token") : nullptr;
    const std::string_view expected = token && token->is_string() ? std::string_view(token->get_string()) : std::string_view();
    chatwire::fuzz::check(ev.text == expected);
}

template <class Mapper>
void run(std::string_view body, bool compare_with_dom) {
    Mapper mapper;
    std::string tokens;
    while (!body.empty()) {
        const std::size_t lf = body.find('\n');
        const std::string_view payload = body.substr(0, lf);
        body.remove_prefix(lf == std::string_view::npos ? body.size() : lf + 1);
        event ev;
        bool produced = false;
        chatwire::diagnostics diag;
        const chatwire::error_code ec = mapper.map(payload, ev, produced, diag);
        if (compare_with_dom) check_against_dom(payload, ec, produced, ev);
        if (produced && ev.kind == event_kind::token) tokens.append(ev.text);
        if (ec) chatwire::fuzz::check(!produced || ev.kind == event_kind::error);
    }
    chatwire::fuzz::check(mapper.text_so_far() == tokens);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = chatwire::fuzz::split_header(data, size);
    switch (input.seed % 3) {
    case 0: run<chatbotkit_mapper>(input.body, true); break;
    case 1: run<vectorshift_mapper>(input.body, false); break;
    default: run<pollybot_mapper>(input.body, false); break;
    }
    return 0;
}
