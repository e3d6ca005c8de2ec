// `chatwire emulate` as a user runs it: the ready line, TLS with --cert-out,
// --faults, the key from the environment, the admin token, the refusal of a
// non-loopback --listen without one, and a clean exit on SIGTERM/SIGINT.
#include "test_client.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace json = boost::json;

namespace {

struct child {
    pid_t pid = -1;
    int out = -1;
    std::string first_line;  ///< the ready line ("listening on URL"), or all it printed when it had none
    std::string before;      ///< what it printed before the ready line

    /// With `with_stderr` its standard error goes to the same pipe.
    child(std::vector<std::string> args, std::vector<std::string> extra_env = {}, bool with_stderr = false) {
        int fds[2];
        BOOST_REQUIRE(::pipe(fds) == 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        if (with_stderr) posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        args.insert(args.begin(), {CHATWIRE_CLI_PATH, "emulate"});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_store;
        for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
        for (auto& e : extra_env) env_store.push_back(e);
        std::vector<char*> envp;
        for (auto& e : env_store) envp.push_back(e.data());
        envp.push_back(nullptr);
        BOOST_REQUIRE(posix_spawn(&pid, CHATWIRE_CLI_PATH, &fa, nullptr, argv.data(), envp.data()) == 0);
        posix_spawn_file_actions_destroy(&fa);
        ::close(fds[1]);
        out = fds[0];
        // The ready line, within ten seconds; the lines before it kept aside.
        char c;
        pollfd p{out, POLLIN, 0};
        for (;;) {
            if (::poll(&p, 1, 10000) <= 0 || ::read(out, &c, 1) != 1) break;
            first_line += c;
            if (c != '\n') continue;
            if (first_line.rfind("listening on ", 0) == 0) break;
            before += first_line;
            first_line.clear();
        }
        if (first_line.rfind("listening on ", 0) != 0) first_line = before + first_line;
    }
    std::uint16_t port() const {
        auto colon = first_line.rfind(':');
        return static_cast<std::uint16_t>(std::stoi(first_line.substr(colon + 1)));
    }
    int stop(int sig) {
        ::kill(pid, sig);
        int status = 0;
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            ::usleep(50000);
        }
        return -1;
    }
    ~child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (out >= 0) ::close(out);
    }
};

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))).string();
}

} // namespace

BOOST_AUTO_TEST_SUITE(emulator_cli)

BOOST_AUTO_TEST_CASE(plain_ready_line_and_sigterm) {
    child c({"--listen", "127.0.0.1:0", "--plain"});
    BOOST_TEST_REQUIRE(c.first_line.rfind("listening on http://127.0.0.1:", 0) == 0u);
    BOOST_TEST(c.port() != 0);
    auto r = emu_test::exchange({c.port(), ""}, "POST", "/api/v1/chatbots/a/chat", {{"Authorization", "Bearer k"}},
                                R"({"message":"hi"})");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(c.stop(SIGTERM) == 0);
}

BOOST_AUTO_TEST_CASE(tls_cert_out_faults_and_key_from_env) {
    const auto cert = temp_path("chatwire-emu-cert.pem");
    const auto faults = temp_path("chatwire-emu-faults.json");
    std::ofstream(faults) << R"([{"api":"chatbotkit","kind":"status","status":503,"times":1}])";
    child c({"--listen", "127.0.0.1:0", "--cert-out", cert, "--faults", faults, "--seed", "9", "--token-delay-ms", "1"},
            {"CHATWIRE_EMULATOR_API_KEY=from-env"});
    BOOST_TEST_REQUIRE(c.first_line.rfind("listening on https://127.0.0.1:", 0) == 0u);
    BOOST_TEST(c.first_line.find("from-env") == std::string::npos);
    std::ifstream in(cert);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(pem.find("BEGIN CERTIFICATE") != std::string::npos);
    BOOST_TEST(pem.find("PRIVATE KEY") == std::string::npos);
    emu_test::target t{c.port(), pem};
    BOOST_TEST(emu_test::exchange(t, "GET", "/v1/bot/list", {{"Authorization", "Bearer from-env"}}).status == 503);
    BOOST_TEST(emu_test::exchange(t, "GET", "/v1/bot/list", {{"Authorization", "Bearer from-env"}}).status == 200);
    BOOST_TEST(emu_test::exchange(t, "GET", "/v1/bot/list", {{"Authorization", "Bearer other"}}).status == 401);
    BOOST_TEST(c.stop(SIGINT) == 0);
    std::remove(cert.c_str());
    std::remove(faults.c_str());
}

