// reply_decoder without sockets: the same outcome at every split of the body,
// the same outcome as the framing decoders and mappers driven by hand (the
// way chat_stream did before it had the decoder), and its limits and ends.
#include <boost/test/unit_test.hpp>

#include <chatwire/stream/reply_decoder.hpp>

#include <boost/asio/error.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using chatwire::errc;
using chatwire::error_code;
using namespace chatwire::stream;

namespace {

struct outcome {
    std::vector<owned_event> events;
    error_code end;
    std::string text;
    std::string conversation_id;
    bool terminal = false;

    bool operator==(const outcome& o) const {
        if (events.size() != o.events.size()) return false;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const auto &a = events[i], &b = o.events[i];
            if (a.kind != b.kind || a.text != b.text || a.conversation_id != b.conversation_id || a.id != b.id ||
                a.error_code != b.error_code)
                return false;
        }
        return end == o.end && text == o.text && conversation_id == o.conversation_id && terminal == o.terminal;
    }
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    os << "{events=" << o.events.size() << " end=" << o.end.message() << " text=[" << o.text << "] conv=["
       << o.conversation_id << "]}";
    return os;
}

std::vector<std::string> split_every(const std::string& body, std::size_t n) {
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < body.size(); at += n) pieces.push_back(body.substr(at, n));
    return pieces;
}

// Drains events into `out`; true when the reply ended.
bool drain(reply_decoder& d, outcome& out) {
    error_code ec;
    event ev;
    while (d.next(ec, ev)) {
        if (ec) {
            if (!ev.raw.empty()) out.events.push_back(ev.to_owned());
            out.end = ec;
            return true;
        }
        out.events.push_back(ev.to_owned());
    }
    return false;
}

outcome decode(format f, const std::vector<std::string>& pieces, error_code body_end = errc::end_of_stream,
               reply_options options = {}) {
    reply_decoder d(f, options);
    outcome out;
    bool ended = false;
    for (const auto& piece : pieces) {  // each piece stays valid until next() asks for more
        d.feed(piece);
        if ((ended = drain(d, out))) break;
    }
    if (!ended) {
        d.finish(body_end);
        drain(d, out);
    }
    out.text = d.text_so_far();
    out.conversation_id = d.conversation_id();
    out.terminal = d.terminal_seen();
    return out;
}

// The stream driver as it was before reply_decoder: a framing decoder and a
// mapper driven by hand, VectorShift's bare JSON lines told by the first piece,
// stopping at the API's terminal event.
template <class Mapper>
outcome reference(const std::vector<std::string>& pieces, bool json_lines, bool sniff) {
    Mapper mapper;
    sse_decoder sse;
    jsonl_decoder jsonl;
    chatwire::diagnostics diag;
    outcome out;
    bool first = true;
    auto pump = [&]() -> bool {
        for (;;) {
            std::string_view payload;
            error_code ec;
            decode_status s;
            if (json_lines) {
                s = jsonl.next(payload, ec);
            } else {
                sse_event e;
                s = sse.next(e, ec);
                payload = e.data;
            }
            if (s == decode_status::need_more) return false;
            if (s == decode_status::error) {
                out.end = ec;
                return true;
            }
            event ev;
            bool produced = false;
            ec = mapper.map(payload, ev, produced, diag);
            if (produced) {
                out.events.push_back(ev.to_owned());
                if (!ev.conversation_id.empty()) out.conversation_id = ev.conversation_id;
            }
            if (ec) {
                out.end = ec;
                return true;
            }
            // The reply ends at the first final reply or end marker.
            if (produced && (ev.kind == event_kind::result || ev.kind == event_kind::done)) {
                out.end = errc::end_of_stream;
                return true;
            }
        }
    };
    bool ended = false;
    for (const auto& piece : pieces) {
        if (first && sniff) json_lines = vectorshift_mapper::body_is_bare_json(piece);
        first = false;
        if (json_lines) jsonl.feed(piece);
        else sse.feed(piece);
        if ((ended = pump())) break;
    }
    if (!ended) {
        if (json_lines) jsonl.finish();
        else sse.finish();
        if (!pump()) out.end = mapper.terminal_seen() ? errc::end_of_stream : errc::truncated_stream;
    }
    out.text = mapper.text_so_far();
    out.terminal = mapper.terminal_seen();
    return out;
}

outcome reference(format f, const std::vector<std::string>& pieces) {
    switch (f) {
    case format::pollybot_sse: return reference<pollybot_mapper>(pieces, false, false);
    case format::chatbotkit_jsonl: return reference<chatbotkit_mapper>(pieces, true, false);
    case format::vectorshift_sse: break;
    }
    return reference<vectorshift_mapper>(pieces, false, true);
}

