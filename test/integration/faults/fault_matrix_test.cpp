// Every emulator fault kind against every client and both ways of receiving a
// reply. Each cell must end, within its deadline, in success or in the typed
// error the fault calls for, with no descriptor left open and the streamed
// text equal to (or, cut short, a prefix of) the fault-free reply. The
// limits are scaled to this run's pace, measured on the fault-free cells, so
// that a sanitizer or a busy machine changes no cell's outcome.
#define BOOST_TEST_MODULE integration_faults
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "run_coro.hpp"
#include "support.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/chatbotkit.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::errc;
using chatwire::error_code;
namespace ft = chatwire::faults_test;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view prompt = "Where is my order?";
constexpr std::uint64_t seed = 7;
using ms = std::chrono::milliseconds;

// Small stage limits, so that a stall ends in a timeout quickly: one `unit`
// for the first byte and the gaps, the stalls three, the whole operation
// five, and a cell must end within that plus room for the emulator's pauses.
struct limits {
    ms unit{1000};
    ms first_byte() const { return unit; }
    ms idle() const { return unit; }
    ms stall() const { return 3 * unit; }
    ms total() const { return 5 * unit; }
    ms cell_deadline() const { return total() + 3 * unit / 2; }
    ms connect() const { return 2 * unit; }
};

