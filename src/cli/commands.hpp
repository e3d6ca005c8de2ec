#pragma once
// Each subcommand of the `chatwire` executable. argv[0] is the subcommand's name.
// Exit codes shared by all: 0 ok, 1 failure, 2 usage, 3 API error, 4 network or timeout.

namespace chatwire::cli {

int run_decode(int argc, char** argv);
int run_emulate(int argc, char** argv);
int run_chat(int argc, char** argv);

} // namespace chatwire::cli
