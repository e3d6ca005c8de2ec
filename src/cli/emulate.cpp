#include "commands.hpp"

#include <iostream>

namespace chatwire::cli {

// Not implemented yet: reports so and exits with the usage code.
int run_emulate(int, char**) {
    std::cerr << "chatwire emulate: not available in this build yet\n";
    return 2;
}

} // namespace chatwire::cli
