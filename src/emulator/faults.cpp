// Parsing, matching and applying fault rules; all without I/O.
#include "internal.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace chatwire::emulator {

namespace json = boost::json;

std::string_view to_string(fault_kind k) noexcept {
    switch (k) {
    case fault_kind::status: return "status";
    case fault_kind::reset_before_response: return "reset_before_response";
    case fault_kind::reset_after_events: return "reset_after_events";
    case fault_kind::stall: return "stall_ms";
    case fault_kind::truncate_after_events: return "truncate_after_events";
    case fault_kind::drip: return "drip";
    case fault_kind::malformed_event: return "malformed_event";
    case fault_kind::oversized_event: return "oversized_event";
    case fault_kind::in_stream_error: return "in_stream_error";
    case fault_kind::refuse_stream: return "refuse_stream";
    case fault_kind::goaway: return "goaway";
    }
    return "?";
}

std::string_view to_string(api a) noexcept {
    switch (a) {
    case api::vectorshift: return "vectorshift";
    case api::chatbotkit: return "chatbotkit";
    case api::pollybot: return "pollybot";
    case api::admin: return "admin";
    }
    return "?";
}

namespace {

[[noreturn]] void bad(std::size_t index, std::string_view what) {
    throw std::invalid_argument("fault rule " + std::to_string(index) + ": " + std::string(what));
}

std::uint64_t get_uint(const json::object& o, std::string_view key, std::size_t index) {
    const auto* v = o.if_contains(key);
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    if (v->is_double() && v->as_double() >= 0) return static_cast<std::uint64_t>(v->as_double());
    bad(index, "'" + std::string(key) + "' must be a non-negative number");
}

std::optional<std::uint64_t> opt_uint(const json::object& o, std::string_view key, std::size_t index) {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    return get_uint(o, key, index);
}

std::string opt_string(const json::object& o, std::string_view key, std::size_t index) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) bad(index, "'" + std::string(key) + "' must be a string");
    return std::string(v->as_string());
}

struct kind_name {
    std::string_view name;
    fault_kind kind;
};
constexpr kind_name kinds[] = {
    {"status", fault_kind::status},
    {"reset_before_response", fault_kind::reset_before_response},
    {"reset_after_events", fault_kind::reset_after_events},
    {"stall_ms", fault_kind::stall},
    {"stall", fault_kind::stall},
    {"truncate_after_events", fault_kind::truncate_after_events},
    {"drip", fault_kind::drip},
    {"malformed_event", fault_kind::malformed_event},
    {"oversized_event", fault_kind::oversized_event},
    {"in_stream_error", fault_kind::in_stream_error},
    {"refuse_stream", fault_kind::refuse_stream},
    {"goaway", fault_kind::goaway},
};

