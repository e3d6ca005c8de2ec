// `chatwire emulate`: runs the emulator of all three APIs until SIGINT/SIGTERM.
#include "command_line.hpp"
#include "commands.hpp"

#include <chatwire/emulator/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace chatwire::cli {

namespace po = boost::program_options;

namespace {

bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "127.0.0.1";
    try {
        auto p = std::stoul(listen.substr(colon + 1));
        if (p > 65535) return false;
        port = static_cast<std::uint16_t>(p);
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

// Only a loopback address keeps the emulator to this machine; a name other
// than localhost is not resolved here and counts as reachable from elsewhere.
bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

} // namespace

int run_emulate(int argc, char** argv) {
    std::string listen = "127.0.0.1:0", cert_out, api_key, admin_token, faults_file;
    std::string http2 = "on", h2_pings = "on";
    const emulator::http2_settings h2_defaults;
    // Read signed, so that a negative number is refused rather than wrapped.
    std::int64_t h2_max_streams = h2_defaults.max_concurrent_streams, h2_window = h2_defaults.initial_window;
    std::uint64_t token_delay_ms = 0, seed = 0, rate_window_s = 3600;
    std::size_t rate_limit = 0;
    const emulator::options defaults;
    std::uint64_t write_timeout_ms = static_cast<std::uint64_t>(defaults.write_timeout.count());
    std::size_t max_connections = defaults.max_connections, max_body_bytes = defaults.max_body_bytes,
                max_conversations = defaults.max_conversations;
    po::options_description desc("chatwire emulate [options]");
    desc.add_options()
        ("help,h", "show this help")
        ("listen", po::value(&listen)->default_value(listen), "HOST:PORT to listen on (port 0 picks a free one)")
        ("plain", "serve plain HTTP instead of HTTPS")
        ("http2", po::value(&http2)->default_value(http2),
         "on: HTTP/2 as well (ALPN over TLS; prior knowledge in clear); off: HTTP/1.1 only")
        ("h2-max-streams", po::value(&h2_max_streams)->default_value(h2_max_streams),
         "HTTP/2: the streams a connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused")
        ("h2-window", po::value(&h2_window)->default_value(h2_window),
         "HTTP/2: the bytes a client may send on a stream before the emulator's WINDOW_UPDATE")
        ("h2-pings", po::value(&h2_pings)->default_value(h2_pings),
         "HTTP/2: on: PINGs are answered; off: never (a connection that looks dead)")
        ("cert-out", po::value(&cert_out), "write the certificate clients must trust (PEM) to this file")
        ("api-key", po::value(&api_key),
         "accept only this key (default: any key; the environment variable CHATWIRE_EMULATOR_API_KEY "
         "keeps it off the command line)")
        ("admin-token", po::value(&admin_token),
         "the token the /_emulator/ admin API asks for in the X-Emulator-Admin-Token header (default: the API key, "
         "else a random one printed at start; CHATWIRE_EMULATOR_ADMIN_TOKEN keeps it off the command line); "
         "required when --listen is not a loopback address")
        ("token-delay-ms", po::value(&token_delay_ms)->default_value(0), "pause between streamed events")
        ("seed", po::value(&seed)->default_value(0), "seed of the deterministic replies and ids")
        ("faults", po::value(&faults_file), "JSON file with the initial fault rules")
        ("rate-limit", po::value(&rate_limit), "PollyBot requests allowed per key in the window (default: unlimited)")
        ("rate-window-s", po::value(&rate_window_s)->default_value(3600), "PollyBot's sliding window in seconds")
        ("write-timeout-ms", po::value(&write_timeout_ms)->default_value(write_timeout_ms),
         "close a connection when a write has not been taken by the peer within this time")
        ("max-connections", po::value(&max_connections)->default_value(max_connections),
         "connections beyond this many are closed as soon as they are accepted")
        ("max-body-bytes", po::value(&max_body_bytes)->default_value(max_body_bytes),
         "larger request bodies are answered 413")
        ("max-conversations", po::value(&max_conversations)->default_value(max_conversations),
         "conversations (and chatbots made on first use) kept per API; a new one beyond this forgets the oldest");
    po::variables_map vm;
    if (auto done = parse_command_line({"emulate", desc, nullptr, nullptr, ""}, argc, argv, vm)) return *done;

    emulator::options opts;
    if (!split_listen(listen, opts.host, opts.port)) {
        std::cerr << "chatwire emulate: --listen needs HOST:PORT, got '" << listen << "'\n";
        return 2;
    }
    opts.tls = !vm.count("plain");
    if (http2 != "on" && http2 != "off") {
        std::cerr << "chatwire emulate: --http2 wants on or off\n";
        return exit_usage;
    }
    opts.http2 = http2 == "on";
    if (h2_pings != "on" && h2_pings != "off") {
        std::cerr << "chatwire emulate: --h2-pings wants on or off\n";
        return exit_usage;
    }
    if (h2_window < 1 || h2_window > 0x7fffffff) {
        std::cerr << "chatwire emulate: --h2-window wants 1 to 2147483647\n";
        return exit_usage;
    }
    if (h2_max_streams < 0 || h2_max_streams > 0xffffffffLL) {
        std::cerr << "chatwire emulate: --h2-max-streams wants 0 to 4294967295\n";
        return exit_usage;
    }
    opts.h2.max_concurrent_streams = static_cast<std::uint32_t>(h2_max_streams);
    opts.h2.initial_window = static_cast<std::uint32_t>(h2_window);
    opts.h2.answer_pings = h2_pings == "on";
    if (vm.count("api-key")) opts.api_key = api_key;
    else if (const char* env = std::getenv("CHATWIRE_EMULATOR_API_KEY"); env && *env) opts.api_key = env;
    if (vm.count("admin-token")) opts.admin_token = admin_token;
    else if (const char* env = std::getenv("CHATWIRE_EMULATOR_ADMIN_TOKEN"); env && *env) opts.admin_token = env;
    if (opts.admin_token && opts.admin_token->empty()) {
        std::cerr << "chatwire emulate: --admin-token must not be empty\n";
        return 2;
    }
    // Decided before anything is bound: off loopback, anyone who reaches the
    // port meets the admin API, so its token must be one the user chose.
    if (!is_loopback(opts.host)) {
        std::cerr << "chatwire emulate: warning: " << opts.host
                  << " is not a loopback address; the emulator will be reachable from other machines\n";
        if (!opts.admin_token) {
            std::cerr << "chatwire emulate: --listen on a non-loopback address requires --admin-token "
                         "(or CHATWIRE_EMULATOR_ADMIN_TOKEN)\n";
            return 2;
        }
    }
    opts.token_delay = std::chrono::milliseconds(token_delay_ms);
    opts.seed = seed;
    if (vm.count("rate-limit")) opts.rate_limit = rate_limit;
    opts.rate_window = std::chrono::seconds(rate_window_s);
    if (write_timeout_ms == 0 || max_connections == 0 || max_conversations == 0) {
        std::cerr << "chatwire emulate: --write-timeout-ms, --max-connections and --max-conversations must be positive\n";
        return 2;
    }
    opts.write_timeout = std::chrono::milliseconds(write_timeout_ms);
    opts.max_connections = max_connections;
    opts.max_body_bytes = max_body_bytes;
    opts.max_conversations = max_conversations;
    if (vm.count("faults") && !read_file(faults_file, opts.faults_json)) {
        std::cerr << "chatwire emulate: cannot read " << faults_file << "\n";
        return 2;
    }

    try {
        boost::asio::io_context io(1);
        emulator::server srv(io.get_executor(), opts);
        if (!cert_out.empty()) {
            std::ofstream out(cert_out, std::ios::binary | std::ios::trunc);
            out << srv.certificate_pem();
            if (!out.flush()) {
                std::cerr << "chatwire emulate: cannot write " << cert_out << "\n";
                return 1;
            }
        }
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&srv](const boost::system::error_code& ec, int) {
            if (!ec) srv.stop();
        });
        srv.start();
        // The token before the ready line, so that whoever waits for the
        // latter finds it. Only a generated token is printed: one the user
        // gave (or the API key) is theirs already and stays out of logs, so
        // only where it comes from is said.
        const bool generated = !opts.admin_token && (!opts.api_key || opts.api_key->empty());
        if (generated) std::cout << "admin token: " << srv.admin_token() << "\n";
        else
            std::cout << "admin API: header " << emulator::admin_token_header << ", the value of "
                      << (!opts.admin_token ? "--api-key"
                          : vm.count("admin-token") ? "--admin-token"
                                                    : "CHATWIRE_EMULATOR_ADMIN_TOKEN")
                      << "\n";
        std::cout << "listening on " << srv.base_url() << std::endl;
        io.run();
    } catch (const std::invalid_argument& e) {
        std::cerr << "chatwire emulate: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "chatwire emulate: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

} // namespace chatwire::cli
