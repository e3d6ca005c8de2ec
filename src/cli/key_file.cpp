#include "key_file.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chatwire::cli {

namespace {

struct fd_guard {
    int fd;
    ~fd_guard() { ::close(fd); }
};

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (a pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

constexpr std::string_view blanks = " \t\r\n";

} // namespace

bool read_key_file(const std::string& path, std::string& key, std::string* why) {
    auto refuse = [why](std::string reason) {
        if (why) *why = std::move(reason);
        return false;
    };
    // O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; its
    // type is refused below before anything is read.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return refuse(std::strerror(errno));
    fd_guard guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return refuse(std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return refuse(std::string("is ") + kind_of(st.st_mode) +
                      ", not a regular file: put the key in a file or in the environment variable");
    const auto too_big = "is larger than " + std::to_string(max_key_file_size / 1024) + " KiB: a key file holds one key";
    if (static_cast<unsigned long long>(st.st_size) > max_key_file_size) return refuse(too_big);
    // One byte past the bound tells a file that grew since fstat from one that fits.
    std::string text(max_key_file_size + 1, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const auto n = ::read(fd, text.data() + got, text.size() - got);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return refuse(std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    if (got > max_key_file_size) return refuse(too_big);
    text.resize(got);
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string::npos) return refuse(got == 0 ? "is empty" : "holds only whitespace");
    const auto last = text.find_last_not_of(blanks);
    text = text.substr(first, last - first + 1);
    if (text.find_first_of("\r\n") != std::string::npos) return refuse("holds more than one line: a key file holds one key");
    key = std::move(text);
    return true;
}

} // namespace chatwire::cli
