#pragma once
// A small scripted HTTP/HTTPS server on 127.0.0.1 for transport tests. The
// path picks the behaviour:
//   /echo                      200, body "<METHOD> <target> host=<Host> body=<body>"
//   /stall?ms=N                answers after N ms (notices a client that leaves)
//   /drip?bytes=N&ms=M         chunked body, one byte every M ms
//   /big?bytes=N               Content-Length body of N bytes
//   /bigheader?bytes=N         one response header N bytes long
//   /chunks?n=N                chunked body "chunk-0\n" ... "chunk-<N-1>\n"
//   /close-delimited?n=N       body without length, ended by closing the connection
//   /truncate                  chunked body cut off after two chunks
//   /endless-chunk-header?bytes=N  a chunk-size line N bytes long that never ends
//   /mirror?piece=N            the request body back, chunked N bytes at a time
//   /interim-flood?n=N&ms=M    N interim 103 answers, M ms apart, then 200
//   /then-close                200 with keep-alive, then the server closes the connection
//   /answer-and-close          200 with Connection: close, then the server closes
//   /interim-then-close        100 Continue, then the server closes (no final answer)
//   /encoded                   a body with Content-Encoding: gzip
//   /offset-list?offset=N&limit=M&total=T  {"results":[{"key":"k<i>","position":i}...],"next_offset"?:N+M}
//   /arm-close                 200 with keep-alive; the connection's next request
//                              is read whole, then the server closes cleanly (FIN)
//                              without answering: the pool's keep-alive race
//   /arm-reset                 the same, but the server resets (RST) after reading it
//   .../api/v1/chatbots/bot/chat  a PollyBot answer ("hello"); under /arm-close/ it arms
#include <chatwire/emulator/certificate.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace chatwire::testing {

struct server_counters {
    int accepted = 0;   // TCP connections accepted
    int closed = 0;     // connections that ended (either side)
    int requests = 0;   // requests read
};

class test_server {
public:
    struct options {
        bool tls = true;
        /// Accept TCP but never answer the TLS handshake.
        bool stall_handshake = false;
        /// The certificate to serve; default: one for 127.0.0.1 and localhost.
        std::optional<emulator::self_signed_certificate> certificate;
    };

    /// Plain HTTP, answering at once: what most transport tests want.
    static options plain() {
        options o;
        o.tls = false;
        return o;
    }

    test_server(boost::asio::io_context& io, options opts);
    explicit test_server(boost::asio::io_context& io) : test_server(io, options{}) {}
    ~test_server();

    std::uint16_t port() const;
    /// "https://127.0.0.1:<port><path>" (or http://).
    std::string url(const std::string& path) const;
    const std::string& certificate_pem() const;
    const server_counters& counters() const;
    void stop();

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace chatwire::testing
