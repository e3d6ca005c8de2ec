// Runs a fuzz harness once on each file it is given (directories: on each
// file inside), as libFuzzer's `-runs=0 CORPUS` does, for builds without
// libFuzzer. Options starting with '-' are libFuzzer's and are ignored. A
// finding aborts (a failed check, a sanitizer report); otherwise it prints
// how many inputs it ran and exits 0, or 1 when it found no input at all.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    // A copy of its own, as libFuzzer does: reads past the end are ASan's to see.
    std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(input.data(), input.size());
}

} // namespace

int main(int argc, char** argv) {
    std::size_t inputs = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg = argv[i];
        if (arg.native().starts_with("-")) continue;
        if (std::filesystem::is_directory(arg)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
                if (!entry.is_regular_file()) continue;
                run_file(entry.path());
                ++inputs;
            }
        } else {
            run_file(arg);
            ++inputs;
        }
    }
    std::printf("replayed %zu input(s)\n", inputs);
    return inputs > 0 ? 0 : 1;
}
