#pragma once
// Text that came from a server, made safe to print on a terminal.
//
// A chatbot's reply, a provider's error message or an id is data, not terminal
// input: an ESC starts a control sequence (colours, cursor moves, an OSC that
// sets the window title or writes the clipboard), a CR or LF can forge a line
// that looks like the CLI's own output. Every control character is therefore
// shown as a visible escape instead of being sent to the terminal.
#include <string>
#include <string_view>

namespace chatwire::cli {

enum class line_breaks {
    escape,  ///< \n and \t are escaped like every other control (one-line fields)
    keep,    ///< \n and \t pass through (reply text)
};

/// Rewrites `in` for a terminal: C0 controls and DEL become `\xNN`, C1 controls
/// (U+0080..U+009F) become `\u00NN`, and each invalid UTF-8 sequence becomes
/// U+FFFD. Valid UTF-8 otherwise passes unchanged.
std::string escape_for_terminal(std::string_view in, line_breaks lb = line_breaks::escape);

/// `in` with each invalid UTF-8 sequence replaced by U+FFFD, controls kept
/// (for JSON output, whose serializer escapes the controls itself).
std::string valid_utf8(std::string_view in);

/// Serialized JSON (valid UTF-8) with DEL and the C1 controls written as
/// `\u007f` and `\u0080`..`\u009f`: Boost.JSON escapes only C0, and a raw
/// U+009B is a CSI to a terminal. A JSON reader sees the same text.
std::string escape_json_controls(std::string_view json);

/// escape_for_terminal over a text that arrives in pieces (streamed tokens): a
/// UTF-8 sequence split between two pieces is held back until it is complete.
class terminal_escaper {
public:
    explicit terminal_escaper(line_breaks lb = line_breaks::keep) : lb_(lb) {}
    /// The printable form of everything up to the last complete character.
    std::string feed(std::string_view piece);
    /// What is still held back (an incomplete sequence), replaced by U+FFFD.
    std::string finish();

private:
    line_breaks lb_;
    std::string pending_;
};

} // namespace chatwire::cli