fault_rule parse_rule(const json::value& v, std::size_t index) {
    if (!v.is_object()) bad(index, "not an object");
    const auto& o = v.as_object();
    fault_rule r;

    auto api_name = opt_string(o, "api", index);
    if (api_name == "vectorshift") r.target = api::vectorshift;
    else if (api_name == "chatbotkit") r.target = api::chatbotkit;
    else if (api_name == "pollybot") r.target = api::pollybot;
    else if (!api_name.empty() && api_name != "any") bad(index, "unknown api '" + api_name + "'");

    r.route = opt_string(o, "route", index);
    r.times = opt_uint(o, "times", index);

    auto kind = opt_string(o, "kind", index);
    if (kind.empty()) bad(index, "'kind' is required");
    bool known = false;
    for (const auto& k : kinds)
        if (k.name == kind) {
            r.kind = k.kind;
            known = true;
        }
    if (!known) bad(index, "unknown kind '" + kind + "'");

    // The kind's own number may be given under the kind's name or a generic key.
    auto number = [&](std::initializer_list<std::string_view> keys) -> std::optional<std::uint64_t> {
        for (auto k : keys)
            if (auto n = opt_uint(o, k, index)) return n;
        return std::nullopt;
    };
    if (auto s = number({"status"})) r.status = static_cast<int>(*s);
    if (r.kind == fault_kind::status && (r.status < 100 || r.status > 599)) bad(index, "'status' must be 100..599");
    r.retry_after = number({"retry_after"});
    r.ratelimit_reset = number({"ratelimit_reset"});
    if (auto in = opt_string(o, "hint_in", index); !in.empty()) {
        if (in != "both" && in != "header" && in != "body" && in != "none")
            bad(index, "'hint_in' must be both, header, body or none");
        r.hint_in_header = in == "both" || in == "header";
        r.hint_in_body = in == "both" || in == "body";
    }
    r.code = opt_string(o, "code", index);
    r.message = opt_string(o, "message", index);
    const bool counts_events =
        r.kind == fault_kind::reset_after_events || r.kind == fault_kind::truncate_after_events;
    const std::string_view events_key = counts_events ? std::string_view(kind) : "events";
    if (auto n = number({events_key, "events", "after_events", "at"})) {
        r.events = static_cast<std::size_t>(*n);
        r.events_given = true;
    }
    if (auto n = number({"stall_ms", "ms"})) r.stall = std::chrono::milliseconds(*n);
    const std::string_view bytes_key = r.kind == fault_kind::oversized_event ? std::string_view(kind) : "bytes";
    if (auto n = number({bytes_key, "bytes"})) r.bytes = static_cast<std::size_t>(std::min<std::uint64_t>(*n, SIZE_MAX));
    if (auto n = number({"delay_ms"})) r.delay = std::chrono::milliseconds(*n);
    if (auto n = number({"h2_code"})) {
        if (*n > 0xffffffffu) bad(index, "'h2_code' is a 32-bit HTTP/2 error code");
        r.h2_code = static_cast<std::uint32_t>(*n);
    }

    switch (r.kind) {
    case fault_kind::reset_after_events:
    case fault_kind::truncate_after_events:
        if (!r.events_given) bad(index, "'" + kind + "' needs a number of events");
        break;
    case fault_kind::drip:
        if (r.bytes == 0) r.bytes = 1;
        break;
    case fault_kind::oversized_event:
        if (r.bytes == 0) bad(index, "'oversized_event' needs a size in bytes");
        // Every hit builds the event in memory, so its size is bounded.
        if (r.bytes > max_fault_event_bytes)
            bad(index, "'oversized_event' is at most " + std::to_string(max_fault_event_bytes) + " bytes (64 MiB)");
        break;
    default:
        break;
    }
    return r;
}

} // namespace

std::vector<fault_rule> parse_fault_rules(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) throw std::invalid_argument("fault rules: not JSON (" + ec.message() + ")");
    if (v.is_object()) {
        // A single rule, or {"rules":[…]}
        if (auto* rules = v.as_object().if_contains("rules")) v = *rules;
        else v = json::array{v};
    }
    if (!v.is_array()) throw std::invalid_argument("fault rules: expected a JSON array");
    std::vector<fault_rule> out;
    std::size_t i = 0;
    for (const auto& r : v.as_array()) out.push_back(parse_rule(r, i++));
    return out;
}

std::vector<fault_rule> fault_script::match(enum api a, std::string_view route_key) {
    std::vector<fault_rule> hit;
    const auto space = route_key.find(' ');
    const auto template_only = space == std::string_view::npos ? route_key : route_key.substr(space + 1);
    for (auto& r : rules_) {
        if (r.times && r.hits >= *r.times) continue;
        if (r.target && *r.target != a) continue;
        if (!r.route.empty() && r.route != route_key && r.route != template_only) continue;
        ++r.hits;
        hit.push_back(r);
    }
    return hit;
}

namespace detail {

namespace {

std::size_t last_non_terminal(const response_plan& p) {
    return p.events.size() > p.terminal_events ? p.events.size() - p.terminal_events : 0;
}

std::string malformed(const std::string& event, stream_framing f) {
    // Keep the framing, cut the JSON in half.
    if (f == stream_framing::sse) {
        std::string_view payload(event);
        if (payload.rfind("data: ", 0) == 0) payload.remove_prefix(6);
        while (!payload.empty() && payload.back() == '\n') payload.remove_suffix(1);
        return "data: " + std::string(payload.substr(0, payload.size() / 2)) + "\n\n";
    }
    std::string_view line(event);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    return std::string(line.substr(0, line.size() / 2)) + "\n";
}

std::string oversized(std::size_t bytes, stream_framing f) {
    std::string head = f == stream_framing::sse ? R"(data: {"type":"token","content":")"
                                                : R"({"type":"token","data":{"token":")";
    std::string tail = f == stream_framing::sse ? "\"}\n\n" : "\"}}\n";
    const auto overhead = head.size() + tail.size();
    return head + std::string(bytes > overhead ? bytes - overhead : 1, 'x') + tail;
}

} // namespace

