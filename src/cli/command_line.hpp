#pragma once
// The part every subcommand shares: parsing its options, --help, and the
// usage message on a bad command line.
#include "key_file.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace chatwire::cli {

/// A subcommand's command line.
struct command_line {
    std::string_view command;  ///< "chat": errors read "chatwire chat: ..."
    const boost::program_options::options_description& options;  ///< what --help lists
    /// The positional arguments' own options, not listed by --help (may be null).
    const boost::program_options::options_description* hidden = nullptr;
    const boost::program_options::positional_options_description* positional = nullptr;
    std::string_view preamble;  ///< printed before the options
};

/// Parses argv (argv[0] is the subcommand) into `vm`. Nothing: go on. A
/// number: the exit code to return now, after --help printed the usage on
/// stdout (exit_ok) or a bad command line was reported with it on stderr
/// (exit_usage).
std::optional<int> parse_command_line(const command_line& cl, int argc, char** argv, boost::program_options::variables_map& vm);

/// The preamble, then the options.
void print_usage(std::ostream& os, const command_line& cl);

/// The longest --timeout taken: a day is a typo rather than a wish.
inline constexpr double max_timeout_seconds = 24 * 3600;

/// --timeout SECONDS: fractions allowed, more than 0 (which would mean "no
/// deadline" to the library) and at most max_timeout_seconds; nothing otherwise.
std::optional<std::chrono::milliseconds> parse_timeout(std::string_view text);

} // namespace chatwire::cli
