#pragma once
// Drives the sans-io engine with plain request structs.
#include <chatwire/emulator/engine.hpp>

#include <boost/json.hpp>

#include <string>

namespace emu = chatwire::emulator;

inline emu::request make_request(std::string method, std::string target, emu::header_list headers = {},
                                 std::string body = {}) {
    emu::request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
}

/// A request to the admin API that passes its gate: Host 127.0.0.1, the
/// engine's token and, with a body, Content-Type application/json.
inline emu::request admin_request(const emu::engine& e, std::string method, std::string target, std::string body = {}) {
    emu::header_list h{{"host", "127.0.0.1"}, {"x-emulator-admin-token", e.admin_token()}};
    if (!body.empty()) h.emplace_back("content-type", "application/json");
    return make_request(std::move(method), std::move(target), std::move(h), std::move(body));
}

inline boost::json::object body_of(const emu::response_plan& p) { return boost::json::parse(p.body).as_object(); }

inline std::string header_of(const emu::response_plan& p, std::string_view name) {
    for (const auto& [n, v] : p.headers)
        if (n == name) return v;
    return {};
}

/// The JSON payloads of a streamed plan's events ("data: " and line ends removed).
inline std::vector<std::string> payloads(const emu::response_plan& p) {
    std::vector<std::string> out;
    for (std::string_view e : p.events) {
        if (e.rfind("data: ", 0) == 0) e.remove_prefix(6);
        while (!e.empty() && e.back() == '\n') e.remove_suffix(1);
        out.emplace_back(e);
    }
    return out;
}

inline const emu::header_list bearer{{"authorization", "Bearer sk-test"}};
