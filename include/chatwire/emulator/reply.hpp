#pragma once
// The emulator's deterministic replies and the way it cuts them into tokens.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatwire::emulator {

/// One turn of a conversation.
struct turn {
    std::string role;  ///< "user" or "bot"
    /// What was said.
    std::string text;
};

/// What a reply depends on, folded as the conversation goes: the hash of the
/// seed, the chatbot and every earlier turn, so that answering a turn costs
/// the same however long the conversation already is.
class reply_context {
public:
    /// A context for a conversation with `chatbot`, replies varied by `seed`.
    reply_context(std::uint64_t seed, std::string_view chatbot);
    /// Folds in one more turn.
    void add(std::string_view role, std::string_view text);
    /// The reply to `message` after the turns added so far.
    std::string reply(std::string_view message) const;

private:
    std::uint64_t hash_;
    std::size_t user_turns_ = 0;
    std::string chatbot_;  ///< only the part a reply quotes
};

/// The reply a chatbot gives: a pure function of the seed, the chatbot, the
/// conversation so far and the new message (the rule is in docs/emulator.md).
/// Equal to a reply_context fed the same history.
std::string make_reply(std::uint64_t seed, std::string_view chatbot,
                       const std::vector<turn>& history, std::string_view message);

/// Splits text as a language model's tokenizer would: a word with its leading
/// space, a single punctuation mark, or a run of line breaks. Multi-byte UTF-8
/// characters are never split. Concatenating the tokens gives back `text`.
std::vector<std::string> tokenize(std::string_view text);

} // namespace chatwire::emulator
