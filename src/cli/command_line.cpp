#include "command_line.hpp"
#include "commands.hpp"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>

#include <charconv>
#include <cmath>
#include <iostream>

namespace chatwire::cli {

namespace po = boost::program_options;

std::optional<int> parse_command_line(const command_line& cl, int argc, char** argv, po::variables_map& vm) {
    po::options_description all;
    all.add(cl.options);
    if (cl.hidden) all.add(*cl.hidden);
    po::command_line_parser parser(argc, argv);
    parser.options(all);
    if (cl.positional) parser.positional(*cl.positional);
    try {
        po::store(parser.run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "chatwire " << cl.command << ": " << e.what() << "\n";
        print_usage(std::cerr, cl);
        return exit_usage;
    }
    if (vm.count("help")) {
        print_usage(std::cout, cl);
        return exit_ok;
    }
    return std::nullopt;
}

void print_usage(std::ostream& os, const command_line& cl) { os << cl.preamble << cl.options; }

std::optional<std::chrono::milliseconds> parse_timeout(std::string_view text) {
    double seconds = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, seconds);
    if (ec != std::errc{} || p != end || !std::isfinite(seconds) || seconds <= 0 || seconds > max_timeout_seconds)
        return std::nullopt;
    const auto ms = std::chrono::milliseconds(std::llround(seconds * 1000));
    if (ms.count() < 1) return std::nullopt;
    return ms;
}

} // namespace chatwire::cli