void apply_fault(const fault_rule& r, enum api a, std::string_view route_key, response_plan& plan) {
    switch (r.kind) {
    case fault_kind::status: {
        const bool keep_close = plan.close;
        auto headers = std::move(plan.headers);
        plan = api_error(a, r.status, r.code, r.message, r.retry_after);
        plan.close = keep_close;
        for (auto& h : headers) {
            if (h.first == "X-RateLimit-Reset" && r.ratelimit_reset) continue;
            plan.headers.push_back(std::move(h));
        }
        if (r.ratelimit_reset) plan.headers.emplace_back("X-RateLimit-Reset", std::to_string(*r.ratelimit_reset));
        if (!r.hint_in_header)
            std::erase_if(plan.headers, [](const auto& h) { return h.first == "Retry-After"; });
        if (!r.hint_in_body && a == api::pollybot) {
            boost::system::error_code ec;
            auto body = json::parse(plan.body, ec);
            if (!ec && body.is_object()) {
                body.as_object().erase("retryAfter");
                plan.body = json::serialize(body);
            }
        }
        break;
    }
    case fault_kind::reset_before_response:
        plan.reset_before_response = true;
        break;
    case fault_kind::reset_after_events:
        plan.reset_after_events = r.events;
        if (r.h2_code) plan.h2_reset_code = *r.h2_code;
        break;
    case fault_kind::refuse_stream:
        plan.reset_before_response = true;
        plan.refuse_stream = true;
        break;
    case fault_kind::goaway:
        plan.reset_before_response = true;
        plan.goaway = r.h2_code.value_or(0);
        break;
    case fault_kind::stall:
        if (r.events_given) {
            plan.stall_after_events = r.events;
            plan.stall_mid = r.stall;
        } else {
            plan.stall_before += r.stall;
        }
        break;
    case fault_kind::truncate_after_events:
        if (plan.streaming) plan.events.resize(std::min(r.events, last_non_terminal(plan)));
        break;
    case fault_kind::drip:
        plan.drip_bytes = r.bytes;
        plan.drip_delay = r.delay;
        break;
    case fault_kind::malformed_event:
        if (plan.streaming) {
            if (plan.events.empty()) break;
            auto at = std::min(r.events, plan.events.size() - 1);
            plan.events[at] = malformed(plan.events[at], plan.framing);
        } else {
            plan.body.resize(plan.body.size() / 2);
        }
        break;
    case fault_kind::oversized_event:
        if (plan.streaming) {
            auto at = std::min(r.events, plan.events.size());
            plan.events.insert(plan.events.begin() + static_cast<std::ptrdiff_t>(at),
                               oversized(r.bytes, plan.framing));
        }
        break;
    case fault_kind::in_stream_error:
        if (plan.streaming) {
            // VectorShift's failed final event names the conversation, taken from the real final event.
            std::string conversation;
            if (a == api::vectorshift && !plan.events.empty()) {
                std::string_view last(plan.events.back());
                if (last.rfind("data: ", 0) == 0) last.remove_prefix(6);
                boost::system::error_code ec;
                auto v = json::parse(last, ec);
                if (!ec && v.is_object())
                    if (const auto* id = v.as_object().if_contains("conversation_id"); id && id->is_string())
                        conversation = std::string(id->as_string());
            }
            auto keep = std::min(r.events_given ? r.events : 1, last_non_terminal(plan));
            plan.events.resize(keep);
            plan.events.push_back(in_stream_error_event(
                a, route_key, plan.framing, r.code.empty() ? "INTERNAL_ERROR" : r.code,
                r.message.empty() ? "The model failed while generating the reply" : r.message, conversation));
        }
        break;
    }
}

} // namespace detail
} // namespace chatwire::emulator
