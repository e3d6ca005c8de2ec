// Many concurrent streams, on one thread, against an in-process emulator whose
// fault script hits a share of them. Every stream must end with the exact
// reply, or with a typed error whose partial text is a prefix of it: no token
// lost or duplicated. CHATWIRE_FAULT_LOAD_STREAMS sets how many (default 2,000).
// The client's limits are scaled to this run's pace (a sanitizer or a busy
// machine makes it many times slower), so that only the fault rules decide
// which streams fail.
#define BOOST_TEST_MODULE stress_faults
#include <boost/test/unit_test.hpp>

#include "emulated.hpp"
#include "support.hpp"

#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using chatwire::api_kind;
using chatwire::errc;
using chatwire::error_code;
namespace ft = chatwire::faults_test;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t seed = 11;
constexpr api_kind apis[] = {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot};
constexpr const char* prompts[] = {"Where is my order?", "Can I change the address?", "Refund please",
                                   "What are your opening hours?"};
constexpr std::size_t prompt_count = std::size(prompts);
using ms = std::chrono::milliseconds;

std::size_t streams_wanted() {
    if (const char* v = std::getenv("CHATWIRE_FAULT_LOAD_STREAMS"))
        if (auto n = std::strtoull(v, nullptr, 10); n > 0) return n;
    return 2000;
}

std::string_view route(api_kind a) {
    switch (a) {
    case api_kind::vectorshift: return "/api/chatbots/run";
    case api_kind::chatbotkit: return "/api/v1/conversation/{id}/complete";
    case api_kind::pollybot: return "/api/v1/chatbots/{id}/chat";
    }
    return "";
}

/// The client's limits, and the stall that must outlast the idle one.
struct limits {
    ms first_byte{20s}, idle{5s}, total{50s}, stall{8s};
};

/// From `pace`, the warm-up's time per fault-free reply (many at once on this
/// run's one thread): the load takes about `streams` x `pace` in all. A head
/// may wait for most of that work, twice over for a margin; the gap between
/// two events is a round over the other streams' next events, a fraction of
/// it. The fixed values of a fast machine stay the floor.
limits scaled_limits(std::chrono::microseconds pace, std::size_t streams) {
    const auto load = std::chrono::ceil<ms>(pace * static_cast<long>(streams));
    limits l;
    l.first_byte = std::max(l.first_byte, 2 * load);
    l.idle = std::max(l.idle, load / 4);
    l.stall = std::max(l.stall, l.idle + l.idle / 2);  // a stalled stream still ends in an idle timeout
    l.total = std::max(l.total, l.first_byte + l.stall + 2 * load);
    return l;
}

/// How many requests of each route a rule with share `f` reaches.
std::size_t share_of(std::size_t streams, double f) {
    return std::max<std::size_t>(1, std::size_t(double(streams / std::size(apis)) * f));
}

/// The widest share among the rules that fail a stream (malformed_event).
/// Rules are spent by the first requests of a route, so no stream beyond
/// that many per route can fail.
constexpr double failing_share = 0.24;

// Rules are spent by the requests that reach them first and every matching
// rule applies, in order. So the rules go from the widest share to the
// narrowest: the first requests of a route get all of them and show the last
// (a status replaces the whole answer), later ones fewer, most none. About a
// third of the streams see some fault.
std::string fault_script(std::size_t streams, ms stall) {
    const auto share = [&](double f) { return std::to_string(share_of(streams, f)); };
    std::string rules;
    for (auto a : apis) {
        const std::string r = "{\"route\":\"" + std::string(route(a)) + "\",\"times\":";
        rules += r + share(0.32) + R"(,"kind":"drip","bytes":48,"delay_ms":2},)";
        rules += r + share(failing_share) + R"(,"kind":"malformed_event","events":8},)";
        // A legacy VectorShift stream has no terminal event: cut short but well
        // ended, it cannot be told from a whole one (a matrix cell shows it).
        if (a != api_kind::vectorshift)
            rules += r + share(0.18) + R"(,"kind":"truncate_after_events","truncate_after_events":7},)";
        rules += r + share(0.14) + R"(,"kind":"in_stream_error","events":3,"message":"model overloaded"},)";
        rules += r + share(0.10) + R"(,"kind":"reset_after_events","reset_after_events":2},)";
        rules += r + share(0.07) + R"(,"kind":"stall_ms","stall_ms":)" + std::to_string(stall.count()) + R"(,"events":1},)";
        // Not on ChatBotKit's completion, which goes over the connection that
        // created the conversation: the transport would send it again (see
        // the fault matrix's known failure), doubling the turn.
        if (a != api_kind::chatbotkit) rules += r + share(0.04) + R"(,"kind":"reset_before_response"},)";
        rules += r + share(0.02) + R"(,"kind":"status","status":503,"code":"MAINTENANCE"},)";
    }
    rules.pop_back();
    return "[" + rules + "]";
}

