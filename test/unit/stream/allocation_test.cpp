// Steady state means no heap allocation per event: counted through a replaced
// global operator new, which is why this test is an executable of its own.
#define BOOST_TEST_MODULE unit_stream_allocations
#include <boost/test/unit_test.hpp>

#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/sse_decoder.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {
std::atomic<long> allocations{0};
}

// Out of line, so that GCC does not see malloc/free pair up with new/delete.
[[gnu::noinline]] void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace chatwire::stream;

namespace {

const std::string sse_body =
    "event: chunk\nid: 17\ndata: {\"type\":\"token\",\"content\":\"Hello \\\"there\\\"\"}\n\n"
    "data: first line\r\ndata: second line\r\n\r\n"
    ": keep-alive\n\nretry: 2000\ndata: {\"output\":\"x\"}\n\n";

// Decodes `body` in pieces of `piece` bytes, `rounds` times; returns events seen.
long run_sse(sse_decoder& decoder, const std::string& body, std::size_t piece, int rounds) {
    long events = 0;
    sse_event ev;
    chatwire::error_code ec;
    for (int r = 0; r < rounds; ++r)
        for (std::size_t at = 0; at < body.size(); at += piece) {
            decoder.feed(std::string_view(body).substr(at, piece));
            while (decoder.next(ev, ec) == decode_status::event) ++events;
        }
    return events;
}

} // namespace

BOOST_AUTO_TEST_CASE(sse_steady_state_allocates_nothing) {
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, sse_body.size()}) {
        sse_decoder decoder;
        run_sse(decoder, sse_body, piece, 2);  // warm-up: buffers reach their size
        const long before = allocations.load();
        const long events = run_sse(decoder, sse_body, piece, 200);
        BOOST_TEST(events == 600);
        BOOST_TEST(allocations.load() - before == 0, "piece " << piece);
    }
}

BOOST_AUTO_TEST_CASE(jsonl_and_mappers_steady_state_allocate_nothing) {
    const std::string body = "{\"type\":\"token\",\"data\":{\"token\":\"T\\u00e9st \\\"q\\\"\"}}\r\n"
                             "{\"type\":\"usage\",\"data\":{\"model\":\"m\",\"inputTokensUsed\":1,\"outputTokensUsed\":2}}\n"
                             "{\"type\":\"result\",\"data\":{\"id\":\"r\",\"text\":\"T\",\"usage\":{\"token\":3},\"end\":{\"reason\":\"stop\"}}}\n";
    jsonl_decoder decoder;
    chatbotkit_mapper mapper;
    chatwire::diagnostics diag;
    auto run = [&](int rounds) {
        long events = 0;
        std::string_view line;
        chatwire::error_code ec;
        event ev;
        bool produced = false;
        for (int r = 0; r < rounds; ++r) {
            mapper.reset();
            for (std::size_t at = 0; at < body.size(); at += 5) {
                decoder.feed(std::string_view(body).substr(at, 5));
                while (decoder.next(line, ec) == decode_status::event) {
                    BOOST_REQUIRE(!mapper.map(line, ev, produced, diag));
                    events += produced;
                }
            }
        }
        return events;
    };
    run(2);
    const long before = allocations.load();
    BOOST_TEST(run(200) == 600);
    BOOST_TEST(allocations.load() - before == 0);
}

BOOST_AUTO_TEST_CASE(sse_mappers_steady_state_allocate_nothing) {
    const std::string polly[] = {R"({"type":"token","content":"Hi \"you\""})", R"({"type":"done","data":{"response":"Hi","conversationId":"c","messageId":"m"}})", "[DONE]"};
    const std::string vs[] = {R"({"output":"He\"","conversation_id":"c"})", R"({"output":"He\"llo","conversation_id":"c"})"};
    pollybot_mapper pb;
    vectorshift_mapper vm;
    chatwire::diagnostics diag;
    event ev;
    bool produced = false;
    auto run = [&](int rounds) {
        for (int r = 0; r < rounds; ++r) {
            pb.reset();
            vm.reset();
            for (const auto& p : polly) BOOST_REQUIRE(!pb.map(p, ev, produced, diag));
            for (const auto& p : vs) BOOST_REQUIRE(!vm.map(p, ev, produced, diag));
        }
    };
    run(2);
    const long before = allocations.load();
    run(200);
    BOOST_TEST(allocations.load() - before == 0);
}
