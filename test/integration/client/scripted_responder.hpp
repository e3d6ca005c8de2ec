#pragma once
// A plain-HTTP server on 127.0.0.1 over bare sockets, so that a test writes
// every byte of each response: the n-th request read (on any connection) gets
// the n-th scripted response, the last one repeating, in one send(). It never
// ends a connection itself, so a body left open stays open until the client
// closes it. It counts connections accepted, requests read and connections the
// client closed, and stops by itself after two minutes at most.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chatwire::testing {

class scripted_responder {
public:
    explicit scripted_responder(std::vector<std::string> responses) : responses_(std::move(responses)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(listener_, 16) == 0 &&
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~scripted_responder() {
        stop_ = true;
        thread_.join();
        for (const auto& c : conns_) ::close(c.fd);
        ::close(listener_);
    }
    scripted_responder(const scripted_responder&) = delete;
    scripted_responder& operator=(const scripted_responder&) = delete;

    std::uint16_t port() const { return port_; }
    /// "http://127.0.0.1:<port><path>".
    std::string url(std::string_view path = {}) const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }
    int accepted() const { return accepted_; }
    int requests() const { return requests_; }
    int closed_by_client() const { return closed_by_client_; }

    /// Waits up to `timeout` until the client closed `n` connections.
    bool client_closed_within(int n, std::chrono::milliseconds timeout) const {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (closed_by_client_ < n) {
            if (std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    }

private:
    struct connection {
        int fd;
        std::string in;
    };

    static std::size_t content_length(std::string_view head) {
        std::string lower(head);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        const auto at = lower.find("\r\ncontent-length:");
        return at == std::string::npos ? 0 : std::stoul(lower.substr(at + 17));
    }

    // Answers every whole request in `c.in`.
    void answer(connection& c) {
        for (;;) {
            const auto head_end = c.in.find("\r\n\r\n");
            if (head_end == std::string::npos) return;
            const std::size_t whole = head_end + 4 + content_length(std::string_view(c.in).substr(0, head_end));
            if (c.in.size() < whole) return;
            c.in.erase(0, whole);
            const std::size_t n = static_cast<std::size_t>(requests_++);
            const std::string& r = responses_.empty() ? empty_ : responses_[std::min(n, responses_.size() - 1)];
            (void)::send(c.fd, r.data(), r.size(), MSG_NOSIGNAL);  // small: the socket buffer takes it whole
        }
    }

    void run() {
        const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(2);
        while (!stop_ && std::chrono::steady_clock::now() < until) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (const auto& c : conns_) fds.push_back({c.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                const int fd = ::accept(listener_, nullptr, nullptr);
                if (fd >= 0) {
                    conns_.push_back({fd, {}});
                    ++accepted_;
                }
            }
            for (std::size_t i = fds.size() - 1; i > 0; --i) {
                if (!fds[i].revents) continue;
                auto& c = conns_[i - 1];
                char buf[4096];
                const auto got = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got > 0) {
                    c.in.append(buf, static_cast<std::size_t>(got));
                    answer(c);
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    ::close(c.fd);
                    conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(i - 1));
                    ++closed_by_client_;
                }
            }
        }
    }

    std::vector<std::string> responses_;
    const std::string empty_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::vector<connection> conns_;  // the server thread's own
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::atomic<int> requests_{0};
    std::atomic<int> closed_by_client_{0};
    std::thread thread_;
};

/// A 200 head with a chunked body of `content_type`.
inline std::string chunked_head(std::string_view content_type) {
    return "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) + "\r\nTransfer-Encoding: chunked\r\n\r\n";
}

/// `data` as one chunk.
inline std::string chunk(std::string_view data) {
    char size[20];
    const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return std::string(size, static_cast<std::size_t>(n)) + std::string(data) + "\r\n";
}

/// The chunked body's end.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// A 200 head announcing `length` body bytes of `content_type`.
inline std::string length_head(std::string_view content_type, std::size_t length) {
    return "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) +
           "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

} // namespace chatwire::testing
