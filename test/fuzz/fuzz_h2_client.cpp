// The HTTP/2 client session on arbitrary server bytes: one to three requests
// are submitted (GETs and a POST with a body), then the input is fed to
// receive() in pieces, the session's output drained after each. Checked: no
// crash, no sanitizer report; each stream's events come in order (interim
// heads, at most the session's limit, then the final head, then data, then
// one close, nothing after it); a delivered head is within the header limit;
// a stream never holds more unconsumed data than its window, nor the
// connection more than its own; what output() hands out at a time stays
// bounded; and after abort() every stream has closed exactly once.
// Input: byte 0 picks the number of requests, whether the reader consumes
// what it gets, and how the rest is cut; the rest is what the server sent.
#include "fuzz_split.hpp"

#include "../../src/http/h2/client_session.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace chatwire::http;
using chatwire::fuzz::check;

// The session's default windows; until the server acknowledges the client's
// SETTINGS it may use the protocol's initial 65,535 instead.
const std::size_t stream_window = std::max<std::size_t>(h2::session_limits{}.stream_window, 65535);
const std::size_t connection_window = h2::session_limits{}.connection_window;
constexpr std::size_t max_header_bytes = 4096;
constexpr unsigned max_interim = 4;
// What output() may hand out at once: 64 KiB collected, plus the frame that crossed it.
constexpr std::size_t max_output = 64 * 1024 + 16 * 1024 + 9;

struct stream_log {
    std::int32_t id = 0;
    unsigned interim = 0;
    bool final_head = false;
    bool closed = false;
    std::size_t unconsumed = 0;
};

struct sink final : h2::stream_sink {
    h2::client_session* session = nullptr;
    std::array<stream_log, 3> streams{};
    std::size_t count = 0;
    bool consume = true;
    std::size_t unconsumed_total = 0;

    stream_log& find(std::int32_t id) {
        for (std::size_t i = 0; i < count; ++i)
            if (streams[i].id == id) return streams[i];
        check(false);  // an event for a stream never opened
        return streams[0];
    }

    void on_head(std::int32_t id, const h2::response_head& head) override {
        auto& s = find(id);
        check(!s.closed && !s.final_head);
        std::size_t size = 0;
        for (const auto& f : head.fields) size += f.name.size() + f.value.size() + 32;
        check(size <= max_header_bytes);
        if (head.interim()) {
            check(++s.interim <= max_interim);
        } else {
            s.final_head = true;
        }
    }
    void on_data(std::int32_t id, std::string_view chunk) override {
        auto& s = find(id);
        check(!s.closed && s.final_head);
        s.unconsumed += chunk.size();
        unconsumed_total += chunk.size();
        check(s.unconsumed <= stream_window);
        check(unconsumed_total <= connection_window);
        if (consume) {
            session->consume(id, s.unconsumed);
            unconsumed_total -= s.unconsumed;
            s.unconsumed = 0;
        }
    }
    void on_close(std::int32_t id, const h2::stream_close& how) override {
        auto& s = find(id);
        check(!s.closed);
        s.closed = true;
        // A whole response had its final head.
        if (!how.ec) check(s.final_head);
        unconsumed_total -= s.unconsumed;
        s.unconsumed = 0;
    }
};

void drain(h2::client_session& session) {
    for (int rounds = 0; rounds < 64 && session.wants_write(); ++rounds) {
        const auto out = session.output();
        check(out.size() <= max_output);
        if (out.empty()) break;
        session.wrote(out.size());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = chatwire::fuzz::split_header(data, size);
    h2::session_limits limits;
    limits.max_header_bytes = max_header_bytes;
    limits.max_interim_heads = max_interim;
    h2::client_session session(limits);
    sink events;
    events.session = &session;
    events.consume = (input.seed & 4) == 0;

    static const std::string body(20000, 'b');
    const std::size_t requests = 1 + input.seed % 3;
    for (std::size_t i = 0; i < requests; ++i) {
        h2::request req;
        req.authority = "127.0.0.1:8443";
        req.path = i == 0 ? "/api/v1/chat" : "/list?cursor=c";
        if (i == 1) {
            req.method = "POST";
            req.body = body;
        }
        chatwire::error_code ec;
        const auto id = session.submit(req, events, ec);
        check(!ec && id > 0);
        events.streams[events.count++].id = id;
    }
    drain(session);
    for (auto piece : chatwire::fuzz::pieces_of(input.body, static_cast<std::uint8_t>(input.seed >> 3))) {
        if (!session.wants_read()) break;
        (void)session.receive({piece.data(), piece.size()});
        drain(session);
    }
    session.abort(boost::asio::error::eof);
    for (std::size_t i = 0; i < events.count; ++i) check(events.streams[i].closed);
    return 0;
}