// The fault-free cells run before the pace is known: limits no slow run reaches.
constexpr limits warm_up{ms(30'000)};

// A fault-free cell typically took `typical` (the median: one scheduling
// hiccup on a busy machine does not set the pace): a unit of a second on a
// fast machine, and four times that where that is more.
limits scaled_limits(ms typical) { return limits{std::max(ms(1000), 4 * typical)}; }

limits now = warm_up;  // set from the fault-free cells, before the others run
constexpr std::size_t small_event = 64 * 1024;
constexpr std::size_t large_event = (std::size_t{16} << 20) + (1 << 20);  // past the 16 MiB event limit

// The ways a reply is asked for: chat_client for each API, and two routes
// that only the providers' own clients reach.
enum class target { vectorshift, chatbotkit, pollybot, vectorshift_v1, chatbotkit_stateless };
constexpr target targets[] = {target::vectorshift, target::chatbotkit, target::pollybot, target::vectorshift_v1,
                              target::chatbotkit_stateless};

std::string_view name(target t) {
    switch (t) {
    case target::vectorshift: return "vs";
    case target::chatbotkit: return "cbk";
    case target::pollybot: return "polly";
    case target::vectorshift_v1: return "vs-v1";
    case target::chatbotkit_stateless: return "cbk-stateless";
    }
    return "?";
}

// The fault rules aim at the reply's own route (ChatBotKit's chat_client
// first creates its conversation, which stays unharmed).
std::string_view route(target t) {
    switch (t) {
    case target::vectorshift: return "/api/chatbots/run";
    case target::chatbotkit: return "/api/v1/conversation/{id}/complete";
    case target::pollybot: return "/api/v1/chatbots/{id}/chat";
    case target::vectorshift_v1: return "/v1/chatbot/{id}/run";
    case target::chatbotkit_stateless: return "/api/v1/conversation/complete";
    }
    return "";
}

bool is_vectorshift(target t) { return t == target::vectorshift || t == target::vectorshift_v1; }

enum class fault {
    none, status_429, status_503, reset_before_response, reset_once_before_response, reset_after_events, stall_before_head, stall_mid_stream,
    truncate_after_events, drip, malformed_event, oversized_event_small, oversized_event_large, in_stream_error,
};
constexpr fault faults[] = {fault::none, fault::status_429, fault::status_503, fault::reset_before_response,
                            fault::reset_once_before_response, fault::reset_after_events, fault::stall_before_head, fault::stall_mid_stream,
                            fault::truncate_after_events, fault::drip, fault::malformed_event,
                            fault::oversized_event_small, fault::oversized_event_large, fault::in_stream_error};

std::string_view name(fault f) {
    switch (f) {
    case fault::none: return "none";
    case fault::status_429: return "status 429";
    case fault::status_503: return "status 503";
    case fault::reset_before_response: return "reset_before_response";
    case fault::reset_once_before_response: return "reset_before_response 1x";
    case fault::reset_after_events: return "reset_after_events 3";
    case fault::stall_before_head: return "stall 3 units (head)";
    case fault::stall_mid_stream: return "stall 3 units (3 ev)";
    case fault::truncate_after_events: return "truncate_after_events 3";
    case fault::drip: return "drip 32 B / 1 ms";
    case fault::malformed_event: return "malformed_event 2";
    case fault::oversized_event_small: return "oversized_event 64 KiB";
    case fault::oversized_event_large: return "oversized_event 17 MiB";
    case fault::in_stream_error: return "in_stream_error 3";
    }
    return "?";
}

std::string script(fault f, target t) {
    std::string rule;
    switch (f) {
    case fault::none: return "";
    case fault::status_429:
        rule = R"("kind":"status","status":429,"retry_after":2,"code":"SLOW_DOWN","message":"slow down")";
        break;
    case fault::status_503:
        rule = R"("kind":"status","status":503,"code":"MAINTENANCE","message":"down for maintenance")";
        break;
    case fault::reset_before_response: rule = R"("kind":"reset_before_response")"; break;
    // Once: a request the transport sends again would get through.
    case fault::reset_once_before_response: rule = R"("kind":"reset_before_response","times":1)"; break;
    case fault::reset_after_events: rule = R"("kind":"reset_after_events","reset_after_events":3)"; break;
    case fault::stall_before_head: rule = R"("kind":"stall_ms","stall_ms":)" + std::to_string(now.stall().count()); break;
    case fault::stall_mid_stream:
        rule = R"("kind":"stall_ms","stall_ms":)" + std::to_string(now.stall().count()) + R"(,"events":3)";
        break;
    case fault::truncate_after_events: rule = R"("kind":"truncate_after_events","truncate_after_events":3)"; break;
    case fault::drip: rule = R"("kind":"drip","bytes":32,"delay_ms":1)"; break;
    case fault::malformed_event: rule = R"("kind":"malformed_event","events":2)"; break;
    case fault::oversized_event_small:
        rule = R"("kind":"oversized_event","oversized_event":)" + std::to_string(small_event) + R"(,"events":2)";
        break;
    case fault::oversized_event_large:
        rule = R"("kind":"oversized_event","oversized_event":)" + std::to_string(large_event) + R"(,"events":2)";
        break;
    case fault::in_stream_error:
        rule = R"("kind":"in_stream_error","events":3,"code":"OVERLOADED","message":"model overloaded")";
        break;
    }
    return "[{\"route\":\"" + std::string(route(t)) + "\"," + rule + "}]";
}

// ---- what a cell must end in ------------------------------------------------------

enum class want {
    ok,               ///< the whole reply, exactly
    ok_prefix,        ///< a normal end with a strict prefix: the body ended well but early
    ok_with_x_run,    ///< the reply with one run of `x` (the inserted event's text) in it
    error,            ///< `code`, or any transport failure when `code` is empty
    ok_or_transport,  ///< either: the whole body may or may not be read before a reset
};

struct expectation {
    want w = want::ok;
    std::optional<errc> code;
    bool mid_stream = false;  ///< streamed: the send succeeds and next() fails
    int http_status = 0;
    std::string provider_code, provider_message;
    std::optional<std::chrono::milliseconds> retry_after;
    std::vector<chatwire::condition> conditions;  ///< classes the error must belong to
};

expectation error_of(std::optional<errc> code, bool mid_stream = false) {
    expectation e;
    e.w = want::error;
    e.code = code;
    e.mid_stream = mid_stream;
    return e;
}

expectation expected(fault f, target t, bool streamed) {
    expectation e;
    switch (f) {
    case fault::none:
    case fault::drip: return e;
    case fault::status_429:
    case fault::status_503: {
        e = error_of(f == fault::status_429 ? errc::rate_limited : errc::server_error);
        e.http_status = f == fault::status_429 ? 429 : 503;
        // VectorShift's error body carries a message but no code.
        if (!is_vectorshift(t)) e.provider_code = f == fault::status_429 ? "SLOW_DOWN" : "MAINTENANCE";
        e.provider_message = f == fault::status_429 ? "slow down" : "down for maintenance";
        if (f == fault::status_429) e.retry_after = 2000ms;
        e.conditions = {chatwire::condition::provider, chatwire::condition::retryable};
        if (f == fault::status_429) e.conditions.push_back(chatwire::condition::rate_limited);
        return e;
    }
    case fault::reset_before_response:
    case fault::reset_once_before_response:
        // The server read the request: a chat turn is not sent again behind the caller's back.
        e = error_of(std::nullopt);
        e.conditions = {chatwire::condition::retryable};  // nothing reached the user: safe to try again
        return e;
    case fault::reset_after_events:
        if (!streamed) {
            e.w = want::ok_or_transport;
            return e;
        }
        return error_of(std::nullopt);  // the reset may also overtake the head
    case fault::stall_before_head:
        e = error_of(errc::first_byte_timeout);
        e.conditions = {chatwire::condition::timeout, chatwire::condition::retryable};
        return e;
    case fault::stall_mid_stream:
        if (!streamed) return e;
        e = error_of(errc::idle_timeout, true);
        e.conditions = {chatwire::condition::timeout, chatwire::condition::transport};
        return e;
    case fault::truncate_after_events:
        if (!streamed) return e;
        // The legacy VectorShift stream has no terminal event: its end is the body's end.
        if (t == target::vectorshift) {
            e.w = want::ok_prefix;
            return e;
        }
        return error_of(errc::truncated_stream, true);
    case fault::malformed_event:
        return streamed ? error_of(errc::malformed_event, true) : error_of(errc::bad_response);
    case fault::oversized_event_small:
        // A token event of x's; VectorShift's mappers know no such event and skip it.
        if (streamed && !is_vectorshift(t)) e.w = want::ok_with_x_run;
        return e;
    case fault::oversized_event_large: return streamed ? error_of(errc::event_too_large, true) : e;
    case fault::in_stream_error:
        if (!streamed) return e;
        e = error_of(is_vectorshift(t) ? errc::run_failed : errc::stream_error, true);
        e.provider_message = "model overloaded";
        if (t == target::pollybot) e.provider_code = "OVERLOADED";  // only PollyBot's event carries a code
        return e;
    }
    return e;
}

// ---- running one cell ---------------------------------------------------------------

struct outcome {
    bool finished = false;
    bool failed_at_send = false;
    error_code ec;          ///< streamed: the send's error or next()'s final code
    std::string text;       ///< text_so_far(), or the whole reply
    std::string joined;     ///< the token events joined
    chatwire::diagnostics diag;
};

chatwire::http::client_options http_options(const std::string& pem) {
    chatwire::http::client_options h;
    h.tls.extra_ca_pem = pem;
    h.timeouts.connect = now.connect();
    h.timeouts.first_byte = now.first_byte();
    h.timeouts.idle = now.idle();
    h.timeouts.total = now.total();
    return h;
}

asio::awaitable<void> drain(chatwire::chat_stream& s, outcome& out) {
    for (;;) {
        auto [ec, ev] = co_await s.next();
        if (ec) {
            out.ec = ec;
            break;
        }
        if (ev.kind == chatwire::event_kind::token) out.joined.append(ev.text);
    }
    out.text = std::string(s.text_so_far());
    out.diag = s.get_diagnostics();
}

asio::awaitable<void> received(error_code ec, chatwire::chat_stream& s, chatwire::diagnostics& diag, outcome& out) {
    if (ec) {
        out.failed_at_send = true;
        out.ec = ec;
        out.diag = diag;
        co_return;
    }
    co_await drain(s, out);
}

asio::awaitable<void> run_cell(std::string base, std::string pem, target t, bool streamed, outcome& out) {
    auto ex = co_await asio::this_coro::executor;
    const auto http = http_options(pem);
    chatwire::diagnostics diag;
    const std::string message(prompt);
    switch (t) {
    case target::vectorshift:
    case target::chatbotkit:
    case target::pollybot: {
        chatwire::chat_options o;
        o.api = t == target::vectorshift  ? chatwire::api_kind::vectorshift
                : t == target::chatbotkit ? chatwire::api_kind::chatbotkit
                                          : chatwire::api_kind::pollybot;
        o.base_url = base + (t == target::chatbotkit ? "/api/v1" : "");
        o.api_key = "test-key";
        o.chatbot_id = "support-bot";
        o.http = http;
        o.retry = chatwire::retry_policy::none();  // each cell shows one attempt's outcome
        chatwire::chat_client c(ex, o);
        if (streamed) {
            auto [ec, s] = co_await c.async_send(message, "", diag, tuple_awaitable);
            co_await received(ec, s, diag, out);
        } else {
            auto [ec, reply] = co_await c.async_send_whole(message, "", diag, tuple_awaitable);
            out.ec = ec;
            out.text = reply.text;
            out.diag = diag;
        }
        break;
    }
    case target::vectorshift_v1: {
        chatwire::vectorshift::options o;
        o.base_url = base;
        o.api_key = "test-key";
        o.http = http;
        o.retry = chatwire::retry_policy::none();  // each cell shows one attempt's outcome
        chatwire::vectorshift::client c(ex, o);
        chatwire::vectorshift::v1_run_request req;
        req.chatbot_id = "support-bot";
        req.text = message;
        if (streamed) {
            auto [ec, s] = co_await c.async_run_v1_stream(req, diag, tuple_awaitable);
            co_await received(ec, s, diag, out);
        } else {
            auto [ec, reply] = co_await c.async_run_v1(req, diag, tuple_awaitable);
            out.ec = ec;
            out.text = reply.output_message;
            out.diag = diag;
        }
        break;
    }
    case target::chatbotkit_stateless: {
        chatwire::chatbotkit::options o;
        o.base_url = base + "/api/v1";
        o.secret = "test-key";
        o.http = http;
        o.retry = chatwire::retry_policy::none();  // each cell shows one attempt's outcome
        chatwire::chatbotkit::client c(ex, o);
        chatwire::chatbotkit::complete_request req;
        chatwire::chatbotkit::message m;
        m.type = "user";
        m.text = message;
        req.messages.push_back(std::move(m));
        if (streamed) {
            auto [ec, s] = co_await c.async_complete_stream(req, diag, tuple_awaitable);
            co_await received(ec, s, diag, out);
        } else {
            auto [ec, done] = co_await c.async_complete(req, diag, tuple_awaitable);
            out.ec = ec;
            out.text = done.text;
            out.diag = diag;
        }
        break;
    }
    }
    out.finished = true;
}

const chatwire::emulator::self_signed_certificate& certificate() {
    static const auto cert = chatwire::emulator::make_self_signed({"127.0.0.1", "localhost"});
    return cert;
}

struct cell_report {
    outcome out;
    std::chrono::milliseconds elapsed{0};
    std::size_t fds_before = 0, fds_after = 0;
    bool work_left = false;  ///< handlers still pending after everything was stopped
};

cell_report run(fault f, target t, bool streamed) {
    cell_report r;
    {
        asio::io_context io(1);
        chatwire::emulator::options o;
        o.seed = seed;
        o.certificate = certificate();
        o.faults_json = script(f, t);
        chatwire::emulator::server emu(io.get_executor(), chatwire::testing::with_test_protocol(o));
        // Counted with the io_context's own descriptors (made with the first
        // socket) and the emulator's listening socket, which stop() closes.
        r.fds_before = ft::open_fds() - 1;
        emu.start();
        const auto start = std::chrono::steady_clock::now();
        // The client lives in the coroutine's frame: it is gone once the cell ends.
        try {
            chatwire::testing::run_coro(io, run_cell(emu.base_url(), emu.certificate_pem(), t, streamed, r.out),
                                        std::chrono::ceil<std::chrono::seconds>(3 * now.total()));
        } catch (const std::exception& e) {
            r.out.diag.detail = std::string("escaped: ") + e.what();
        }
        r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        // Then the emulator's side: once stopped, nothing may be left to run.
        emu.stop();
        io.run_for(std::max<ms>(3s, 3 * now.unit));
        r.work_left = !io.stopped();
        r.fds_after = ft::open_fds();
    }
    return r;
}

// ---- judging a cell -----------------------------------------------------------------

struct reference {
    std::string streamed, whole;
};

bool has_x_run_inserted(std::string_view text, std::string_view ref, std::size_t n) {
    if (text.size() != ref.size() + n) return false;
    const std::string run(n, 'x');
    for (std::size_t p = 0; p <= ref.size(); ++p)
        if (text.substr(0, p) == ref.substr(0, p) && text.substr(p, n) == run && text.substr(p + n) == ref.substr(p))
            return true;
    return false;
}

std::vector<std::string> judge(const cell_report& r, const expectation& e, const std::string& ref, bool streamed) {
    std::vector<std::string> problems;
    const auto& o = r.out;
    if (!o.finished) {
        problems.push_back("did not finish " + o.diag.detail);
        return problems;
    }
    if (r.elapsed > now.cell_deadline()) problems.push_back("took " + std::to_string(r.elapsed.count()) + " ms");
    if (r.fds_after != r.fds_before)
        problems.push_back("descriptors " + std::to_string(r.fds_before) + " -> " + std::to_string(r.fds_after));
    if (r.work_left) problems.push_back("work left after stop");
    if (streamed && !o.failed_at_send && o.joined != o.text) problems.push_back("token events differ from text_so_far");

    const bool success = streamed ? (!o.failed_at_send && o.ec == errc::end_of_stream) : !o.ec;
    const auto got = ft::error_name(o.ec);
    switch (e.w) {
    case want::ok:
        if (!success) problems.push_back("expected success, got " + got + " " + o.diag.to_string());
        else if (o.text != ref) problems.push_back("text differs from the fault-free reply");
        break;
    case want::ok_prefix:
        if (!success) problems.push_back("expected a normal end, got " + got);
        else if (o.text.size() >= ref.size() || !ft::is_prefix(o.text, ref))
            problems.push_back("text is not a strict prefix");
        break;
    case want::ok_with_x_run:
        if (!success) problems.push_back("expected success, got " + got + " " + o.diag.to_string());
        else if (!has_x_run_inserted(o.text, ref, o.text.size() - std::min(o.text.size(), ref.size())) ||
                 o.text.size() <= ref.size())
            problems.push_back("text is not the reply with the inserted event");
        break;
    case want::ok_or_transport:
        if (success) {
            if (o.text != ref) problems.push_back("text differs from the fault-free reply");
        } else if (o.ec != chatwire::condition::transport) {
            problems.push_back("expected success or a transport error, got " + got);
        }
        break;
    case want::error:
        if (success || (streamed && o.ec == errc::end_of_stream)) {
            problems.push_back("expected an error, got success");
            break;
        }
        if (e.code ? o.ec != *e.code : o.ec != chatwire::condition::transport)
            problems.push_back("expected " + (e.code ? ft::error_name(make_error_code(*e.code)) : std::string("transport")) +
                               ", got " + got + " (" + o.ec.message() + ") " + o.diag.to_string());
        if (streamed && e.mid_stream && o.failed_at_send) problems.push_back("failed at the send, not mid-stream");
        if (streamed && !ft::is_prefix(o.text, ref)) problems.push_back("partial text is not a prefix of the reply");
        // Every mid-stream fault here comes after at least one token.
        if (streamed && e.mid_stream && o.text.empty()) problems.push_back("the text before the fault was lost");
        for (auto c : e.conditions)
            if (o.ec != c) problems.push_back("not a " + chatwire::make_error_condition(c).message());
        if (e.http_status && o.diag.http_status != e.http_status)
            problems.push_back("http_status " + std::to_string(o.diag.http_status));
        if (!e.provider_code.empty() && o.diag.provider_code != e.provider_code)
            problems.push_back("provider_code '" + o.diag.provider_code + "'");
        if (!e.provider_message.empty() && o.diag.provider_message != e.provider_message)
            problems.push_back("provider_message '" + o.diag.provider_message + "'");
        if (e.retry_after && o.diag.retry_after != e.retry_after) problems.push_back("retry_after not kept");
        break;
    }
    return problems;
}

// Cells that expose a library bug not fixed here: they still run and print,
// and fail the test only if they start passing (so that the mark is removed).
struct known_failure {
    fault f;
    target t;
    bool streamed;
    std::string_view why;
};
// None now: a POST the server read and then reset is no longer sent again
// (only a request that never fully left, or a clean close, is resent).
const std::vector<known_failure> known_failures{};

std::optional<std::string_view> is_known(fault f, target t, bool streamed) {
    for (const auto& k : known_failures)
        if (k.f == f && k.t == t && k.streamed == streamed) return k.why;
    return std::nullopt;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_fault_against_every_client) {
    // The fault-free replies, from an emulator with the same seed.
    std::map<target, reference> refs;
    now = warm_up;
    std::vector<ms> fault_free;
    for (auto t : targets) {
        for (bool streamed : {true, false}) {
            auto r = run(fault::none, t, streamed);
            fault_free.push_back(r.elapsed);
            BOOST_TEST_REQUIRE(r.out.finished);
            BOOST_TEST_REQUIRE(!r.out.text.empty(), name(t) << ": " << ft::error_name(r.out.ec));
            (streamed ? refs[t].streamed : refs[t].whole) = r.out.text;
        }
        BOOST_TEST(refs[t].streamed == refs[t].whole, name(t) << ": the streamed reply is the whole one");
    }
    std::sort(fault_free.begin(), fault_free.end());
    const auto typical = fault_free[fault_free.size() / 2];
    now = scaled_limits(typical);
    std::cout << "fault-free cells " << fault_free.front().count() << " to " << fault_free.back().count()
              << " ms, median " << typical.count() << " ms: limits in units of " << now.unit.count() << " ms\n";

    std::ostringstream table, details;
    constexpr int first_width = 26, width = 21;
    table << std::left << std::setw(first_width) << "fault";
    for (auto t : targets)
        for (bool streamed : {true, false})
            table << std::setw(width) << (std::string(name(t)) + (streamed ? "/stream" : "/whole"));
    table << "\n";

    int failures = 0, known = 0;
    for (auto f : faults) {
        table << std::setw(first_width) << name(f);
        for (auto t : targets) {
            for (bool streamed : {true, false}) {
                const auto r = run(f, t, streamed);
                const auto& ref = streamed ? refs[t].streamed : refs[t].whole;
                const auto want_here = expected(f, t, streamed);
                const auto problems = judge(r, want_here, ref, streamed);
                const auto why = is_known(f, t, streamed);
                std::string cell;
                const std::string where = std::string(name(f)) + " x " + std::string(name(t)) +
                                          (streamed ? "/stream" : "/whole");
                if (problems.empty()) {
                    const bool success = streamed ? r.out.ec == errc::end_of_stream : !r.out.ec;
                    cell = !success ? ft::error_name(r.out.ec) : want_here.w == want::ok_prefix ? "ok (prefix)" : "ok";
                    if (why) {
                        ++failures;
                        details << "KNOWN FAILURE NOW PASSES " << where << ": remove its mark\n";
                    }
                } else if (why) {
                    ++known;
                    cell = "KNOWN: " + ft::error_name(r.out.ec);
                    details << "known failure " << where << ": " << *why << ":";
                    for (const auto& p : problems) details << " [" << p << "]";
                    details << "\n";
                } else {
                    ++failures;
                    cell = "FAIL: " + ft::error_name(r.out.ec);
                    details << "FAIL " << where << ":";
                    for (const auto& p : problems) details << " [" << p << "]";
                    details << "\n";
                }
                table << std::setw(width) << cell;
            }
        }
        table << "\n";
    }
    std::cout << table.str() << details.str() << std::flush;
    BOOST_TEST(failures == 0, details.str());
    if (known) BOOST_TEST_MESSAGE(known << " known failure(s), see above");
}
