// `chatwire chat`: one message to a chatbot, the reply streamed to stdout.
// Without --base-url it talks to an emulator started in-process on 127.0.0.1.
#include "command_line.hpp"
#include "commands.hpp"
#include "outcome.hpp"
#include "terminal.hpp"

#include <chatwire/api_key.hpp>
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/http/origin.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>
#include <string_view>
#include <tuple>

#include <unistd.h>

namespace chatwire::cli {

namespace asio = boost::asio;
namespace po = boost::program_options;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
    chat_options chat;
    std::string conversation;
    std::string message;
    bool stream = true;
    bool json = false;
    bool stdout_is_terminal = false;
};

const char* key_variable(api_kind a) {
    switch (a) {
    case api_kind::vectorshift: return "VECTORSHIFT_API_KEY";
    case api_kind::chatbotkit: return "CHATBOTKIT_SECRET";
    case api_kind::pollybot: return "POLLYBOT_API_KEY";
    }
    return "";
}

// stderr is read on a terminal: whatever the server sent (message, code, ids) is
// escaped there, whether or not stderr is a terminal right now.
int report(const error_code& ec, const diagnostics& diag) {
    std::cerr << "chatwire chat: " << escape_for_terminal(ec.message());
    if (auto d = diag.to_string(); !d.empty()) std::cerr << " (" << escape_for_terminal(d) << ")";
    std::cerr << "\n";
    return exit_code_for(ec);
}

// Boost.JSON escapes the C0 controls but copies invalid UTF-8 through, which
// would not be JSON: those bytes become U+FFFD first, and DEL and C1 controls
// are escaped after.
void print_json_event(const event& ev) {
    boost::json::object o;
    o["kind"] = stream::to_string(ev.kind);
    if (!ev.text.empty()) o["text"] = valid_utf8(ev.text);
    if (!ev.conversation_id.empty()) o["conversation_id"] = valid_utf8(ev.conversation_id);
    std::cout << escape_json_controls(boost::json::serialize(o)) << "\n" << std::flush;
}

// The HTTP version the call's (last) connection spoke, for the timing line.
std::string_view protocol_name(const diagnostics& diag) { return diag.http_version == 20 ? "HTTP/2" : "HTTP/1.1"; }

asio::awaitable<int> converse(chat_client& client, settings s) {
    const auto start = clock_type::now();
    diagnostics diag;
    auto ms_since = [&start] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
    };
    if (!s.stream) {
        auto [ec, reply] = co_await client.async_send_whole(s.message, s.conversation, diag,
                                                            asio::as_tuple(asio::use_awaitable));
        if (ec) co_return report(ec, diag);
        if (s.json) {
            boost::json::object o{{"kind", "reply"},
                                  {"text", valid_utf8(reply.text)},
                                  {"conversation_id", valid_utf8(reply.conversation_id)}};
            std::cout << escape_json_controls(boost::json::serialize(o)) << "\n";
        } else if (s.stdout_is_terminal) {
            std::cout << escape_for_terminal(reply.text, line_breaks::keep) << "\n";
        } else {
            std::cout << reply.text << "\n";  // a pipe gets the reply byte for byte
        }
        std::cerr << "conversation: " << escape_for_terminal(reply.conversation_id) << "\n"
                  << "time: " << ms_since() << " ms, " << protocol_name(diag) << "\n";
        co_return exit_ok;
    }
    auto [ec, stream] =
        co_await client.async_send(s.message, s.conversation, diag, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return report(ec, diag);
    long first_token_ms = -1;
    // On a terminal tokens are escaped (keeping their line breaks); into a pipe
    // they go unchanged, since the reader there is a program, not a terminal.
    terminal_escaper tokens(line_breaks::keep);
    for (;;) {
        error_code nec;
        event ev;
        // Events already received come without a trip through the event loop.
        if (!stream.try_next(nec, ev)) std::tie(nec, ev) = co_await stream.async_next(asio::as_tuple(asio::use_awaitable));
        if (nec == errc::end_of_stream) break;
        if (nec) {
            if (!s.json) std::cout << tokens.finish() << "\n" << std::flush;
            co_return report(nec, stream.get_diagnostics());
        }
        if (s.json) {
            print_json_event(ev);
        } else if (ev.kind == event_kind::token) {
            if (first_token_ms < 0) first_token_ms = ms_since();
            if (s.stdout_is_terminal) std::cout << tokens.feed(ev.text) << std::flush;
            else std::cout << ev.text << std::flush;
        }
    }
    if (!s.json) std::cout << tokens.finish() << "\n";
    std::cerr << "conversation: " << escape_for_terminal(stream.conversation_id()) << "\n"
              << "first token: " << first_token_ms << " ms, total: " << ms_since() << " ms, " << protocol_name(diag)
              << "\n";
    co_return exit_ok;
}

