#include <chatwire/error.hpp>
#include <chatwire/version.hpp>

#include <iostream>

int main() {
    // Touch a compiled symbol besides version() so the archive really links.
    auto ec = chatwire::make_error_code(chatwire::errc::rate_limited);
    if (ec.category().name() != std::string_view("chatwire")) return 1;
    std::cout << "chatwire " << chatwire::version() << "\n";
}