BOOST_AUTO_TEST_CASE(usage_errors) {
    auto exit_status = [](std::vector<std::string> args) {
        child c(std::move(args));
        BOOST_TEST(c.first_line.empty());
        int status = 0;
        ::waitpid(c.pid, &status, 0);
        c.pid = -1;
        return WEXITSTATUS(status);
    };
    BOOST_TEST(exit_status({"--listen", "no-port-here"}) == 2);
    BOOST_TEST(exit_status({"--plain", "--max-connections", "0"}) == 2);
    // A fault script asking for an event over the bound is refused at start.
    const auto faults = temp_path("chatwire-emu-big-fault.json");
    std::ofstream(faults) << R"([{"kind":"oversized_event","oversized_event":1000000000}])";
    BOOST_TEST(exit_status({"--plain", "--faults", faults}) == 2);
    std::remove(faults.c_str());
}

// The `admin token: HEX` line printed before the ready line, or "" when there is none.
std::string printed_token(const child& c) {
    const std::string prefix = "admin token: ";
    auto at = c.before.find(prefix);
    if (at == std::string::npos) return {};
    auto end = c.before.find('\n', at);
    return c.before.substr(at + prefix.size(), end - at - prefix.size());
}

BOOST_AUTO_TEST_CASE(a_generated_admin_token_is_printed_at_start) {
    child c({"--listen", "127.0.0.1:0", "--plain"});
    BOOST_TEST_REQUIRE(c.first_line.rfind("listening on http://127.0.0.1:", 0) == 0u);
    const auto token = printed_token(c);
    BOOST_TEST_REQUIRE(token.size() == 32u);
    const emu_test::target t{c.port(), ""};
    BOOST_TEST(emu_test::exchange(t, "GET", "/_emulator/stats").status == 401);
    BOOST_TEST(emu_test::exchange(t, "GET", "/_emulator/stats", {{"X-Emulator-Admin-Token", token}}).status == 200);
    BOOST_TEST(c.stop(SIGTERM) == 0);
    // Another start, another token.
    child d({"--listen", "127.0.0.1:0", "--plain"});
    BOOST_TEST_REQUIRE(d.first_line.rfind("listening on http://", 0) == 0u);
    BOOST_TEST(printed_token(d) != token);
    BOOST_TEST(d.stop(SIGTERM) == 0);
}

BOOST_AUTO_TEST_CASE(a_given_admin_token_or_key_is_used_and_not_printed) {
    child c({"--listen", "127.0.0.1:0", "--plain", "--api-key", "sk-key"},
            {"CHATWIRE_EMULATOR_ADMIN_TOKEN=admin-from-env"});
    BOOST_TEST_REQUIRE(c.first_line.rfind("listening on http://", 0) == 0u);
    BOOST_TEST(c.before.find("admin-from-env") == std::string::npos);
    BOOST_TEST(printed_token(c).empty());
    // Where the token comes from is said, not the token.
    BOOST_TEST(c.before.find("admin API: header X-Emulator-Admin-Token, the value of CHATWIRE_EMULATOR_ADMIN_TOKEN") !=
               std::string::npos, c.before);
    const emu_test::target t{c.port(), ""};
    BOOST_TEST(emu_test::exchange(t, "GET", "/_emulator/stats", {{"X-Emulator-Admin-Token", "sk-key"}}).status == 401);
    BOOST_TEST(emu_test::exchange(t, "GET", "/_emulator/stats", {{"X-Emulator-Admin-Token", "admin-from-env"}}).status ==
               200);
    BOOST_TEST(c.stop(SIGTERM) == 0);
    // Without an admin token the API key opens the admin API; neither is printed.
    child k({"--listen", "127.0.0.1:0", "--plain", "--api-key", "sk-key"});
    BOOST_TEST_REQUIRE(k.first_line.rfind("listening on http://", 0) == 0u);
    BOOST_TEST(k.before.find("sk-key") == std::string::npos);
    BOOST_TEST(k.before.find("the value of --api-key") != std::string::npos, k.before);
    BOOST_TEST(emu_test::exchange({k.port(), ""}, "GET", "/_emulator/stats", {{"X-Emulator-Admin-Token", "sk-key"}})
                   .status == 200);
    BOOST_TEST(k.stop(SIGTERM) == 0);
}