std::string fixture(const char* name) {
    std::ifstream in(std::string(CHATWIRE_CLI_FIXTURES) + "/" + name, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct sample {
    format f;
    std::string body;
};

std::vector<sample> samples() {
    return {
        {format::pollybot_sse, fixture("pollybot.sse")},
        {format::pollybot_sse, fixture("pollybot_error.sse")},
        {format::pollybot_sse, fixture("pollybot_truncated.sse")},
        {format::chatbotkit_jsonl, fixture("chatbotkit.jsonl")},
        {format::chatbotkit_jsonl, fixture("malformed.jsonl")},
        {format::vectorshift_sse, fixture("vectorshift_cumulative.sse")},
        {format::vectorshift_sse, fixture("vectorshift_v1.sse")},
        {format::vectorshift_sse, "{\"output\":\"Hel\",\"conversation_id\":\"c\"}\n"
                                  "{\"output\":\"Hello\",\"conversation_id\":\"c\"}\r\n"},
        {format::vectorshift_sse, "\xEF\xBB\xBF" "data: {\"output\":\"a\"}\r\n\r\ndata: {\"output\":\"ab\"}\r\n\r\n"},
        {format::chatbotkit_jsonl, "{\"type\":\"token\",\"data\":{\"token\":\"x\"}}\n\n"
                                   "{\"type\":\"result\",\"data\":{\"text\":\"x\"}}"},  // no final LF
        // Lines after the terminal event, well-formed or not, are never decoded.
        {format::chatbotkit_jsonl, "{\"type\":\"result\",\"data\":{\"text\":\"x\"}}\n"
                                   "{\"type\":\"token\",\"data\":{\"token\":\"y\"}}\nnot json\n"},
        {format::vectorshift_sse, "data: {\"type\":\"stream\",\"output_value\":\"a\"}\n\ndata: {\"status\":\"success\"}\n\n"
                                  "data: {\"type\":\"stream\",\"output_value\":\"b\"}\n\n"},
    };
}

} // namespace

BOOST_AUTO_TEST_CASE(every_split_point_gives_the_same_reply) {
    for (const auto& s : samples()) {
        const outcome whole = decode(s.f, {s.body});
        BOOST_TEST_CONTEXT("body: " << s.body) {
            BOOST_TEST(decode(s.f, split_every(s.body, 1)) == whole);
            for (std::size_t at = 1; at < s.body.size(); ++at)
                BOOST_TEST(decode(s.f, {s.body.substr(0, at), s.body.substr(at)}) == whole, "split at " << at);
        }
    }
}

BOOST_AUTO_TEST_CASE(same_reply_as_the_decoders_and_mappers_driven_by_hand) {
    for (const auto& s : samples()) {
        for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, s.body.size()}) {
            // By hand, VectorShift's framing was told by the first piece alone:
            // a one-byte first piece of a BOM could not tell it.
            if (piece < 4 && s.body.starts_with("\xEF")) continue;
            const auto pieces = split_every(s.body, piece);
            BOOST_TEST(decode(s.f, pieces) == reference(s.f, pieces), "piece " << piece << " body " << s.body);
        }
    }
}

BOOST_AUTO_TEST_CASE(vectorshift_framing_waits_for_a_significant_byte) {
    const std::string body = "\xEF\xBB\xBF \r\n{\"output\":\"hi\",\"conversation_id\":\"c\"}\n";
    for (std::size_t piece = 1; piece <= body.size(); ++piece) {
        const outcome o = decode(format::vectorshift_sse, split_every(body, piece));
        BOOST_TEST(o.end == error_code(errc::end_of_stream), "piece " << piece << ": " << o.end.message());
        BOOST_TEST(o.text == "hi");
        BOOST_TEST(o.conversation_id == "c");
    }
    // Only blanks: an SSE body without events, hence truncated.
    BOOST_TEST(decode(format::vectorshift_sse, {" \n", "\n"}).end == error_code(errc::truncated_stream));
}

BOOST_AUTO_TEST_CASE(a_body_that_ends_early_is_truncated_and_keeps_the_text) {
    reply_decoder d(format::pollybot_sse);
    d.feed("data: {\"type\":\"token\",\"content\":\"Hel\"}\n\ndata: {\"type\":\"tok");
    error_code ec;
    event ev;
    BOOST_TEST_REQUIRE(d.next(ec, ev));
    BOOST_TEST(!ec);
    BOOST_TEST(d.next(ec, ev) == false);
    d.finish(errc::end_of_stream);
    BOOST_TEST(d.ended_inside_event());
    BOOST_TEST_REQUIRE(d.next(ec, ev));
    BOOST_TEST(ec == error_code(errc::truncated_stream));
    BOOST_TEST(d.text_so_far() == "Hel");
    BOOST_TEST(d.payload_count() == 1u);
    // The final code sticks.
    BOOST_TEST(d.next(ec, ev));
    BOOST_TEST(ec == error_code(errc::truncated_stream));
}

