#pragma once
// A deliberately small blocking client for the emulator's tests: one request
// per connection, every byte kept, so framing, resets and pauses can be checked.
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace emu_test {

struct http_reply {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< names in lower case
    std::string body;                            ///< de-chunked
    bool complete = false;                       ///< the body ended as its framing says
    bool chunked = false;
    std::string raw;                             ///< every byte received
    boost::system::error_code ec;                ///< how reading ended (EOF is not an error)
    std::chrono::milliseconds elapsed{0};
    std::chrono::milliseconds first_byte{0};
    std::string header(const std::string& lower) const {
        auto it = headers.find(lower);
        return it == headers.end() ? std::string() : it->second;
    }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

struct target {
    std::uint16_t port = 0;
    std::string cert_pem;  ///< empty: plain HTTP; otherwise TLS trusting exactly this certificate
};

/// Sends `raw_request` bytes as they are and reads until the server closes.
http_reply send_raw(const target& t, const std::string& raw_request);

/// Sends the head, waits for "100 Continue", then sends the body (plain HTTP only).
http_reply send_raw_expect(const target& t, const std::string& head, const std::string& body);

/// Builds one HTTP/1.1 request with Connection: close and sends it.
http_reply exchange(const target& t, const std::string& method, const std::string& path,
                    const header_list& headers = {}, const std::string& body = {});

/// Parses bytes received as one HTTP response (used by send_raw).
http_reply parse_response(std::string raw);

/// SSE payloads ("data: " removed) or JSON lines of a body.
std::vector<std::string> sse_payloads(const std::string& body);
std::vector<std::string> json_lines(const std::string& body);

} // namespace emu_test
