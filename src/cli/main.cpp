#include "commands.hpp"

#include <chatwire/version.hpp>

#include <cstring>
#include <iostream>
#include <string_view>

#include <sys/prctl.h>
#include <sys/resource.h>

namespace {

struct command {
    std::string_view name;
    std::string_view summary;
    int (*run)(int, char**);
};

constexpr command commands[] = {
    {"chat", "talk to a chatbot (the embedded emulator unless --base-url)", chatwire::cli::run_chat},
    {"list", "print a list (conversations, bots, messages, chatbots), one JSON item a line", chatwire::cli::run_list},
    {"emulate", "run the HTTPS emulator of all three APIs", chatwire::cli::run_emulate},
    {"decode", "decode a captured SSE or JSONL body from stdin", chatwire::cli::run_decode},
};

// The process holds an API key: no core file of it, and no other process of
// the same user may read its memory, environment or file descriptors (ptrace,
// /proc/PID/mem, /proc/PID/environ). Best effort: a refusal changes nothing else.
void protect_memory() {
    const rlimit none{0, 0};
    (void)::setrlimit(RLIMIT_CORE, &none);
    (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void usage(std::ostream& os) {
    os << "usage: chatwire <command> [options]\n\ncommands:\n";
    for (const auto& c : commands) os << "  " << c.name << "\t" << c.summary << "\n";
    os << "\n'chatwire <command> --help' describes a command's options.\n";
}

} // namespace

int main(int argc, char** argv) {
    protect_memory();
    if (argc < 2) {
        usage(std::cerr);
        return chatwire::cli::exit_usage;
    }
    std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(std::cout);
        return chatwire::cli::exit_ok;
    }
    if (name == "--version") {
        std::cout << "chatwire " << chatwire::version() << "\n";
        return chatwire::cli::exit_ok;
    }
    for (const auto& c : commands)
        if (c.name == name) return c.run(argc - 1, argv + 1);
    std::cerr << "chatwire: unknown command '" << name << "'\n";
    usage(std::cerr);
    return chatwire::cli::exit_usage;
}