BOOST_AUTO_TEST_CASE(a_broken_connection_is_a_truncated_stream_with_its_cause) {
    const outcome o = decode(format::pollybot_sse, {"data: {\"type\":\"token\",\"content\":\"a\"}\n\n"},
                             boost::asio::error::connection_reset);
    BOOST_TEST(o.end == error_code(errc::truncated_stream));
    BOOST_TEST(o.text == "a");
    reply_decoder d(format::pollybot_sse);
    d.finish(boost::asio::error::connection_reset);
    BOOST_TEST(d.diagnostics().detail.find("the connection broke") == 0u, d.diagnostics().detail);
    reply_decoder e(format::pollybot_sse);
    e.finish(errc::unsupported_encoding, "Content-Encoding: gzip");
    error_code ec;
    event ev;
    BOOST_TEST(e.next(ec, ev));
    BOOST_TEST(ec == error_code(errc::unsupported_encoding));
    BOOST_TEST(e.diagnostics().detail == "Content-Encoding: gzip");
}

BOOST_AUTO_TEST_CASE(the_provider_error_event_comes_with_its_code) {
    const outcome o = decode(format::pollybot_sse, {fixture("pollybot_error.sse")});
    BOOST_TEST(o.end == error_code(errc::stream_error));
    BOOST_TEST_REQUIRE(!o.events.empty());
    BOOST_TEST(to_string(o.events.back().kind) == "error");
    BOOST_TEST(o.events.back().error_code == "INSUFFICIENT_CREDITS");
}

BOOST_AUTO_TEST_CASE(a_reply_longer_than_the_limit_ends_with_the_text_before_it) {
    reply_options small;
    small.max_reply_bytes = 10;
    std::string polly;
    for (int i = 0; i < 5; ++i) polly += "data: {\"type\":\"token\",\"content\":\"abc\"}\n\n";
    polly += "data: {\"type\":\"done\"}\n\n";
    const outcome p = decode(format::pollybot_sse, {polly}, errc::end_of_stream, small);
    BOOST_TEST(p.end == error_code(errc::reply_too_large), p.end.message());
    BOOST_TEST(p.text == "abcabcabc");
    BOOST_TEST(p.events.size() == 3u);

    std::string cbk;
    for (int i = 0; i < 5; ++i) cbk += "{\"type\":\"token\",\"data\":{\"token\":\"abcd\"}}\n";
    const outcome c = decode(format::chatbotkit_jsonl, split_every(cbk, 5), errc::end_of_stream, small);
    BOOST_TEST(c.end == error_code(errc::reply_too_large));
    BOOST_TEST(c.text == "abcdabcd");

    // Cumulative VectorShift: each event resends the whole text.
    std::string vs, so_far;
    for (int i = 0; i < 5; ++i) {
        so_far += "xyz";
        vs += "data: {\"output\":\"" + so_far + "\"}\n\n";
    }
    const outcome v = decode(format::vectorshift_sse, {vs}, errc::end_of_stream, small);
    BOOST_TEST(v.end == error_code(errc::reply_too_large));
    BOOST_TEST(v.text == "xyzxyzxyz");

    reply_decoder d(format::pollybot_sse, small);
    d.feed(polly);
    error_code ec;
    event ev;
    while (d.next(ec, ev) && !ec) {}
    BOOST_TEST(d.diagnostics().detail.find("10 bytes") != std::string::npos, d.diagnostics().detail);
    BOOST_TEST(ec.message() == "reply text exceeds the configured maximum size");
}

BOOST_AUTO_TEST_CASE(an_event_larger_than_the_limit_is_refused) {
    reply_options small;
    small.max_event_bytes = 64;
    const outcome o = decode(format::pollybot_sse, {"data: " + std::string(100, 'x') + "\n\n"}, errc::end_of_stream,
                             small);
    BOOST_TEST(o.end == error_code(errc::event_too_large));
}

BOOST_AUTO_TEST_CASE(forced_framing_and_a_known_conversation) {
    reply_options sse;
    sse.frame = framing::sse;
    // Forced SSE: a VectorShift body of bare JSON is not sniffed.
    const outcome o = decode(format::vectorshift_sse, {"{\"output\":\"a\"}\n"}, errc::end_of_stream, sse);
    BOOST_TEST(o.end == error_code(errc::truncated_stream));
    reply_decoder d(format::pollybot_sse, {}, "known");
    BOOST_TEST(d.conversation_id() == "known");
}

