#include <chatwire/emulator/reply.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

namespace emu = chatwire::emulator;

BOOST_AUTO_TEST_SUITE(emulator_reply)

BOOST_AUTO_TEST_CASE(same_inputs_same_reply) {
    std::vector<emu::turn> history{{"user", "hi"}, {"bot", "hello"}};
    auto a = emu::make_reply(7, "bot_1", history, "Where is my order?");
    auto b = emu::make_reply(7, "bot_1", history, "Where is my order?");
    BOOST_TEST(a == b);
    BOOST_TEST(a.find("Where is my order?") != std::string::npos);
    BOOST_TEST(a.find("Turn 2") != std::string::npos);  // one user turn before
}

BOOST_AUTO_TEST_CASE(every_input_changes_the_reply) {
    std::vector<emu::turn> history{{"user", "hi"}};
    const auto base = emu::make_reply(1, "bot", history, "question");
    std::set<std::string> replies{base};
    // Some of these may collide on the wording; across seeds, bots and histories most must differ.
    for (std::uint64_t seed = 2; seed < 10; ++seed) replies.insert(emu::make_reply(seed, "bot", history, "question"));
    BOOST_TEST(replies.size() > 3u);
    BOOST_TEST(emu::make_reply(1, "other", history, "question") != base);
    BOOST_TEST(emu::make_reply(1, "bot", {}, "question") != base);
}

BOOST_AUTO_TEST_CASE(reply_has_utf8_and_json_escapes) {
    auto r = emu::make_reply(0, "bot", {}, "x");
    BOOST_TEST(r.find('"') != std::string::npos);
    BOOST_TEST(r.find('\\') != std::string::npos);
    BOOST_TEST(r.find('\n') != std::string::npos);
    BOOST_TEST(r.find("\xE2\x80\x94") != std::string::npos);  // an em dash
}

BOOST_AUTO_TEST_CASE(long_message_is_cut_on_a_character_boundary) {
    std::string msg;
    for (int i = 0; i < 30; ++i) msg += "\xC3\xA9";  // é, two bytes each
    auto r = emu::make_reply(0, "bot", {}, msg);
    auto start = r.find("\"") + 1;
    auto end = r.find("\"", start);
    BOOST_TEST((end - start) % 2 == 0u);
}

BOOST_AUTO_TEST_CASE(tokens_concatenate_to_the_text) {
    const std::string text = "Hello, world! It's \"quoted\" \\ C:\\x\n\nnew café 東京 ✓.";
    auto tokens = emu::tokenize(text);
    std::string joined;
    for (const auto& t : tokens) joined += t;
    BOOST_TEST(joined == text);
    BOOST_TEST(tokens.size() > 10u);
    BOOST_TEST(tokens[0] == "Hello");
    BOOST_TEST(tokens[1] == ",");
    BOOST_TEST(tokens[2] == " world");
    BOOST_TEST(tokens[3] == "!");
    // A multi-byte word stays whole.
    BOOST_TEST((std::find(tokens.begin(), tokens.end(), " café") != tokens.end()));
    BOOST_TEST((std::find(tokens.begin(), tokens.end(), "\n\n") != tokens.end()));
}

BOOST_AUTO_TEST_SUITE_END()
