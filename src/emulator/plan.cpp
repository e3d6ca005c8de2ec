// Turning a response plan into the bytes and pauses of the wire.
#include <chatwire/emulator/plan.hpp>

#include <algorithm>
#include <cctype>

namespace chatwire::emulator {

std::string_view request::header(std::string_view lower_name) const noexcept {
    for (const auto& [name, value] : headers)
        if (name == lower_name) return value;
    return {};
}

namespace {

std::string hex(std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[n & 15]);
        n >>= 4;
    } while (n);
    return s;
}

std::string head(const response_plan& p, std::string_view reason, bool chunked, bool close) {
    std::string h = "HTTP/1.1 " + std::to_string(p.status) + " ";
    h += reason;
    h += "\r\nServer: chatwire-emulator\r\nContent-Type: ";
    h += p.content_type;
    h += "\r\n";
    if (p.streaming) {
        h += "Cache-Control: no-cache\r\n";
        if (chunked) h += "Transfer-Encoding: chunked\r\n";
    } else {
        h += "Content-Length: " + std::to_string(p.body.size()) + "\r\n";
    }
    h += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    for (const auto& [name, value] : p.headers) {
        h += name;
        h += ": ";
        h += value;
        h += "\r\n";
    }
    h += "\r\n";
    return h;
}

} // namespace

wire_plan to_wire(response_plan&& p, std::string_view reason, const request& req) {
    wire_plan w;
    // Without chunked encoding (HTTP/1.0) a stream can only end by closing.
    const bool chunked = p.streaming && req.version >= 11;
    const bool close = p.close || !req.keep_alive || (p.streaming && !chunked);
    w.end = close ? ending::close : ending::keep_alive;

    if (p.reset_before_response) {
        w.end = ending::reset;
        return w;
    }

    w.segments.push_back({p.stall_before, head(p, reason, chunked, close)});
    if (!p.streaming) {
        if (p.reset_after_events && *p.reset_after_events == 0) {
            w.end = ending::reset;
        } else {
            w.segments.back().bytes += p.body;
            if (p.reset_after_events) w.end = ending::reset;
        }
    } else {
        const std::size_t n = p.reset_after_events ? std::min(*p.reset_after_events, p.events.size())
                                                   : p.events.size();
        for (std::size_t i = 0; i < n; ++i) {
            segment s;
            if (i > 0) s.delay = p.event_delay;
            if (p.stall_after_events && *p.stall_after_events == i) s.delay += p.stall_mid;
            auto& ev = p.events[i];
            if (chunked) {
                s.bytes = hex(ev.size()) + "\r\n";
                s.bytes += ev;
                s.bytes += "\r\n";
            } else {
                s.bytes = std::move(ev);
            }
            w.segments.push_back(std::move(s));
        }
        if (p.reset_after_events) {
            // A stall at the reset's place delays it: the events before it are surely read.
            if (p.stall_after_events && *p.stall_after_events >= n) w.segments.push_back({p.stall_mid, {}});
            w.end = ending::reset;
        } else {
            segment last;
            if (p.stall_after_events && *p.stall_after_events >= n) last.delay = p.stall_mid;
            if (chunked) last.bytes = "0\r\n\r\n";
            if (!last.bytes.empty() || last.delay.count() > 0) w.segments.push_back(std::move(last));
        }
    }
    // The plan's copies are no longer needed: a long stream keeps only its wire bytes.
    std::vector<std::string>().swap(p.events);
    std::string().swap(p.body);
    w.drip_bytes = p.drip_bytes;
    w.drip_delay = p.drip_delay;
    return w;
}

std::optional<write_step> write_steps::next() {
    const auto& segs = w_.segments;
    if (seg_ >= segs.size()) return std::nullopt;
    const auto& s = segs[seg_];
    if (w_.drip_bytes == 0) {
        ++seg_;
        return write_step{s.delay, s.bytes};
    }
    // Dripping: a segment's own pause comes before its first piece, and every
    // piece but the response's first waits the drip delay as well.
    write_step step;
    step.delay = (off_ == 0 ? s.delay : std::chrono::milliseconds(0)) +
                 (first_ || s.bytes.empty() ? std::chrono::milliseconds(0) : w_.drip_delay);
    step.bytes = std::string_view(s.bytes).substr(off_, w_.drip_bytes);
    off_ += step.bytes.size();
    if (off_ >= s.bytes.size()) {
        ++seg_;
        off_ = 0;
    }
    if (!step.bytes.empty()) first_ = false;
    return step;
}

} // namespace chatwire::emulator
