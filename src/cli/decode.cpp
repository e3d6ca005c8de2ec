// `chatwire decode sse|jsonl [--api NAME] [--chunk-size N]`: decodes a captured
// body from stdin and prints one compact JSON object per event.
#include "commands.hpp"

#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/sse_decoder.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>

#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace chatwire::cli {
namespace {

namespace po = boost::program_options;
using namespace chatwire::stream;

constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_api_error = 3;

// Length of the valid UTF-8 sequence at s[i], or minus the length of the
// maximal ill-formed subpart there (each becomes one U+FFFD, as decoders do).
int utf8_sequence(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(i);
    int size = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) size = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        size = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        size = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
        return -1;
    }
    for (int k = 1; k < size; ++k) {
        const std::size_t at = i + static_cast<std::size_t>(k);
        if (at >= s.size()) return -k;
        const unsigned char c = byte(at);
        const bool ok = k == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF);
        if (!ok) return -k;
    }
    return size;
}

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const int n = utf8_sequence(s, i);
            if (n > 0) out.append(s.substr(i, static_cast<std::size_t>(n)));
            else out.append("\xEF\xBF\xBD");  // U+FFFD
            i += static_cast<std::size_t>(n > 0 ? n : -n);
            continue;
        }
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default:
            if (c < 0x20) {
                out.append("\\u00");
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
        ++i;
    }
    out.push_back('"');
}

// A valid JSON text without its insignificant whitespace; numbers and escapes
// keep their spelling, invalid UTF-8 in strings becomes U+FFFD.
void append_compact_json(std::string& out, std::string_view json) {
    bool in_string = false;
    for (std::size_t i = 0; i < json.size();) {
        const char c = json[i];
        if (static_cast<unsigned char>(c) >= 0x80) {  // only inside strings in valid JSON
            const int n = utf8_sequence(json, i);
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

using any_mapper = std::variant<std::monostate, chatbotkit_mapper, vectorshift_mapper, pollybot_mapper>;

std::optional<any_mapper> make_mapper(const std::string& api) {
    if (api.empty()) return any_mapper{};
    if (api == "chatbotkit") return any_mapper{chatbotkit_mapper{}};
    if (api == "vectorshift") return any_mapper{vectorshift_mapper{}};
    if (api == "pollybot") return any_mapper{pollybot_mapper{}};
    return std::nullopt;
}

// Feeds pieces to the chosen decoder and prints what comes out; remembers the
// exit code of the first failure.
class session {
public:
    session(bool sse, any_mapper mapper) : sse_(sse), mapper_(std::move(mapper)) {}

    void use_jsonl() { sse_ = false; }
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
        if (failed() || std::holds_alternative<std::monostate>(mapper_)) return;
        const bool terminal = std::visit(
            [](auto& m) {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return true;
                else return m.terminal_seen();
            },
            mapper_);
        if (!terminal) {
            exit_code_ = exit_failure;
            std::cerr << "chatwire decode: " << make_error_code(errc::truncated_stream).message() << " (after "
                      << count_ << " events)\n";
        }
    }

private:
    void drain_sse() {
        sse_event ev;
        error_code ec;
        for (;;) {
            const decode_status status = sse_decoder_.next(ev, ec);
            if (status == decode_status::need_more) return;
            if (status == decode_status::error) return fail(exit_failure, ec.message(), {});
            ++count_;
            if (!std::holds_alternative<std::monostate>(mapper_)) {
                if (!map(ev.data)) return;
                continue;
            }
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
            if (status == decode_status::error) return fail(exit_failure, ec.message(), {});
            ++count_;
            if (!std::holds_alternative<std::monostate>(mapper_)) {
                if (!map(line)) return;
                continue;
            }
            boost::json::parse_options lenient;
            lenient.allow_invalid_utf8 = true;
            boost::system::error_code parse_ec;
            boost::json::parse(line, parse_ec, {}, lenient);  // validation only
            if (parse_ec) return fail(exit_failure, "malformed JSON line: " + parse_ec.message(), {});
            std::string out;
            append_compact_json(out, line);
            out.push_back('\n');
            std::cout << out;
        }
    }

    bool map(std::string_view payload) {
        return std::visit(
            [&](auto& m) {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) {
                    return true;
                } else {
                    event ev;
                    bool produced = false;
                    diagnostics diag;
                    const error_code ec = m.map(payload, ev, produced, diag);
                    if (produced) std::cout << mapped_event_json(ev) << '\n';
                    if (ec) fail(ec == errc::malformed_event ? exit_failure : exit_api_error, ec.message(), diag);
                    return !ec;
                }
            },
            mapper_);
    }

    void fail(int code, const std::string& what, const diagnostics& diag) {
        exit_code_ = code;
        std::cerr << "chatwire decode: event " << count_ << ": " << what;
        if (const std::string details = diag.to_string(); !details.empty()) std::cerr << " (" << details << ")";
        std::cerr << '\n';
    }

    bool sse_;
    any_mapper mapper_;
    sse_decoder sse_decoder_;
    jsonl_decoder jsonl_decoder_;
    std::size_t count_ = 0;
    int exit_code_ = exit_ok;
};

void usage(std::ostream& os, const po::options_description& options) {
    os << "usage: chatwire decode sse|jsonl [--api vectorshift|chatbotkit|pollybot] [--chunk-size N]\n\n"
          "Decodes a captured response body from stdin and prints one JSON object per event:\n"
          "raw SSE as {\"event\",\"data\",\"id\"}, raw JSON lines compacted, or with --api the\n"
          "mapped chat events as {\"kind\",\"text\",...}. Exit: 0 ok, 1 limit, parse error or\n"
          "truncated stream, 2 usage, 3 an error reported by the API inside the stream.\n\n"
       << options;
}

} // namespace

