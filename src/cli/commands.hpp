#pragma once
// Each subcommand of the `chatwire` executable. argv[0] is the subcommand's name.

namespace chatwire::cli {

// Exit codes, the same for every subcommand (scripts branch on them).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  ///< anything not below (a crash, a bad input file)
inline constexpr int exit_usage = 2;    ///< bad flags or arguments
inline constexpr int exit_api = 3;      ///< the service answered with an error
inline constexpr int exit_network = 4;  ///< network failure or timeout

int run_decode(int argc, char** argv);
int run_emulate(int argc, char** argv);
int run_chat(int argc, char** argv);
int run_list(int argc, char** argv);

} // namespace chatwire::cli
