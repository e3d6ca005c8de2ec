#include <chatwire/emulator/reply.hpp>

#include <array>

namespace chatwire::emulator {

namespace {

struct fnv1a {
    std::uint64_t h = 0xcbf29ce484222325ull;
    void add(std::string_view s) {
        for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    }
    void add_separator(unsigned char c) { h = (h ^ c) * 0x100000001b3ull; }
};

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr std::array<std::string_view, 6> openers = {
    "Sure", "Of course", "Happy to help", "Good question", "Let me see", "Right"};

constexpr std::array<std::string_view, 8> facts = {
    "The order ships within two business days.",
    "Your ticket has been forwarded to a human agent.",
    "Prices include taxes where they apply.",
    "Returns are free for thirty days.",
    "I can also summarise the previous answer.",
    "That depends on the plan you are on.",
    "Support is open around the clock.",
    "Let me know if anything else comes up.",
};

constexpr std::array<std::string_view, 4> places = {"café", "東京", "Zürich", "naïve"};

// The first `max` bytes of `s`, never cutting a UTF-8 character in two.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

bool is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

} // namespace

reply_context::reply_context(std::uint64_t seed, std::string_view chatbot)
    : chatbot_(utf8_prefix(chatbot.empty() ? std::string_view("bot") : chatbot, 32)) {
    fnv1a h;
    for (int i = 0; i < 8; ++i) h.add_separator(static_cast<unsigned char>(seed >> (8 * i)));
    h.add(chatbot);
    h.add_separator(0x1f);
    hash_ = h.h;
}

void reply_context::add(std::string_view role, std::string_view text) {
    fnv1a h{hash_};
    h.add(role);
    h.add_separator(0x1e);
    h.add(text);
    h.add_separator(0x1f);
    hash_ = h.h;
    if (role == "user") ++user_turns_;
}

std::string reply_context::reply(std::string_view message) const {
    fnv1a h{hash_};
    h.add(message);

    std::uint64_t rng = h.h;
    auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(splitmix64(rng) % n); };
    const auto opener = openers[pick(openers.size())];
    const auto first = pick(facts.size());
    const auto second = (first + 1 + pick(facts.size() - 1)) % facts.size();
    const auto place = places[pick(places.size())];

    std::string r;
    r.reserve(256);
    r += opener;
    r += "! You asked: \"";
    r += utf8_prefix(message, 48);
    r += "\" — ";
    r += facts[first];
    r += ' ';
    r += facts[second];
    r += "\nTurn ";
    r += std::to_string(user_turns_ + 1);
    r += " with ";
    r += chatbot_;
    r += " from ";
    r += place;
    r += " ✓ (see C:\\emu\\notes).";
    return r;
}

std::string make_reply(std::uint64_t seed, std::string_view chatbot, const std::vector<turn>& history,
                       std::string_view message) {
    reply_context ctx(seed, chatbot);
    for (const auto& t : history) ctx.add(t.role, t.text);
    return ctx.reply(message);
}

std::vector<std::string> tokenize(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    const auto n = text.size();
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    while (i < n) {
        std::size_t start = i;
        if (text[i] == '\n') {
            while (i < n && text[i] == '\n') ++i;
        } else {
            if (text[i] == ' ') ++i;
            if (i < n && is_word_byte(byte(i))) {
                while (i < n && is_word_byte(byte(i))) ++i;
            } else if (i < n && i == start + 1 && text[i] != ' ' && text[i] != '\n') {
                ++i;  // a space and one punctuation mark
            } else if (i == start) {
                ++i;  // a punctuation mark or any other single byte
            }
        }
        out.emplace_back(text.substr(start, i - start));
    }
    return out;
}

} // namespace chatwire::emulator