int run_decode(int argc, char** argv) {
    po::options_description options("options");
    options.add_options()
        ("help,h", "show this help")
        ("api", po::value<std::string>()->default_value(""), "map events of this API: vectorshift, chatbotkit, pollybot")
        ("chunk-size", po::value<std::size_t>()->default_value(0), "feed the decoder N-byte pieces (0: as read)");
    po::options_description hidden;
    hidden.add_options()("format", po::value<std::string>());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description positional;
    positional.add("format", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "chatwire decode: " << e.what() << "\n";
        usage(std::cerr, options);
        return exit_usage;
    }
    if (vm.count("help")) {
        usage(std::cout, options);
        return exit_ok;
    }
    const std::string format = vm.count("format") ? vm["format"].as<std::string>() : "";
    if (format != "sse" && format != "jsonl") {
        std::cerr << "chatwire decode: the format must be 'sse' or 'jsonl'\n";
        usage(std::cerr, options);
        return exit_usage;
    }
    const std::string api = vm["api"].as<std::string>();
    std::optional<any_mapper> mapper = make_mapper(api);
    if (!mapper) {
        std::cerr << "chatwire decode: unknown API '" << api << "' (vectorshift, chatbotkit or pollybot)\n";
        return exit_usage;
    }
    const std::size_t chunk = vm["chunk-size"].as<std::size_t>();

    session decode(format == "sse", std::move(*mapper));
    std::vector<char> buffer(std::max<std::size_t>(chunk, 64 * 1024));
    std::size_t held = 0;  // bytes short of a whole chunk, kept for the next read
    bool first_read = true;
    while (!decode.failed()) {
        const std::size_t got = std::fread(buffer.data() + held, 1, buffer.size() - held, stdin);
        if (got == 0) break;
        // VectorShift may send bare JSON lines instead of SSE.
        if (first_read && format == "sse" && api == "vectorshift" &&
            vectorshift_mapper::body_is_bare_json({buffer.data(), got}))
            decode.use_jsonl();
        first_read = false;
        const std::size_t available = held + got;
        if (chunk == 0) {
            decode.feed({buffer.data(), available});
            continue;
        }
        std::size_t at = 0;
        for (; available - at >= chunk && !decode.failed(); at += chunk) decode.feed({buffer.data() + at, chunk});
        held = available - at;
        std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(at), buffer.begin() + static_cast<std::ptrdiff_t>(available), buffer.begin());
    }
    if (std::ferror(stdin)) {
        std::cerr << "chatwire decode: cannot read stdin\n";
        return exit_failure;
    }
    if (held != 0) decode.feed({buffer.data(), held});
    decode.finish();
    std::cout.flush();
    return decode.exit_code();
}

} // namespace chatwire::cli
