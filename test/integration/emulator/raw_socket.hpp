#pragma once
// Plain blocking loopback sockets with deadlines, for tests that misbehave on
// purpose: never read, send a head and stop, hold a connection idle.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace emu_test {

class raw_socket {
public:
    /// Connects to 127.0.0.1:port; a non-zero `rcvbuf` shrinks the receive
    /// buffer first, so that a peer writing to us fills it quickly.
    explicit raw_socket(std::uint16_t port, int rcvbuf = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~raw_socket() { close(); }
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    bool connected() const noexcept { return connected_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    /// Sends as much of `data` as the peer takes within `timeout`; returns the bytes sent.
    std::size_t send(std::string_view data, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t sent = 0;
        while (sent < data.size()) {
            if (!wait(POLLOUT, deadline)) break;
            auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) break;
            sent += static_cast<std::size_t>(n);
        }
        return sent;
    }

    /// Reads until the peer closes, a whole response with Content-Length has
    /// arrived, or `timeout` passes.
    std::string read_response(std::chrono::milliseconds timeout, bool* closed = nullptr) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::string got;
        if (closed) *closed = false;
        char buf[16384];
        for (;;) {
            if (auto end = got.find("\r\n\r\n"); end != std::string::npos) {
                auto cl = got.find("Content-Length: ");
                if (cl != std::string::npos && cl < end &&
                    got.size() >= end + 4 + std::stoul(got.substr(cl + 16)))
                    return got;
            }
            if (!wait(POLLIN, deadline)) return got;
            auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) {
                if (closed) *closed = true;
                return got;
            }
            got.append(buf, static_cast<std::size_t>(n));
        }
    }

    /// True when the peer has closed (EOF or reset) within `timeout`;
    /// whatever it sent before is read and dropped.
    bool closed_within(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        char buf[65536];
        for (;;) {
            if (!wait(POLLIN, deadline)) return false;
            auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) return true;
        }
    }

private:
    bool wait(short events, std::chrono::steady_clock::time_point deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, events, 0};
        return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
    }

    int fd_ = -1;
    bool connected_ = false;
};

/// A request head (and body) with Content-Length, keep-alive unless said otherwise.
inline std::string request_text(std::string_view method, std::string_view path, std::string_view headers,
                                std::string_view body, std::size_t declared_length = std::string::npos) {
    std::string r(method);
    r += ' ';
    r += path;
    r += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    r += headers;
    r += "Content-Type: application/json\r\nContent-Length: ";
    r += std::to_string(declared_length == std::string::npos ? body.size() : declared_length);
    r += "\r\n\r\n";
    r += body;
    return r;
}

} // namespace emu_test