chatwire::chat_options options_for(const chatwire::emulator::server& emu, api_kind a, std::size_t streams,
                                   const limits& l) {
    chatwire::chat_options o;
    o.api = a;
    o.base_url = emu.base_url() + (a == api_kind::chatbotkit ? "/api/v1" : "");
    o.api_key = "test-key";
    o.chatbot_id = "support-bot";
    o.http.tls.extra_ca_pem = emu.certificate_pem();
    o.retry = chatwire::retry_policy::none();  // every fault reaches the stream it hit
    o.http.max_connections_per_origin = streams + 16;  // every stream holds its connection to the end
    // Generous for a loaded single thread, yet a stalled stream ends in an idle timeout.
    o.http.timeouts.connect = l.first_byte;
    o.http.timeouts.first_byte = l.first_byte;
    o.http.timeouts.idle = l.idle;
    o.http.timeouts.total = l.total;
    return o;
}

struct stream_result {
    bool done = false;
    bool at_send = false;
    error_code ec;
    std::vector<std::string> tokens;
    std::string text;
};

asio::awaitable<void> one_stream(chatwire::chat_client& c, std::string prompt, stream_result& out) {
    chatwire::diagnostics diag;
    auto [ec, s] = co_await c.async_send(std::move(prompt), "", diag, tuple_awaitable);
    if (ec) {
        out.at_send = true;
        out.ec = ec;
    } else {
        for (;;) {
            auto [nec, ev] = co_await s.next();
            if (nec) {
                out.ec = nec;
                break;
            }
            if (ev.kind == chatwire::event_kind::token) out.tokens.emplace_back(ev.text);
        }
        out.text = std::string(s.text_so_far());
    }
    out.done = true;
}

/// Hands out the streams to workers, so that no more than the descriptor
/// limit allows are open at once.
struct work_queue {
    std::vector<std::unique_ptr<chatwire::chat_client>>* clients;
    std::vector<stream_result>* results;
    std::size_t next = 0;
};

asio::awaitable<void> worker(work_queue& q) {
    while (q.next < q.results->size()) {
        const auto i = q.next++;
        co_await one_stream(*(*q.clients)[i % std::size(apis)], prompts[(i / std::size(apis)) % prompt_count],
                            (*q.results)[i]);
    }
}

void run_until(asio::io_context& io, const std::vector<stream_result>& results, std::chrono::steady_clock::time_point until) {
    auto all_done = [&] {
        for (const auto& r : results)
            if (!r.done) return false;
        return true;
    };
    while (!all_done() && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
}

/// The fault-free token sequence of each API and prompt (the emulator is
/// deterministic for a seed), and the time one of them took.
struct reference_run {
    std::map<std::pair<api_kind, std::size_t>, std::vector<std::string>> tokens;
    std::chrono::microseconds pace{0};  ///< the warm-up's time over its replies
};

reference_run references() {
    asio::io_context io(1);
    chatwire::emulator::options o;
    o.seed = seed;
    o.tls = false;
    chatwire::emulator::server emu(io.get_executor(), chatwire::testing::with_test_protocol(o));
    emu.start();
    std::vector<std::unique_ptr<chatwire::chat_client>> clients;
    // Enough copies of each reply at once that the thread, not the latency
    // of a few exchanges, sets the pace.
    constexpr std::size_t copies = 8;
    const auto per_client = prompt_count * copies;
    std::vector<stream_result> results(std::size(apis) * per_client);
    // Limits no slow run reaches: nothing is known of the pace yet.
    const limits warm_up{120s, 120s, 240s, 0ms};
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t a = 0; a < std::size(apis); ++a) {
        clients.push_back(std::make_unique<chatwire::chat_client>(io.get_executor(),
                                                                  options_for(emu, apis[a], per_client, warm_up)));
        for (std::size_t i = 0; i < per_client; ++i)
            asio::co_spawn(io, one_stream(*clients.back(), prompts[i % prompt_count], results[a * per_client + i]),
                           asio::detached);
    }
    run_until(io, results, start + warm_up.total);
    reference_run refs;
    refs.pace = std::chrono::ceil<std::chrono::microseconds>((std::chrono::steady_clock::now() - start) / results.size());
    for (std::size_t a = 0; a < std::size(apis); ++a)
        for (std::size_t i = 0; i < per_client; ++i) {
            auto& r = results[a * per_client + i];
            BOOST_TEST_REQUIRE(r.done);
            BOOST_TEST_REQUIRE(r.ec == error_code(errc::end_of_stream), ft::error_name(r.ec));
            BOOST_TEST_REQUIRE(r.tokens.size() > 5u);
            const auto& ref = refs.tokens.try_emplace({apis[a], i % prompt_count}, r.tokens).first->second;
            BOOST_TEST_REQUIRE(ref == r.tokens, "the emulator answers a prompt the same way every time");
        }
    clients.clear();
    emu.stop();
    io.run_for(2s);
    return refs;
}

