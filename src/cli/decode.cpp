// `chatwire decode sse|jsonl [--api NAME] [--chunk-size N]`: decodes a captured
// body from stdin and prints one compact JSON object per event.
#include "command_line.hpp"
#include "commands.hpp"
#include "terminal.hpp"

#include "../core/utf8.hpp"

#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/reply_decoder.hpp>
#include <chatwire/stream/sse_decoder.hpp>

#include <boost/json.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace chatwire::cli {
namespace {

namespace po = boost::program_options;
using namespace chatwire::stream;

constexpr std::size_t max_chunk_size = std::size_t{64} << 20;

// A JSON string: Boost.JSON escapes it, after invalid UTF-8 became U+FFFD.
void append_json_string(std::string& out, std::string_view s) { out += boost::json::serialize(valid_utf8(s)); }

// A valid JSON text without its insignificant whitespace; numbers and escapes
// keep their spelling, invalid UTF-8 in strings becomes U+FFFD.
void append_compact_json(std::string& out, std::string_view json) {
    bool in_string = false;
    for (std::size_t i = 0; i < json.size();) {
        const char c = json[i];
        if (static_cast<unsigned char>(c) >= 0x80) {  // only inside strings in valid JSON
            const int n = chatwire::detail::utf8_sequence(json, i);
            if (n > 0) out.append(json.substr(i, static_cast<std::size_t>(n)));
            else out.append("\xEF\xBF\xBD");
            i += static_cast<std::size_t>(n > 0 ? n : -n);
            continue;
        }
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < json.size()) out.push_back(json[++i]);
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
            out.push_back(c);
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            out.push_back(c);
        }
        ++i;
    }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.push_back(',');
    append_json_string(out, name);
    out.push_back(':');
    append_json_string(out, value);
}

std::string mapped_event_json(const event& ev) {
    std::string out = "{\"kind\":";
    append_json_string(out, to_string(ev.kind));
    append_field(out, "text", ev.text);
    const std::pair<std::string_view, std::string_view> strings[] = {
        {"conversation_id", ev.conversation_id}, {"id", ev.id}, {"message_type", ev.message_type},
        {"model", ev.model}, {"end_reason", ev.end_reason}, {"error_code", ev.error_code},
        {"function_name", ev.function_name}};
    for (const auto& [name, value] : strings)
        if (!value.empty()) append_field(out, name, value);
    const std::pair<std::string_view, std::optional<std::uint64_t>> counts[] = {
        {"input_tokens", ev.input_tokens}, {"output_tokens", ev.output_tokens}, {"total_tokens", ev.total_tokens}};
    for (const auto& [name, value] : counts)
        if (value) out.append(",\"").append(name).append("\":").append(std::to_string(*value));
    out.push_back('}');
    return out;
}

// Raw framing without an API: every SSE event or JSON line as it came.
class raw_session {
public:
    explicit raw_session(bool sse) : sse_(sse) {}

    bool failed() const { return exit_code_ != exit_ok; }
    int exit_code() const { return exit_code_; }

    void feed(std::string_view piece) {
        if (failed()) return;
        if (sse_) {
            sse_decoder_.feed(piece);
            drain_sse();
        } else {
            jsonl_decoder_.feed(piece);
            drain_jsonl();
        }
    }

    void finish() {
        if (failed()) return;
        if (sse_) {
            if (sse_decoder_.finish())
                std::cerr << "chatwire decode: input ended inside an event; it was not dispatched\n";
        } else {
            jsonl_decoder_.finish();
            drain_jsonl();
        }
    }

private:
    void drain_sse() {
        sse_event ev;
        error_code ec;
        for (;;) {
            const decode_status status = sse_decoder_.next(ev, ec);
            if (status == decode_status::need_more) return;
            if (status == decode_status::error) return fail(ec.message());
            ++count_;
            std::string out = "{\"event\":";
            append_json_string(out, ev.type);
            append_field(out, "data", ev.data);
            append_field(out, "id", ev.last_event_id);
            out.append("}\n");
            std::cout << out;
        }
    }

    void drain_jsonl() {
        std::string_view line;
        error_code ec;
        for (;;) {
            const decode_status status = jsonl_decoder_.next(line, ec);
            if (status == decode_status::need_more) return;
            if (status == decode_status::error) return fail(ec.message());
            ++count_;
            boost::json::parse_options lenient;
            lenient.allow_invalid_utf8 = true;
            boost::system::error_code parse_ec;
            boost::json::parse(line, parse_ec, {}, lenient);  // validation only
            if (parse_ec) return fail("malformed JSON line: " + parse_ec.message());
            std::string out;
            append_compact_json(out, line);
            out.push_back('\n');
            std::cout << out;
        }
    }

    void fail(const std::string& what) {
        exit_code_ = exit_failure;
        std::cerr << "chatwire decode: event " << count_ << ": " << what << '\n';
    }

    bool sse_;
    sse_decoder sse_decoder_;
    jsonl_decoder jsonl_decoder_;
    std::size_t count_ = 0;
    int exit_code_ = exit_ok;
};

// An API's events through the same reply_decoder that chat_stream drives:
// one line per event, and the exit code of how the reply ended.
class reply_session {
public:
    reply_session(format f, reply_options options) : decoder_(f, std::move(options)) {}

    bool failed() const { return exit_code_ != exit_ok; }
    int exit_code() const { return exit_code_; }

    void feed(std::string_view piece) {
        if (ended_) return;
        decoder_.feed(piece);
        drain();
    }