int run(settings s, const std::string& ca_file, bool embedded) {
    asio::io_context io;
    std::unique_ptr<emulator::server> local;
    if (embedded) {
        emulator::options eo;
        eo.token_delay = std::chrono::milliseconds(15);
        eo.http2 = true;
        local = std::make_unique<emulator::server>(io.get_executor(), eo);
        local->start();
        s.chat.base_url = local->base_url() + (s.chat.api == api_kind::chatbotkit ? "/api/v1" : "");
        s.chat.http.tls.extra_ca_pem = local->certificate_pem();  // trusted for this run only
        std::cerr << "using the embedded emulator at " << local->base_url() << "\n";
    } else {
        if (!ca_file.empty()) s.chat.http.tls.extra_ca_file = ca_file;
        // Decided from the parsed host: "http://127.x.invalid" is not loopback.
        error_code ec;
        auto url = http::parse_url(s.chat.base_url, ec);
        if (!ec && !url.origin.tls && !url.origin.is_loopback())
            std::cerr << "chatwire chat: warning: plain http:// sends the key unencrypted\n";
    }
    chat_client client(io.get_executor(), s.chat);
    int code = exit_failure;
    asio::co_spawn(io, converse(client, std::move(s)), [&](std::exception_ptr e, int rc) {
        code = rc;
        if (e) {
            code = exit_failure;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "chatwire chat: " << escape_for_terminal(ex.what()) << "\n";
            }
        }
        if (local) local->stop();
        io.stop();
    });
    io.run();
    return code;
}

// Each wait before a retry, on stderr: what failed and why it is sent again.
void report_retry(const attempt_report& r) {
    if (!r.will_retry) return;
    std::string what = r.http_status ? std::to_string(r.http_status) : r.ec.message();
    char delay[32];
    std::snprintf(delay, sizeof delay, "%.1f", static_cast<double>(r.delay.count()) / 1000.0);
    std::cerr << "chatwire chat: retrying in " << delay << " s after " << escape_for_terminal(what) << " ("
              << to_string(r.reason) << ")\n";
}

} // namespace

