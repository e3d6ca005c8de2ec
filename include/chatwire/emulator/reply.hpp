#pragma once
// The emulator's deterministic replies and the way it cuts them into tokens.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatwire::emulator {

struct turn {
    std::string role;  ///< "user" or "bot"
    std::string text;
};

/// The reply a chatbot gives: a pure function of the seed, the chatbot, the
/// conversation so far and the new message (the rule is in the README).
std::string make_reply(std::uint64_t seed, std::string_view chatbot,
                       const std::vector<turn>& history, std::string_view message);

/// Splits text as a language model's tokenizer would: a word with its leading
/// space, a single punctuation mark, or a run of line breaks. Multi-byte UTF-8
/// characters are never split. Concatenating the tokens gives back `text`.
std::vector<std::string> tokenize(std::string_view text);

} // namespace chatwire::emulator
