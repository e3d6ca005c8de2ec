// Streaming decoder and mapper throughput. Every benchmark also reports heap
// allocations per event, counted by the replaced operator new below. At the
// end, the byte-by-byte cost is put as a ratio to whole pieces, next to the
// same ratio for a bare loop that touches each byte once (measured in this run).
#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/sse_decoder.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace {
std::atomic<std::int64_t> allocations{0};
}

// Out of line, so that GCC does not see malloc/free pair up with new/delete.
[[gnu::noinline]] void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace chatwire::stream;

constexpr std::size_t piece_size = 64 * 1024;

// Token text of 60-160 bytes, so that whole events are 100-200 bytes.
std::string token_text(std::mt19937& rng) {
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";
    std::string text;
    const std::size_t size = 60 + rng() % 100;
    while (text.size() < size) text += words[rng() % (sizeof words - 1)];
    return text;
}

std::string sse_body(std::size_t bytes) {
    std::mt19937 rng(1);
    std::string body;
    while (body.size() < bytes) body += "data: {\"type\":\"token\",\"content\":\"" + token_text(rng) + "\"}\n\n";
    return body;
}

std::string jsonl_body(std::size_t bytes) {
    std::mt19937 rng(2);
    std::string body;
    while (body.size() < bytes) body += "{\"type\":\"token\",\"data\":{\"token\":\"" + token_text(rng) + "\"}}\n";
    return body;
}

void report(benchmark::State& state, std::int64_t bytes, std::int64_t events, std::int64_t allocs) {
    state.SetBytesProcessed(bytes);
    state.counters["ns_per_event"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["allocs_per_event"] = events ? static_cast<double>(allocs) / static_cast<double>(events) : 0.0;
}

std::int64_t decode_sse(sse_decoder& decoder, std::string_view body, std::size_t piece) {
    std::int64_t events = 0;
    sse_event ev;
    chatwire::error_code ec;
    for (std::size_t at = 0; at < body.size(); at += piece) {
        decoder.feed(body.substr(at, piece));
        while (decoder.next(ev, ec) == decode_status::event) {
            benchmark::DoNotOptimize(ev.data.data());
            ++events;
        }
    }
    return events;
}

void sse_framing(benchmark::State& state, std::size_t body_bytes, std::size_t piece) {
    const std::string body = sse_body(body_bytes);
    sse_decoder decoder;
    decode_sse(decoder, body, piece);  // warm-up
    std::int64_t bytes = 0, events = 0;
    const std::int64_t before = allocations.load();
    for (auto _ : state) {
        events += decode_sse(decoder, body, piece);
        bytes += static_cast<std::int64_t>(body.size());
    }
    report(state, bytes, events, allocations.load() - before);
}

void BM_sse_framing_64k_pieces(benchmark::State& state) { sse_framing(state, 4u << 20, piece_size); }
void BM_sse_framing_byte_by_byte(benchmark::State& state) { sse_framing(state, 256u << 10, 1); }
// Small pieces, as a socket may deliver a paced stream: state.range(0) bytes each.
void BM_sse_framing_small_pieces(benchmark::State& state) {
    sse_framing(state, 1u << 20, static_cast<std::size_t>(state.range(0)));
}

// Not a decoder: the least work any byte-at-a-time path does. Each byte is
// kept (a caller may reuse its buffer) and tested for a line end; no call, no
// state beyond a 64-byte block. Its ratio to whole pieces bounds what feeding
// one byte per call can reach on this machine.
void BM_byte_loop_floor(benchmark::State& state) {
    const std::string body = sse_body(256u << 10);
    char block[64];
    std::size_t used = 0;
    std::int64_t bytes = 0, line_ends = 0;
    for (auto _ : state) {
        for (const char c : body) {
            if (c == '\n' || c == '\r' || used == sizeof block) {
                benchmark::DoNotOptimize(block);
                line_ends += c == '\n';
                used = 0;
            } else {
                block[used++] = c;
            }
        }
        bytes += static_cast<std::int64_t>(body.size());
    }
    state.SetBytesProcessed(bytes);
    benchmark::DoNotOptimize(line_ends);
}

std::int64_t decode_jsonl(jsonl_decoder& decoder, std::string_view body, std::size_t piece) {
    std::int64_t events = 0;
    std::string_view line;
    chatwire::error_code ec;
    for (std::size_t at = 0; at < body.size(); at += piece) {
        decoder.feed(body.substr(at, piece));
        while (decoder.next(line, ec) == decode_status::event) {
            benchmark::DoNotOptimize(line.data());
            ++events;
        }
    }
    return events;
}

void BM_jsonl_framing_64k_pieces(benchmark::State& state) {
    const std::string body = jsonl_body(4u << 20);
    jsonl_decoder decoder;
    decode_jsonl(decoder, body, piece_size);  // warm-up
    std::int64_t bytes = 0, events = 0;
    const std::int64_t before = allocations.load();
    for (auto _ : state) {
        events += decode_jsonl(decoder, body, piece_size);
        bytes += static_cast<std::int64_t>(body.size());
    }
    report(state, bytes, events, allocations.load() - before);
}

// Maps ready payloads: the cost of pulling the token out of one event.
template <class Mapper>
void token_extraction(benchmark::State& state, const std::vector<std::string>& payloads, std::size_t reset_every) {
    Mapper mapper;
    chatwire::diagnostics diag;
    event ev;
    bool produced = false;
    auto run = [&] {
        std::int64_t tokens = 0;
        for (std::size_t i = 0; i < payloads.size(); ++i) {
            if (i % reset_every == 0) mapper.reset();
            if (mapper.map(payloads[i], ev, produced, diag)) state.SkipWithError("map failed");
            benchmark::DoNotOptimize(ev.text.data());
            tokens += produced;
        }
        return tokens;
    };
    run();  // warm-up: text buffers reach their size
    std::int64_t bytes = 0, tokens = 0;
    const std::int64_t before = allocations.load();
    for (auto _ : state) {
        tokens += run();
        for (const auto& p : payloads) bytes += static_cast<std::int64_t>(p.size());
    }
    report(state, bytes, tokens, allocations.load() - before);
}

// Realistic tokens: a few characters, some with escapes or multi-byte UTF-8.
std::vector<std::string> short_tokens() {
    const char* const tokens[] = {"Hello", ",", " world", " caf\xC3\xA9", " \\\"quoted\\\"", "\\n", " \xF0\x9F\x98\x80", " the", " order", " ships"};
    std::vector<std::string> out;
    for (int i = 0; i < 1000; ++i) out.emplace_back(tokens[i % std::size(tokens)]);
    return out;
}

std::vector<std::string> wrap(const char* prefix, const char* suffix) {
    std::vector<std::string> out;
    for (const auto& t : short_tokens()) out.push_back(prefix + t + suffix);
    return out;
}

void BM_tokens_chatbotkit(benchmark::State& state) {
    token_extraction<chatbotkit_mapper>(state, wrap("{\"type\":\"token\",\"data\":{\"token\":\"", "\"}}"), 1000);
}
void BM_tokens_pollybot(benchmark::State& state) {
    token_extraction<pollybot_mapper>(state, wrap("{\"type\":\"token\",\"content\":\"", "\"}"), 1000);
}
void BM_tokens_vectorshift_v1(benchmark::State& state) {
    token_extraction<vectorshift_mapper>(state, wrap("{\"type\":\"stream\",\"output_value\":\"", "\"}"), 1000);
}
// Cumulative output grows with the reply: replies of state.range(0) tokens.
void BM_tokens_vectorshift_cumulative(benchmark::State& state) {
    const auto reply_tokens = static_cast<std::size_t>(state.range(0));
    std::vector<std::string> payloads;
    std::string so_far;
    const auto tokens = short_tokens();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (i % reply_tokens == 0) so_far.clear();
        so_far += tokens[i];
        payloads.push_back("{\"output\":\"" + so_far + "\",\"conversation_id\":\"conv-1\"}");
    }
    token_extraction<vectorshift_mapper>(state, payloads, reply_tokens);
}

} // namespace