namespace {

struct ended_case {
    format f;
    std::string reply;             // up to and with the terminal event
    std::vector<std::string> kinds;  // of the reply's events
};

} // namespace

// The reply ends at the API's terminal event: what follows it (events, a
// provider error, garbage, a `[DONE]` after PollyBot's `done`) is never
// decoded, and the end comes without the body's end.
BOOST_AUTO_TEST_CASE(the_reply_ends_at_its_terminal_event_whatever_follows) {
    const std::string sse_after = "data: {\"type\":\"token\",\"content\":\"EXTRA\",\"output\":\"EXTRA\"}\n\n"
                                  "data: {\"type\":\"error\",\"error\":\"EXTRA\",\"status\":\"failed\"}\n\ndata: {nope\n\n";
    const std::string jsonl_after = "{\"type\":\"token\",\"data\":{\"token\":\"EXTRA\"},\"output\":\"EXTRA\"}\n"
                                    "{\"type\":\"error\",\"data\":{\"message\":\"EXTRA\"}}\nnot json\n";
    const std::vector<ended_case> cases = {
        {format::pollybot_sse,
         "data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n"
         "data: {\"type\":\"done\",\"data\":{\"response\":\"Hi\"}}\n\ndata: [DONE]\n\n",
         {"token", "result"}},
        {format::pollybot_sse, "data: {\"type\":\"token\",\"content\":\"Hi\"}\n\ndata: [DONE]\n\n", {"token", "done"}},
        {format::chatbotkit_jsonl,
         "{\"type\":\"token\",\"data\":{\"token\":\"Hi\"}}\n{\"type\":\"result\",\"data\":{\"text\":\"Hi\"}}\n",
         {"token", "result"}},
        {format::vectorshift_sse, "data: {\"output\":\"Hi\"}\n\ndata: [DONE]\n\n", {"token", "done"}},
        {format::vectorshift_sse, "{\"output\":\"Hi\"}\n[DONE]\n", {"token", "done"}},
        {format::vectorshift_sse,
         "data: {\"type\":\"stream\",\"output_value\":\"Hi\"}\n\n"
         "data: {\"status\":\"success\",\"output_message\":\"Hi\"}\n\n",
         {"token", "result"}},
    };
    for (const auto& c : cases) {
        const bool jsonl = c.f == format::chatbotkit_jsonl || c.reply.front() == '{';
        const std::string body = c.reply + (jsonl ? jsonl_after : sse_after);
        for (std::size_t piece : {std::size_t{1}, std::size_t{5}, body.size()}) {
            BOOST_TEST_CONTEXT("piece " << piece << " body " << body) {
                reply_decoder d(c.f);
                outcome out;
                bool ended = false;
                for (const auto& p : split_every(body, piece)) {
                    d.feed(p);
                    if ((ended = drain(d, out))) break;
                }
                BOOST_TEST(ended);  // without finish(): the body may still be open
                BOOST_TEST(out.end == error_code(errc::end_of_stream), out.end.message());
                BOOST_TEST(d.reply_complete());
                BOOST_TEST(d.text_so_far() == "Hi");
                std::vector<std::string> kinds;
                for (const auto& ev : out.events) kinds.emplace_back(to_string(ev.kind));
                BOOST_TEST(kinds == c.kinds, boost::test_tools::per_element());
                // More bytes and the body's end change nothing.
                d.feed(body);
                d.finish(errc::truncated_stream);
                error_code ec;
                event ev;
                BOOST_TEST(d.next(ec, ev));
                BOOST_TEST(ec == error_code(errc::end_of_stream));
                BOOST_TEST(d.text_so_far() == "Hi");
            }
        }
    }
}

// A stream without a terminal event (VectorShift's legacy endpoint) still
// ends with its body; its reply is complete only then.
BOOST_AUTO_TEST_CASE(a_stream_without_a_terminal_event_ends_with_its_body) {
    reply_decoder d(format::vectorshift_sse);
    d.feed("data: {\"output\":\"H\"}\n\ndata: {\"output\":\"Hi\"}\n\n");
    outcome out;
    BOOST_TEST(!drain(d, out));
    BOOST_TEST(out.events.size() == 2u);
    BOOST_TEST(!d.reply_complete());
    d.finish(errc::end_of_stream);
    BOOST_TEST(drain(d, out));
    BOOST_TEST(out.end == error_code(errc::end_of_stream));
    BOOST_TEST(d.reply_complete());
    BOOST_TEST(d.text_so_far() == "Hi");
}