// The check comes before anything is bound. Should it ever come after, these
// runs still listen on no other address: the port they ask for is held by a
// listener of ours on 127.0.0.1, so a wildcard bind fails (EADDRINUSE).
BOOST_AUTO_TEST_CASE(a_non_loopback_listen_needs_an_admin_token, *boost::unit_test::timeout(60)) {
    const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::listen(holder, 1) == 0);
    BOOST_REQUIRE(::getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    const auto held = std::to_string(ntohs(a.sin_port));

    // Its exit status (-1: still running after ten seconds, then killed) and all it printed.
    auto run = [](std::vector<std::string> args, std::vector<std::string> env = {}) {
        child c(std::move(args), std::move(env), true);
        std::string all = c.first_line;
        char buf[512];
        pollfd p{c.out, POLLIN, 0};
        for (ssize_t n; ::poll(&p, 1, 10000) > 0 && (n = ::read(c.out, buf, sizeof buf)) > 0;)
            all.append(buf, static_cast<std::size_t>(n));
        int status = 0;
        bool reaped = false;
        for (int i = 0; i < 100 && !(reaped = ::waitpid(c.pid, &status, WNOHANG) == c.pid); ++i) ::usleep(50000);
        if (!reaped) return std::pair{-1, all};  // still running: the destructor kills it
        c.pid = -1;
        return std::pair{WIFEXITED(status) ? WEXITSTATUS(status) : -1, all};
    };
    auto [status, printed] = run({"--listen", "0.0.0.0:" + held, "--plain", "--api-key", "sk-key"});
    BOOST_TEST(status == 2);
    BOOST_TEST(printed.find("warning:") != std::string::npos, printed);
    BOOST_TEST(printed.find("requires --admin-token") != std::string::npos, printed);
    BOOST_TEST(printed.find("listening on") == std::string::npos, printed);
    BOOST_TEST(printed.find("sk-key") == std::string::npos, printed);
    // An empty token is no token.
    auto [env_status, env_printed] = run({"--listen", "0.0.0.0:" + held, "--plain"}, {"CHATWIRE_EMULATOR_ADMIN_TOKEN="});
    BOOST_TEST(env_status == 2);
    BOOST_TEST(env_printed.find("requires --admin-token") != std::string::npos, env_printed);
    auto [blank_status, blank_printed] = run({"--listen", "0.0.0.0:" + held, "--plain", "--admin-token", ""});
    BOOST_TEST(blank_status == 2);
    BOOST_TEST(blank_printed.find("listening on") == std::string::npos, blank_printed);
    // With a token it gets as far as binding (which the held port refuses): the warning stays.
    auto [bind_status, bind_printed] = run({"--listen", "0.0.0.0:" + held, "--plain", "--admin-token", "a-token"});
    BOOST_TEST(bind_status == 1);
    BOOST_TEST(bind_printed.find("warning:") != std::string::npos, bind_printed);
    BOOST_TEST(bind_printed.find("requires --admin-token") == std::string::npos, bind_printed);
    BOOST_TEST(bind_printed.find("a-token") == std::string::npos, bind_printed);
    // Loopback needs nothing more (and draws no warning).
    auto [lo_status, lo_printed] = run({"--listen", "127.0.0.1:" + held, "--plain"});
    BOOST_TEST(lo_status == 1);  // the held port again
    BOOST_TEST(lo_printed.find("warning:") == std::string::npos, lo_printed);
    ::close(holder);
}

BOOST_AUTO_TEST_CASE(limit_flags) {
    child c({"--listen", "127.0.0.1:0", "--plain", "--max-body-bytes", "64", "--max-conversations", "1",
             "--write-timeout-ms", "2000", "--max-connections", "50"});
    BOOST_TEST_REQUIRE(c.first_line.rfind("listening on http://", 0) == 0u);
    const emu_test::target t{c.port(), ""};
    const emu_test::header_list key{{"Authorization", "Bearer k"}};
    auto big = emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", key, R"({"message":")" + std::string(100, 'x') + "\"}");
    BOOST_TEST(big.status == 413);
    auto id_of = [](const emu_test::http_reply& r) {
        return std::string(json::parse(r.body).as_object().at("data").as_object().at("conversationId").as_string());
    };
    auto first = id_of(emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", key, R"({"message":"one"})"));
    auto second = id_of(emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", key, R"({"message":"two"})"));
    auto turn = [&](const std::string& id) {
        return emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", key,
                                  R"({"message":"m","conversationId":")" + id + "\"}")
            .status;
    };
    BOOST_TEST(turn(first) == 404);  // forgotten: only one conversation is kept
    BOOST_TEST(turn(second) == 200);
    BOOST_TEST(c.stop(SIGTERM) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
