// `chatwire list`: every item of a list, one JSON object a line on stdout, and
// at the end (or at a failure, --timeout or --max-pages) the cursor to resume
// from on stderr, for `--after`. Without --base-url it lists an emulator
// started in-process.
#include "command_line.hpp"
#include "commands.hpp"
#include "outcome.hpp"
#include "terminal.hpp"

#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/http/origin.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

namespace chatwire::cli {

namespace asio = boost::asio;
namespace po = boost::program_options;

namespace {

struct settings {
    std::string what;  // conversations, bots, messages, chatbots
    bool chatbotkit = true;
    std::string base_url, key, conversation;
    chatbotkit::list_options list;
    http::client_options http;
    retry_policy retry;
    std::optional<std::chrono::milliseconds> timeout;  ///< the whole walk's
    std::size_t max_pages = 0;
};

/// Stopped at --max-pages with more of the list to fetch: not a failure of
/// the service or the network, but not the whole list either.
constexpr int exit_page_limit = 5;

void report_retry(const attempt_report& r) {
    if (!r.will_retry) return;
    std::string what = r.http_status ? std::to_string(r.http_status) : r.ec.message();
    char delay[32];
    std::snprintf(delay, sizeof delay, "%.1f", static_cast<double>(r.delay.count()) / 1000.0);
    std::cerr << "chatwire list: retrying in " << delay << " s after " << escape_for_terminal(what) << " ("
              << to_string(r.reason) << ")\n";
}

asio::awaitable<int> print_all(pager<boost::json::object> p, std::optional<std::chrono::milliseconds> timeout) {
    // --timeout bounds the whole walk: when it passes, the operation under
    // way is cancelled, and the walk stops where it stands.
    asio::cancellation_signal cancel;
    bool timed_out = false;
    asio::steady_timer deadline(co_await asio::this_coro::executor);
    if (timeout) {
        deadline.expires_after(*timeout);
        deadline.async_wait([&](boost::system::error_code ec) {
            if (ec) return;  // the walk ended first (this frame may be gone: touch nothing)
            timed_out = true;
            cancel.emit(asio::cancellation_type::terminal);
        });
    }
    std::size_t items = 0;
    for (;;) {
        auto [ec, item] = co_await p.async_next(asio::bind_cancellation_slot(cancel.slot(), asio::as_tuple(asio::use_awaitable)));
        if (ec && timed_out) ec = errc::total_timeout;
        if (ec == errc::page_limit_reached) {
            deadline.cancel();
            std::cout << std::flush;
            std::cerr << "items: " << items << "\nchatwire list: stopped after " << p.pages_fetched()
                      << " pages (--max-pages); more may follow\ncursor: " << escape_for_terminal(p.cursor()) << "\n";
            co_return exit_page_limit;
        }
        if (ec) {
            deadline.cancel();
            std::cout << std::flush;
            std::cerr << "chatwire list: " << escape_for_terminal(ec.message());
            if (timed_out) std::cerr << " (--timeout of " << timeout->count() / 1000.0 << " s for the whole walk)";
            else if (auto d = p.get_diagnostics().to_string(); !d.empty()) std::cerr << " (" << escape_for_terminal(d) << ")";
            std::cerr << "\ncursor: " << escape_for_terminal(p.cursor()) << "\n";
            // A list that loops is the service's fault.
            co_return ec == errc::pagination_loop ? exit_api : exit_code_for(ec);
        }
        if (!item) break;
        std::cout << boost::json::serialize(*item) << "\n";  // escapes every control character
        ++items;
    }
    deadline.cancel();
    std::cout << std::flush;
    std::cerr << "items: " << items << "\ncursor: " << escape_for_terminal(p.cursor()) << "\n";
    co_return exit_ok;
}

pager<boost::json::object> make_pager(asio::io_context& io, const settings& s,
                                      std::optional<chatbotkit::client>& cbk,
                                      std::optional<vectorshift::client>& vs) {
    if (!s.chatbotkit) {
        vectorshift::options o;
        o.base_url = s.base_url;
        o.api_key = s.key;
        o.http = s.http;
        o.retry = s.retry;
        o.on_attempt = report_retry;
        vs.emplace(io.get_executor(), o);
        pager_options p;
        p.cursor = s.list.cursor;
        p.max_pages = s.max_pages;
        return vs->list<boost::json::object>(vectorshift::chatbot_list_codec(), p);
    }
    chatbotkit::options o;
    o.base_url = s.base_url;
    o.secret = s.key;
    o.http = s.http;
    o.retry = s.retry;
    o.on_attempt = report_retry;
    cbk.emplace(io.get_executor(), o);
    auto codec = s.what == "conversations" ? chatbotkit::conversation_list_codec(s.list)
                 : s.what == "bots"        ? chatbotkit::bot_list_codec(s.list)
                                           : chatbotkit::message_list_codec(s.conversation, s.list);
    auto paging = chatbotkit::paging(s.list);
    paging.max_pages = s.max_pages;
    return cbk->list<boost::json::object>(std::move(codec), paging);
}

int run(settings s, const std::string& ca_file) {
    asio::io_context io;
    std::unique_ptr<emulator::server> local;
    if (s.base_url.empty()) {
        local = std::make_unique<emulator::server>(io.get_executor(), emulator::options{});
        local->start();
        s.base_url = local->base_url() + (s.chatbotkit ? "/api/v1" : "");
        s.http.tls.extra_ca_pem = local->certificate_pem();  // trusted for this run only
        std::cerr << "using the embedded emulator at " << local->base_url() << "\n";
    } else {
        if (!ca_file.empty()) s.http.tls.extra_ca_file = ca_file;
        error_code ec;
        auto url = http::parse_url(s.base_url, ec);
        if (!ec && !url.origin.tls && !url.origin.is_loopback())
            std::cerr << "chatwire list: warning: plain http:// sends the key unencrypted\n";
    }
    std::optional<chatbotkit::client> cbk;
    std::optional<vectorshift::client> vs;
    auto p = make_pager(io, s, cbk, vs);
    int code = exit_failure;
    asio::co_spawn(io, print_all(std::move(p), s.timeout), [&](std::exception_ptr e, int rc) {
        code = e ? exit_failure : rc;
        if (local) local->stop();
        io.stop();
    });
    io.run();
    return code;
}

} // namespace

int run_list(int argc, char** argv) {
    std::string what, api_name, base_url, ca_file, key_file, conversation, after, timeout, max_pages, order = "desc";
    po::options_description desc("chatwire list conversations|bots|messages|chatbots [options]");
    desc.add_options()
        ("help,h", "show this help")
        ("api", po::value(&api_name),
         "chatbotkit (conversations, bots, messages) or vectorshift (chatbots); default: the one that has the list")
        ("conversation", po::value(&conversation), "messages: the conversation whose messages are listed")
        ("take", po::value<std::size_t>()->default_value(0), "items a page (ChatBotKit: 1 to 1000); 0: the server's default")
        ("order", po::value(&order)->default_value(order), "asc or desc (ChatBotKit)")
        ("stream", "the whole list as one JSON-lines response instead of pages (ChatBotKit)")
        ("prefetch", "ask for the next page while printing the current one")
        ("after", po::value(&after), "continue after this cursor (the one a previous run printed)")
        ("base-url", po::value(&base_url),
         "the service's URL (ChatBotKit: with its version prefix); default: an emulator started in-process")
        ("ca-file", po::value(&ca_file), "also trust this CA (PEM), e.g. chatwire emulate --cert-out")
        ("api-key-file", po::value(&key_file),
         "read the key from this file (default: CHATBOTKIT_SECRET or VECTORSHIFT_API_KEY)")
        ("max-retries", po::value<int>()->default_value(2), "resend a failed page at most N times; 0: never")
        ("max-pages", po::value(&max_pages),
         "ask for at most N pages (stream: openings); with more to list, stop with exit code 5 and the cursor; 0: no cap")
        ("timeout", po::value(&timeout),
         "seconds for the whole walk (fractions allowed); when they pass, stop with exit code 4 and the cursor");
    po::options_description hidden;
    hidden.add_options()("what", po::value(&what));
    po::positional_options_description pos;
    pos.add("what", 1);
    po::variables_map vm;
    if (auto done = parse_command_line({"list", desc, &hidden, &pos, ""}, argc, argv, vm)) return *done;
    settings s;
    s.what = what;
    const bool vs_list = what == "chatbots";
    if (!vs_list && what != "conversations" && what != "bots" && what != "messages") {
        std::cerr << "chatwire list: list conversations, bots, messages or chatbots\n" << desc;
        return exit_usage;
    }
    if (api_name.empty()) api_name = vs_list ? "vectorshift" : "chatbotkit";
    if (api_name != (vs_list ? "vectorshift" : "chatbotkit")) {
        std::cerr << "chatwire list: " << what << " are listed from " << (vs_list ? "vectorshift" : "chatbotkit")
                  << ", not '" << escape_for_terminal(api_name) << "'\n";
        return exit_usage;
    }
    s.chatbotkit = !vs_list;
    if (what == "messages" && conversation.empty()) {
        std::cerr << "chatwire list: messages need --conversation\n";
        return exit_usage;
    }
    s.conversation = conversation;
    if (order != "asc" && order != "desc") {
        std::cerr << "chatwire list: --order is asc or desc\n";
        return exit_usage;
    }
    s.list.order = order == "asc" ? chatbotkit::list_order::asc : chatbotkit::list_order::desc;
    s.list.take = vm["take"].as<std::size_t>();
    if (s.list.take > 1000) {
        std::cerr << "chatwire list: --take is at most 1000\n";
        return exit_usage;
    }
    s.list.stream = vm.count("stream") > 0;
    s.list.prefetch = vm.count("prefetch") > 0;
    s.list.cursor = after;
    const char* key_variable = vs_list ? "VECTORSHIFT_API_KEY" : "CHATBOTKIT_SECRET";
    if (!key_file.empty()) {
        std::string why;
        if (!read_key_file(key_file, s.key, &why)) {
            std::cerr << "chatwire list: --api-key-file " << escape_for_terminal(key_file) << ": " << why << "\n";
            return exit_usage;
        }
    } else if (const char* k = std::getenv(key_variable)) {
        s.key = k;
    }
    if (s.key.empty()) {
        if (!base_url.empty()) {
            std::cerr << "chatwire list: no key: set " << key_variable << " or use --api-key-file\n";
            return exit_usage;
        }
        s.key = "local-emulator-key";  // the embedded emulator accepts any key
    }
    s.base_url = base_url;
    const int retries = vm["max-retries"].as<int>();
    if (retries < 0 || retries > 100) {
        std::cerr << "chatwire list: --max-retries wants 0 to 100\n";
        return exit_usage;
    }
    s.retry.max_attempts = retries + 1;
    if (vm.count("max-pages")) {
        const char* end = max_pages.data() + max_pages.size();
        auto [p, ec] = std::from_chars(max_pages.data(), end, s.max_pages);
        const bool digits = !max_pages.empty() && max_pages.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || ec != std::errc{} || p != end) {
            std::cerr << "chatwire list: --max-pages wants a whole number (0: no cap)\n";
            return exit_usage;
        }
    }
    if (vm.count("timeout")) {
        s.timeout = parse_timeout(timeout);
        if (!s.timeout) {
            std::cerr << "chatwire list: --timeout wants seconds, more than 0 and at most "
                      << static_cast<int>(max_timeout_seconds) << "\n";
            return exit_usage;
        }
    }
    try {
        return run(std::move(s), ca_file);
    } catch (const std::exception& e) {
        std::cerr << "chatwire list: " << escape_for_terminal(e.what()) << "\n";
        return exit_failure;
    }
}

} // namespace chatwire::cli
