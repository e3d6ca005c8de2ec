// The batched line-end scan, each variant the CPU can run, against a plain
// byte loop: every CR and LF found once, in order, whatever the alignment,
// length or density of line ends.
#include <boost/test/unit_test.hpp>

#include "../../../src/stream/line_scan.hpp"

#include <random>
#include <string>
#include <vector>

using namespace chatwire::stream::detail;

namespace {

using collect_fn = line_end_batch (*)(const char*, const char*, line_end_offset*);

std::vector<std::size_t> expected_line_ends(std::string_view s) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == '\n' || s[i] == '\r') out.push_back(i);
    return out;
}

// All batches over `s`, checked one by one.
std::vector<std::size_t> scan_all(std::string_view s, collect_fn collect) {
    std::vector<std::size_t> out;
    line_end_offset offsets[line_end_batch_capacity];
    std::size_t at = 0;
    while (at < s.size()) {
        const line_end_batch batch = collect(s.data() + at, s.data() + s.size(), offsets);
        BOOST_REQUIRE(batch.scanned > 0);
        BOOST_REQUIRE(batch.scanned <= s.size() - at);
        BOOST_REQUIRE(batch.count <= line_end_batch_capacity);
        if (s.size() - at < 64) BOOST_REQUIRE(batch.scanned == s.size() - at);  // a short rest in one go
        for (std::size_t i = 0; i < batch.count; ++i) {
            BOOST_REQUIRE(offsets[i] < batch.scanned);
            out.push_back(at + offsets[i]);
        }
        at += batch.scanned;
    }
    return out;
}

std::vector<std::pair<const char*, collect_fn>> variants() {
    std::vector<std::pair<const char*, collect_fn>> v{{"dispatch", &collect_line_ends}};
#if CHATWIRE_STREAM_X86_SCAN
    v.emplace_back("sse2", &collect_line_ends_sse2);
    if (cpu_has_avx2_bmi) v.emplace_back("avx2", &collect_line_ends_avx2);
#endif
    return v;
}

} // namespace

BOOST_AUTO_TEST_CASE(line_end_batches_find_every_cr_and_lf) {
    std::mt19937 rng(7);
    // Densities from none to all line ends; lengths across block and batch edges.
    const int densities[] = {0, 1, 5, 30, 70, 100};
    const std::size_t lengths[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 2047, 2048, 2049, 5000};
    for (const auto& [name, collect] : variants())
        for (int density : densities)
            for (std::size_t length : lengths)
                for (std::size_t shift = 0; shift < 3; ++shift) {  // unaligned starts too
                    std::string buffer(shift, 'x');
                    for (std::size_t i = 0; i < length; ++i) {
                        const bool end = static_cast<int>(rng() % 100) < density;
                        const char others[] = {'a', '\0', '\x8D', '\x8A', '\x0B', '\x0C', ' '};
                        buffer += end ? (rng() % 2 ? '\n' : '\r') : others[rng() % sizeof others];
                    }
                    const std::string_view s = std::string_view(buffer).substr(shift);
                    BOOST_TEST_CONTEXT(name << " density " << density << " length " << length << " shift " << shift) {
                        BOOST_TEST(scan_all(s, collect) == expected_line_ends(s));
                    }
                }
}
