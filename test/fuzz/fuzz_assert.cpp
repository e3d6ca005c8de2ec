// BOOST_ASSERT in the fuzz build (BOOST_ENABLE_ASSERT_HANDLER): a failed
// assertion is a finding, reported and aborted on, except for one that Beast
// gets wrong itself.
#include <boost/version.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// Beast before 1.86 asserts that a chunked body's final chunk comes back to
// the parser with at least 5 bytes, but "0\r\n" (3 bytes, no chunk before it)
// followed by a single byte comes back with 4; the code after the assertion
// handles that (it asks for more until the blank line), and Beast 1.86 made
// the assertion exact. Servers may split a body anywhere, so this is no finding.
bool known_false_alarm(std::string_view expr, std::string_view file) {
#if BOOST_VERSION < 108600
    return expr == "n >= 5" && file.ends_with("boost/beast/http/impl/basic_parser.ipp");
#else
    (void)expr;
    (void)file;
    return false;
#endif
}

} // namespace

namespace boost {

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
    if (known_false_alarm(expr, file)) return;
    std::fprintf(stderr, "%s:%ld: %s: assertion '%s' failed%s%s\n", file, line, function, expr, msg ? ": " : "",
                 msg ? msg : "");
    std::abort();
}

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
    assertion_failed_msg(expr, nullptr, function, file, line);
}

} // namespace boost