std::string joined(const std::vector<std::string>& tokens) {
    std::string s;
    for (const auto& t : tokens) s += t;
    return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(concurrent_streams_with_faults) {
    const auto n = streams_wanted();
    // Each stream holds a client socket and the emulator's end of it.
    const auto limit = ft::raise_fd_limit(2 * n + 1024);
    // Beyond what the limit allows, streams wait for a free slot instead.
    const auto at_once = std::min(n, (limit - 256) / 2);
    BOOST_TEST_REQUIRE(at_once >= 100u, "descriptor limit " << limit);

    const auto warm = references();
    const auto& refs = warm.tokens;
    const auto l = scaled_limits(warm.pace, n);
    // A worker runs its streams one after the other.
    const auto rounds = static_cast<long>((n + at_once - 1) / at_once);
    const auto time_limit = rounds * l.total + 30s;
    std::cout << "pace " << warm.pace.count() << " us per warm-up reply: first byte " << l.first_byte.count()
              << " ms, idle " << l.idle.count() << " ms, total " << l.total.count() << " ms, stall "
              << l.stall.count() << " ms" << std::endl;

    asio::io_context io(1);
    chatwire::emulator::options o;
    o.seed = seed;
    o.tls = std::getenv("CHATWIRE_FAULT_LOAD_TLS") != nullptr;  // plain by default: the handshakes are not the point
    o.token_delay = 10ms;  // a stream lasts a while, so that they overlap
    o.max_connections = 2 * n + 64;
    o.faults_json = fault_script(n, l.stall);
    chatwire::emulator::server emu(io.get_executor(), chatwire::testing::with_test_protocol(o));
    const auto fds_before = ft::open_fds() - 1;  // without the listener, which stop() closes
    emu.start();

    std::vector<stream_result> results(n);
    {
        std::vector<std::unique_ptr<chatwire::chat_client>> clients;
        for (auto a : apis) clients.push_back(std::make_unique<chatwire::chat_client>(io.get_executor(), options_for(emu, a, n, l)));
        const auto start = std::chrono::steady_clock::now();
        work_queue queue{&clients, &results};
        for (std::size_t w = 0; w < at_once; ++w) asio::co_spawn(io, worker(queue), asio::detached);
        run_until(io, results, start + time_limit);
        const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        std::size_t completed = 0, failed = 0, unfinished = 0, untyped = 0, wrong_text = 0;
        std::size_t received = 0, lost = 0, duplicated = 0;
        std::map<std::string, std::size_t> by_error;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& r = results[i];
            if (!r.done) {
                ++unfinished;
                continue;
            }
            const auto& ref = refs.at({apis[i % std::size(apis)], (i / std::size(apis)) % prompt_count});
            const auto check = ft::compare_tokens(r.tokens, ref);
            received += r.tokens.size();
            lost += check.lost;
            duplicated += check.duplicated;
            if ((check.lost || check.duplicated) && std::getenv("CHATWIRE_FAULT_LOAD_DEBUG")) {
                std::cout << "stream " << i << " " << chatwire::to_string(apis[i % std::size(apis)]) << " "
                          << ft::error_name(r.ec) << " got " << r.tokens.size() << " of " << ref.size() << ":";
                for (std::size_t k = 0; k < r.tokens.size() && k < 12; ++k)
                    std::cout << " [" << r.tokens[k] << "|" << (k < ref.size() ? ref[k] : "-") << "]";
                std::cout << "\n";
            }
            if (!r.at_send && joined(r.tokens) != r.text) ++wrong_text;
            if (!r.at_send && r.ec == errc::end_of_stream) {
                ++completed;
                // A normal end that is short lost its tail.
                if (check.matched != ref.size()) lost += ref.size() - check.matched;
                if (r.text != joined(ref)) ++wrong_text;
            } else {
                ++failed;
                ++by_error[ft::error_name(r.ec)];
                if (r.ec.category() != chatwire::error_category() && r.ec != chatwire::condition::transport) ++untyped;
                if (!ft::is_prefix(r.text, joined(ref))) ++wrong_text;
            }
        }
        std::cout << "streams " << n << " (at most " << at_once << " at once) in " << elapsed
                  << " s on one thread (fd limit " << limit << ")\n"
                  << "completed " << completed << ", failed " << failed << ", unfinished " << unfinished << "\n";
        for (const auto& [name, count] : by_error) std::cout << "  failed with " << name << ": " << count << "\n";
        std::cout << "tokens received " << received << ", lost " << lost << ", duplicated " << duplicated
                  << ", streams with a wrong text " << wrong_text << ", untyped errors " << untyped << std::endl;

        BOOST_TEST(unfinished == 0u);
        BOOST_TEST(lost == 0u);
        BOOST_TEST(duplicated == 0u);
        BOOST_TEST(wrong_text == 0u);
        BOOST_TEST(untyped == 0u);
        // The seeded rules, not the clock, decide which streams fail: some do,
        // and none beyond the requests the failing rules reach.
        const auto hit = std::size(apis) * share_of(n, failing_share);
        BOOST_TEST(failed > 0u);
        BOOST_TEST(failed <= hit, failed << " failed where the fault rules reach " << hit);
        BOOST_TEST(completed + hit >= n);
        BOOST_TEST(by_error.count("ok") == 0u);
    }
    // Clients gone, emulator stopped: every socket is closed.
    emu.stop();
    io.run_for(5s);
    BOOST_TEST(io.stopped(), "handlers left after stop");
    BOOST_TEST(ft::open_fds() == fds_before);
}
