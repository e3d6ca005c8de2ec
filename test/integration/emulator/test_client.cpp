#include "test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <openssl/x509_vfy.h>

#include <cctype>

namespace emu_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

template <class Stream>
void read_all(Stream& s, http_reply& r, clock_type::time_point start) {
    char buf[16384];
    for (;;) {
        boost::system::error_code ec;
        auto n = s.read_some(asio::buffer(buf), ec);
        if (n > 0 && r.raw.empty())
            r.first_byte = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
        r.raw.append(buf, n);
        if (ec) {
            if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated) r.ec = ec;
            return;
        }
    }
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

http_reply parse_response(std::string raw) {
    http_reply r;
    r.raw = std::move(raw);
    auto end = r.raw.find("\r\n\r\n");
    if (end == std::string::npos || r.raw.rfind("HTTP/1.1 ", 0) != 0) return r;
    r.status = std::stoi(r.raw.substr(9, 3));
    std::size_t pos = r.raw.find("\r\n") + 2;
    while (pos < end) {
        auto eol = r.raw.find("\r\n", pos);
        auto line = r.raw.substr(pos, eol - pos);
        auto colon = line.find(':');
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[lower(line.substr(0, colon))] = value;
        pos = eol + 2;
    }
    std::string_view rest(r.raw);
    rest.remove_prefix(end + 4);
    if (r.header("transfer-encoding") == "chunked") {
        r.chunked = true;
        for (;;) {
            auto eol = rest.find("\r\n");
            if (eol == std::string_view::npos) return r;
            auto size = std::stoul(std::string(rest.substr(0, eol)), nullptr, 16);
            if (rest.size() < eol + 2 + size + 2) return r;
            if (size == 0) {
                r.complete = true;
                return r;
            }
            r.body.append(rest.substr(eol + 2, size));
            rest.remove_prefix(eol + 2 + size + 2);
        }
    }
    r.body = std::string(rest);
    auto cl = r.header("content-length");
    r.complete = cl.empty() || std::stoul(cl) == r.body.size();
    return r;
}

http_reply send_raw(const target& t, const std::string& raw_request) {
    asio::io_context io;
    tcp::socket socket(io);
    const auto start = clock_type::now();
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), t.port));
    http_reply received;
    if (t.cert_pem.empty()) {
        asio::write(socket, asio::buffer(raw_request));
        read_all(socket, received, start);
    } else {
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.add_certificate_authority(asio::buffer(t.cert_pem));
        ctx.set_verify_mode(asio::ssl::verify_peer);
        asio::ssl::stream<tcp::socket&> tls(socket, ctx);
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls.native_handle()), "127.0.0.1");
        tls.handshake(asio::ssl::stream_base::client);
        asio::write(tls, asio::buffer(raw_request));
        read_all(tls, received, start);
    }
    auto r = parse_response(std::move(received.raw));
    r.ec = received.ec;
    r.first_byte = received.first_byte;
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    return r;
}

http_reply send_raw_expect(const target& t, const std::string& head, const std::string& body) {
    asio::io_context io;
    tcp::socket socket(io);
    const auto start = clock_type::now();
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), t.port));
    asio::write(socket, asio::buffer(head));
    std::string interim;
    char c;
    while (interim.find("\r\n\r\n") == std::string::npos && asio::read(socket, asio::buffer(&c, 1)) == 1) interim += c;
    asio::write(socket, asio::buffer(body));
    http_reply rest;
    read_all(socket, rest, start);
    auto r = parse_response(interim + rest.raw);
    r.ec = rest.ec;
    return r;
}

http_reply exchange(const target& t, const std::string& method, const std::string& path, const header_list& headers,
                    const std::string& body) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [n, v] : headers) req += n + ": " + v + "\r\n";
    if (!body.empty() || method == "POST") {
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    return send_raw(t, req);
}

std::vector<std::string> sse_payloads(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
        auto end = body.find("\n\n", pos);
        if (end == std::string::npos) break;
        auto ev = body.substr(pos, end - pos);
        if (ev.rfind("data: ", 0) == 0) out.push_back(ev.substr(6));
        pos = end + 2;
    }
    return out;
}

std::vector<std::string> json_lines(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
        auto end = body.find('\n', pos);
        if (end == std::string::npos) break;
        out.push_back(body.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

} // namespace emu_test
