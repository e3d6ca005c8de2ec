#pragma once
// The emulator without its sockets: routes, the three APIs, in-memory state,
// the admin API, rate limits and the fault script. Not thread-safe: the server
// calls it from one strand.
#include <chatwire/emulator/faults.hpp>
#include <chatwire/emulator/options.hpp>
#include <chatwire/emulator/plan.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace chatwire::emulator {

/// The emulator without I/O: a request in, the plan of its response out. Not thread-safe.
class engine {
public:
    /// An engine with `opts` (its initial faults included).
    explicit engine(const options& opts);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// Answers one request as it would be at wall-clock time `now`.
    response_plan handle(const request& req, std::chrono::system_clock::time_point now);
    /// The same at the current time.
    response_plan handle(const request& req) { return handle(req, std::chrono::system_clock::now()); }

    /// Looks at a request's head before its body is read. When the head alone
    /// refuses it (a missing or wrong key; for the admin API a foreign Host,
    /// a missing or wrong token, or a type other than JSON) this is the whole
    /// answer (an API's counted like any other), and the connection is to be
    /// closed without reading the body; nullopt when the body is needed.
    std::optional<response_plan> screen(const request& head, std::chrono::system_clock::time_point now);
    /// The same at the current time.
    std::optional<response_plan> screen(const request& head) { return screen(head, std::chrono::system_clock::now()); }

    /// Counts a connection accepted (for the stats).
    void connection_opened() noexcept;
    /// Counts a connection ended (for the stats).
    void connection_closed() noexcept;
    /// A connection closed at once because max_connections were open.
    void connection_refused() noexcept;
    /// Counts a connection by the protocol it speaks: 11 (HTTP/1.x) or 20
    /// (HTTP/2), once that is known (after ALPN or the first bytes).
    void connection_speaks(int version) noexcept;
    /// Counts HTTP/2 frames the connections received: PINGs (answered or
    /// not) and request DATA frames.
    void h2_frames_received(std::size_t pings, std::size_t data_frames) noexcept;

    /// The token the admin API asks for in admin_token_header: options::admin_token,
    /// else the API key, else one generated at construction from a CSPRNG.
    const std::string& admin_token() const noexcept;

    /// The body of GET /_emulator/stats.
    std::string stats_json() const;
    /// Replaces the fault script (a JSON array); throws std::invalid_argument.
    void set_faults(std::string_view json);
    /// Removes every fault rule.
    void clear_faults();
    /// Forgets conversations, bots, rate windows, counters and faults.
    void reset();

private:
    struct state;
    std::unique_ptr<state> st_;
};

} // namespace chatwire::emulator