int run_chat(int argc, char** argv) {
    std::string api_name = "pollybot", base_url, ca_file, key_file, chatbot, conversation, timeout;
    std::vector<std::string> words;
    po::options_description desc("chatwire chat [options] MESSAGE...");
    desc.add_options()
        ("help,h", "show this help")
        ("api", po::value(&api_name)->default_value(api_name), "vectorshift, chatbotkit or pollybot")
        ("base-url", po::value(&base_url),
         "the service's URL (ChatBotKit: with its version prefix, e.g. https://api.chatbotkit.com/v1); "
         "default: an emulator started in-process")
        ("ca-file", po::value(&ca_file), "also trust this CA (PEM), e.g. chatwire emulate --cert-out")
        ("api-key-file", po::value(&key_file),
         "read the key from this file (default: VECTORSHIFT_API_KEY, CHATBOTKIT_SECRET or POLLYBOT_API_KEY)")
        ("chatbot", po::value(&chatbot), "chatbot id (ChatBotKit: bot id, optional)")
        ("conversation", po::value(&conversation), "continue this conversation")
        ("timeout", po::value(&timeout),
         "give up after this many SECONDS (the whole call: connect, retries, the reply to its end); default: none")
        ("max-retries", po::value<int>()->default_value(2),
         "resend a failed call at most N times when that is safe (429, 503, a refused or stale connection); 0: never")
        ("no-stream", "ask for the whole reply at once")
        ("http1.1", "speak HTTP/1.1 only")
        ("http2", "speak HTTP/2 only (over http://: prior knowledge); by default https offers both")
        ("json", "print one JSON object per event");
    po::options_description hidden;
    hidden.add_options()("message", po::value(&words));
    po::positional_options_description pos;
    pos.add("message", -1);
    po::variables_map vm;
    if (auto done = parse_command_line({"chat", desc, &hidden, &pos, ""}, argc, argv, vm)) return *done;
    settings s;
    auto a = api_from_string(api_name);
    if (!a) {
        std::cerr << "chatwire chat: unknown --api '" << api_name << "'\n";
        return exit_usage;
    }
    s.chat.api = *a;
    for (const auto& w : words) s.message += (s.message.empty() ? "" : " ") + w;
    if (s.message.empty()) {
        std::cerr << "chatwire chat: a MESSAGE is required\n" << desc;
        return exit_usage;
    }
    const bool embedded = base_url.empty();
    std::string key_source;
    if (!key_file.empty()) {
        std::string why;
        if (!read_key_file(key_file, s.chat.api_key, &why)) {
            std::cerr << "chatwire chat: --api-key-file " << escape_for_terminal(key_file) << ": " << why << "\n";
            return exit_usage;
        }
        key_source = "the key in --api-key-file";
    } else if (const char* k = std::getenv(key_variable(*a))) {
        s.chat.api_key = k;
        key_source = key_variable(*a);
    }
    // Refused here, before an emulator starts or a connection opens.
    if (!s.chat.api_key.empty()) {
        if (auto why = api_key_problem(s.chat.api_key); !why.empty()) {
            std::cerr << "chatwire chat: " << key_source << " " << why << "\n";
            return exit_usage;
        }
    }
    if (s.chat.api_key.empty()) {
        if (!embedded) {
            std::cerr << "chatwire chat: no key: set " << key_variable(*a) << " or use --api-key-file\n";
            return exit_usage;
        }
        s.chat.api_key = "local-emulator-key";  // the embedded emulator accepts any key
    }
    if (chatbot.empty() && s.chat.api != api_kind::chatbotkit) {
        if (!embedded) {
            std::cerr << "chatwire chat: --chatbot is required for " << api_name << "\n";
            return exit_usage;
        }
        chatbot = "demo-bot";
    }
    s.chat.chatbot_id = chatbot;
    s.chat.base_url = base_url;
    if (vm.count("timeout")) {
        auto t = parse_timeout(timeout);
        if (!t) {
            std::cerr << "chatwire chat: --timeout wants seconds, more than 0 and at most "
                      << static_cast<int>(max_timeout_seconds) << "\n";
            return exit_usage;
        }
        s.chat.http.timeouts.total = *t;
    }
    const int retries = vm["max-retries"].as<int>();
    if (retries < 0 || retries > 100) {
        std::cerr << "chatwire chat: --max-retries wants 0 to 100\n";
        return exit_usage;
    }
    s.chat.retry.max_attempts = retries + 1;
    s.chat.on_attempt = report_retry;
    s.conversation = conversation;
    s.stream = !vm.count("no-stream");
    if (vm.count("http1.1") && vm.count("http2")) {
        std::cerr << "chatwire chat: --http1.1 and --http2 exclude each other\n";
        return exit_usage;
    }
    if (vm.count("http1.1")) s.chat.http.protocol = http::protocol::http1;
    if (vm.count("http2")) s.chat.http.protocol = http::protocol::http2;
    s.json = vm.count("json") > 0;
    s.stdout_is_terminal = ::isatty(STDOUT_FILENO) == 1;
    try {
        return run(std::move(s), ca_file, embedded);
    } catch (const std::exception& e) {
        std::cerr << "chatwire chat: " << escape_for_terminal(e.what()) << "\n";
        return exit_failure;
    }
}

} // namespace chatwire::cli
