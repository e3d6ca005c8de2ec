// game_loop: chatwire inside a loop that owns its thread, as a game or a
// trading loop would. Sixty times a second the loop calls io_context::poll()
// once (a work guard keeps poll() from stopping the context when nothing is
// pending), takes the chat events already received with try_next() within a
// frame budget, and appends their text to a "HUD" string. Nothing blocks and
// no thread is started: with an IP literal in the base URL not even the
// resolver's.
//
// The emulator runs in a child process (`chatwire emulate`, found beside this
// program or given on the command line), so a frame's time is the client's
// alone. At the end it prints one line:
//   frames=N worst_frame_us=X p99_frame_us=Y threads=T
// X and Y are the time a frame spent inside poll() and try_next(), T the
// process's thread count (from /proc/self/task).
//
//   example_game_loop [PATH_TO_chatwire]
#include <chatwire/chat_client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// `chatwire emulate` as a child process: started with a fresh certificate,
// its URL read from the line it prints, stopped by its PID at exit.
struct child_emulator {
    pid_t pid = -1;
    std::string cert_file, base_url;

    explicit child_emulator(const std::string& exe) {
        cert_file = std::filesystem::temp_directory_path() / ("game_loop_" + std::to_string(::getpid()) + ".pem");
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        ::posix_spawn_file_actions_addclose(&actions, fds[0]);
        ::posix_spawn_file_actions_addclose(&actions, fds[1]);
        std::string args[] = {exe, "emulate", "--listen", "127.0.0.1:0", "--cert-out", cert_file, "--token-delay-ms", "10"};
        char* argv[std::size(args) + 1] = {};
        for (std::size_t i = 0; i < std::size(args); ++i) argv[i] = args[i].data();
        int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
        ::posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("cannot start " + exe);
        }
        // "listening on https://127.0.0.1:PORT", after the admin token's line
        // (this program does not use the admin API).
        std::string line;
        for (bool ended = false; !ended && !line.starts_with("listening on ");) {
            line.clear();
            char c;
            while (!(ended = ::read(fds[0], &c, 1) != 1) && c != '\n') line += c;
        }
        ::close(fds[0]);  // it prints nothing more
        if (!line.starts_with("listening on ")) {
            stop();
            throw std::runtime_error("chatwire emulate printed '" + line + "'");
        }
        base_url = line.substr(std::string("listening on ").size());
    }
    ~child_emulator() { stop(); }
    void stop() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
            pid = -1;
        }
        std::filesystem::remove(cert_file);
    }
};

// The chat as the game sees it: what the HUD shows and what is pending.
struct npc_chat {
    chatwire::chat_client bot;
    std::vector<std::string> lines;  // what the player says, one a turn
    std::size_t turn = 0;
    std::string conversation{}, hud{};
    chatwire::diagnostics diag{};
    chatwire::chat_stream stream{};
    bool waiting = false;  // an async_send or async_next has not completed yet
    bool over = false;
    chatwire::error_code failure{};
};

void on_event(npc_chat& c, chatwire::error_code ec, const chatwire::event& ev) {
    if (ec == chatwire::errc::end_of_stream) {  // the turn is over: the next one starts next frame
        c.conversation = c.stream.conversation_id();
        c.stream = {};
        c.over = ++c.turn == c.lines.size();
    } else if (ec) {
        c.failure = ec;
        c.diag = c.stream.get_diagnostics();
        c.over = true;
    } else if (ev.kind == chatwire::event_kind::token) {
        c.hud += ev.text;
    }
}

// The chat's share of a frame: start a turn, or take the events at hand
// until the budget is spent, then ask for a read that completes in a later poll().
void update(npc_chat& c, clock_type::time_point budget_end) {
    if (c.waiting || c.over) return;
    if (!c.stream.is_open()) {
        c.hud += (c.hud.empty() ? "> " : "\n> ") + c.lines[c.turn] + "\n< ";
        c.waiting = true;
        c.bot.async_send(c.lines[c.turn], c.conversation, c.diag, [&c](chatwire::error_code ec, chatwire::chat_stream s) {
            c.waiting = false;
            if (ec) c.failure = ec, c.over = true;
            else c.stream = std::move(s);
        });
        return;
    }
    chatwire::error_code ec;
    chatwire::event ev;
    while (clock_type::now() < budget_end) {
        if (!c.stream.try_next(ec, ev)) {
            c.waiting = true;
            c.stream.async_next([&c](chatwire::error_code ec, chatwire::event ev) {
                c.waiting = false;
                on_event(c, ec, ev);
            });
            return;
        }
        on_event(c, ec, ev);
        if (!c.stream.is_open()) return;
    }
}

int run(int argc, char** argv) {
    auto exe = argc > 1 ? std::filesystem::path(argv[1])
                        : std::filesystem::read_symlink("/proc/self/exe").parent_path() / "chatwire";
    child_emulator emulator(exe.string());

    asio::io_context io(1);
    auto guard = asio::make_work_guard(io);  // poll() with no work would stop the context

    chatwire::chat_options o;
    o.api = chatwire::api_kind::pollybot;
    o.base_url = emulator.base_url;
    o.api_key = "example-key";
    o.chatbot_id = "innkeeper";
    o.http.tls.extra_ca_file = emulator.cert_file;
    npc_chat chat{.bot = chatwire::chat_client(io.get_executor(), std::move(o)),
                  .lines = {"Any rooms free tonight?", "How much for two nights?", "Where can I stable my horse?"}};

    const auto frame = std::chrono::microseconds(1'000'000 / 60);
    const auto chat_budget = 2ms;  // the most a frame gives to chat events
    const bool terminal = ::isatty(STDOUT_FILENO);
    std::vector<long> frame_us;  // time inside chatwire and poll() per frame
    auto next_frame = clock_type::now();
    while (!chat.over && frame_us.size() < 60 * 60) {
        auto start = clock_type::now();
        io.poll();
        update(chat, start + chat_budget);
        frame_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start).count());

        if (terminal) {  // "render": the HUD's last line
            auto last = chat.hud.substr(chat.hud.rfind('\n') + 1);
            std::printf("\r\033[K%.70s", last.size() > 70 ? last.c_str() + last.size() - 70 : last.c_str());
            std::fflush(stdout);
        }
        next_frame += frame;
        std::this_thread::sleep_until(next_frame);
    }

    std::printf("%s%s\n", terminal ? "\r\033[K" : "", chat.hud.c_str());
    if (chat.failure) std::printf("chat failed: %s %s\n", chat.failure.message().c_str(), chat.diag.to_string().c_str());
    auto threads = std::distance(std::filesystem::directory_iterator("/proc/self/task"), {});
    auto sorted = frame_us;
    std::sort(sorted.begin(), sorted.end());
    std::printf("frames=%zu worst_frame_us=%ld p99_frame_us=%ld threads=%ld\n", sorted.size(), sorted.back(),
                sorted[(sorted.size() - 1) * 99 / 100], static_cast<long>(threads));
    return chat.over && !chat.failure ? 0 : 1;
}

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "game_loop: %s\n", e.what());
        return 1;
    }
}