BENCHMARK(BM_sse_framing_64k_pieces);
BENCHMARK(BM_sse_framing_byte_by_byte);
BENCHMARK(BM_sse_framing_small_pieces)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK(BM_byte_loop_floor);
BENCHMARK(BM_jsonl_framing_64k_pieces);
BENCHMARK(BM_tokens_chatbotkit);
BENCHMARK(BM_tokens_pollybot);
BENCHMARK(BM_tokens_vectorshift_v1);
BENCHMARK(BM_tokens_vectorshift_cumulative)->Arg(50)->Arg(500);

namespace {

// The console report, plus each benchmark's bytes per second (the median when
// repeated) for the ratios printed at the end.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    ratio_reporter() : ConsoleReporter(isatty(fileno(stdout)) ? OO_Color : OO_None) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            const bool repeated = run.run_type == Run::RT_Aggregate;
            if (repeated && run.aggregate_name != "median") continue;
            const auto it = run.counters.find("bytes_per_second");
            if (it != run.counters.end()) rates[run.run_name.function_name] = it->second.value;
        }
    }

    void print_ratios() const {
        const double whole = rate("BM_sse_framing_64k_pieces");
        const double by_byte = rate("BM_sse_framing_byte_by_byte");
        const double floor = rate("BM_byte_loop_floor");
        if (whole <= 0 || by_byte <= 0) return;
        std::printf("\nSSE fed byte by byte: %.1fx the time of 64 KiB pieces (goal 3x)\n", whole / by_byte);
        if (floor > 0)
            std::printf("a bare loop keeping each byte and testing it for a line end: %.1fx "
                        "(the least work of any byte-at-a-time path)\n",
                        whole / floor);
    }

private:
    double rate(const std::string& name) const {
        const auto it = rates.find(name);
        return it == rates.end() ? 0.0 : it->second;
    }
    std::map<std::string, double> rates;
};

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