    void finish() {
        if (ended_) return;
        decoder_.finish(errc::end_of_stream);
        if (decoder_.ended_inside_event())
            std::cerr << "chatwire decode: input ended inside an event; it was not dispatched\n";
        drain();
    }

private:
    void drain() {
        error_code ec;
        event ev;
        while (!ended_ && decoder_.next(ec, ev)) {
            if (!ec) {
                std::cout << mapped_event_json(ev) << '\n';
                continue;
            }
            ended_ = true;
            if (ec == errc::end_of_stream) return;
            if (!ev.raw.empty()) std::cout << mapped_event_json(ev) << '\n';  // the provider's error event
            report(ec);
        }
    }

    void report(error_code ec) {
        const bool from_api = ec == errc::stream_error || ec == errc::run_failed;
        exit_code_ = from_api ? exit_api : exit_failure;
        if (ec == errc::truncated_stream) {
            std::cerr << "chatwire decode: " << ec.message() << " (after " << decoder_.payload_count() << " events)\n";
            return;
        }
        std::cerr << "chatwire decode: event " << decoder_.payload_count() << ": " << ec.message();
        if (const std::string details = decoder_.diagnostics().to_string(); !details.empty())
            std::cerr << " (" << details << ")";
        std::cerr << '\n';
    }

    reply_decoder decoder_;
    bool ended_ = false;
    int exit_code_ = exit_ok;
};

std::optional<format> format_of(const std::string& api) {
    if (api == "chatbotkit") return format::chatbotkit_jsonl;
    if (api == "vectorshift") return format::vectorshift_sse;
    if (api == "pollybot") return format::pollybot_sse;
    return std::nullopt;
}

// Reads stdin in `chunk`-byte pieces (0: as read) and hands them to `session`.
template <class Session>
int decode_stdin(Session& session, std::size_t chunk) {
    std::vector<char> buffer(std::max<std::size_t>(chunk, 64 * 1024));
    std::size_t held = 0;  // bytes short of a whole chunk, kept for the next read
    while (!session.failed()) {
        const std::size_t got = std::fread(buffer.data() + held, 1, buffer.size() - held, stdin);
        if (got == 0) break;
        const std::size_t available = held + got;
        if (chunk == 0) {
            session.feed({buffer.data(), available});
            continue;
        }
        std::size_t at = 0;
        for (; available - at >= chunk && !session.failed(); at += chunk) session.feed({buffer.data() + at, chunk});
        held = available - at;
        std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(at), buffer.begin() + static_cast<std::ptrdiff_t>(available), buffer.begin());
    }
    if (std::ferror(stdin)) {
        std::cerr << "chatwire decode: cannot read stdin\n";
        return exit_failure;
    }
    if (held != 0) session.feed({buffer.data(), held});
    session.finish();
    std::cout.flush();
    return session.exit_code();
}

constexpr std::string_view preamble =
    "usage: chatwire decode sse|jsonl [--api vectorshift|chatbotkit|pollybot] [--chunk-size N]\n\n"
    "Decodes a captured response body from stdin and prints one JSON object per event:\n"
    "raw SSE as {\"event\",\"data\",\"id\"}, raw JSON lines compacted, or with --api the\n"
    "mapped chat events as {\"kind\",\"text\",...}. Exit: 0 ok, 1 limit, parse error or\n"
    "truncated stream, 2 usage, 3 an error reported by the API inside the stream.\n\n";

} // namespace

int run_decode(int argc, char** argv) {
    po::options_description options("options");
    options.add_options()
        ("help,h", "show this help")
        ("api", po::value<std::string>()->default_value(""), "map events of this API: vectorshift, chatbotkit, pollybot")
        ("chunk-size", po::value<std::size_t>()->default_value(0), "feed the decoder N-byte pieces (0: as read)");
    po::options_description hidden;
    hidden.add_options()("format", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("format", 1);
    const command_line cl{"decode", options, &hidden, &positional, preamble};

    po::variables_map vm;
    if (auto done = parse_command_line(cl, argc, argv, vm)) return *done;
    const std::string framing_name = vm.count("format") ? vm["format"].as<std::string>() : "";
    if (framing_name != "sse" && framing_name != "jsonl") {
        std::cerr << "chatwire decode: the format must be 'sse' or 'jsonl'\n";
        print_usage(std::cerr, cl);
        return exit_usage;
    }
    const std::string api = vm["api"].as<std::string>();
    const std::optional<format> api_format = format_of(api);
    if (!api.empty() && !api_format) {
        std::cerr << "chatwire decode: unknown API '" << api << "' (vectorshift, chatbotkit or pollybot)\n";
        return exit_usage;
    }
    const std::size_t chunk = vm["chunk-size"].as<std::size_t>();
    if (chunk > max_chunk_size) {
        // Pieces are cut from one buffer of that size: refuse rather than fail to allocate it.
        std::cerr << "chatwire decode: --chunk-size must be at most " << max_chunk_size << " (64 MiB)\n";
        print_usage(std::cerr, cl);
        return exit_usage;
    }

    if (!api_format) {
        raw_session session(framing_name == "sse");
        return decode_stdin(session, chunk);
    }
    reply_options reply;
    // The named framing, except that a VectorShift body may turn out to be bare JSON lines.
    reply.frame = framing_name == "jsonl" ? framing::json_lines
                  : *api_format == format::vectorshift_sse ? framing::automatic
                                                            : framing::sse;
    reply_session session(*api_format, std::move(reply));
    return decode_stdin(session, chunk);
}

} // namespace chatwire::cli
