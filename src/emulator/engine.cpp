// Routing, authentication, rate limits, statistics, faults and the admin API.
#include "admin_gate.hpp"
#include "internal.hpp"

#include <chatwire/emulator/engine.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

namespace chatwire::emulator {

using namespace detail;
namespace json = boost::json;

namespace {

struct route {
    std::string_view method;
    std::string_view path;  ///< a template: "{id}" matches one non-empty segment
    enum api target;
    handler fn;
};

// The three APIs' paths do not collide, so one table serves them all.
// ChatBotKit's official SDK uses /api/v1 on any host but its own: both are served.
#define CBK_ROUTES(prefix)                                                                        \
    {"GET", prefix "/conversation/list", api::chatbotkit, cbk_conversation_list},                 \
    {"POST", prefix "/conversation/create", api::chatbotkit, cbk_conversation_create},            \
    {"POST", prefix "/conversation/complete", api::chatbotkit, cbk_stateless_complete},           \
    {"GET", prefix "/conversation/{id}/fetch", api::chatbotkit, cbk_conversation_fetch},          \
    {"POST", prefix "/conversation/{id}/update", api::chatbotkit, cbk_conversation_update},       \
    {"POST", prefix "/conversation/{id}/delete", api::chatbotkit, cbk_conversation_delete},       \
    {"POST", prefix "/conversation/{id}/complete", api::chatbotkit, cbk_conversation_complete},   \
    {"GET", prefix "/conversation/{id}/message/list", api::chatbotkit, cbk_message_list},         \
    {"POST", prefix "/conversation/{id}/message/create", api::chatbotkit, cbk_message_create},    \
    {"GET", prefix "/bot/list", api::chatbotkit, cbk_bot_list},                                   \
    {"POST", prefix "/bot/create", api::chatbotkit, cbk_bot_create}

const route routes[] = {
    {"POST", "/api/chatbots/run", api::vectorshift, vs_legacy_run},
    {"POST", "/v1/chatbot/{id}/run", api::vectorshift, vs_v1_run},
    {"GET", "/v1/chatbots", api::vectorshift, vs_v1_list},
    {"GET", "/v1/chatbot", api::vectorshift, vs_v1_fetch},
    {"POST", "/v1/chatbot/{id}/upload", api::vectorshift, vs_v1_upload},
    {"POST", "/v1/chatbot/{id}/terminate", api::vectorshift, vs_v1_terminate},
    CBK_ROUTES("/v1"),
    CBK_ROUTES("/api/v1"),
    {"POST", "/api/v1/chatbots/{id}/chat", api::pollybot, pb_chat},
};
#undef CBK_ROUTES

// Matches `path` against a template; the {id} segment is returned decoded.
bool match_template(std::string_view tpl, std::string_view path, std::string& id) {
    while (!tpl.empty() && !path.empty()) {
        if (tpl.rfind("{id}", 0) == 0) {
            auto end = path.find('/');
            auto seg = path.substr(0, end);
            if (seg.empty()) return false;
            id = percent_decode(seg);
            tpl.remove_prefix(4);
            path.remove_prefix(seg.size());
            continue;
        }
        if (tpl.front() != path.front()) return false;
        tpl.remove_prefix(1);
        path.remove_prefix(1);
    }
    return tpl.empty() && path.empty();
}

// Which API a path that matched no route belongs to, for its 404 body.
enum api guess_api(std::string_view path) {
    if (path.rfind("/api/v1/chatbots/", 0) == 0) return api::pollybot;
    if (path.rfind("/api/chatbots", 0) == 0 || path.rfind("/v1/chatbot", 0) == 0 || path.rfind("/v1/pipeline", 0) == 0)
        return api::vectorshift;
    return api::chatbotkit;
}

std::string bearer_token(std::string_view auth, bool allow_token_scheme) {
    for (std::string_view scheme : {std::string_view("Bearer "), std::string_view("Token ")}) {
        if (scheme == "Token " && !allow_token_scheme) continue;
        if (auth.size() > scheme.size()) {
            bool same = true;
            for (std::size_t i = 0; i < scheme.size(); ++i)
                if (std::tolower(static_cast<unsigned char>(auth[i])) !=
                    std::tolower(static_cast<unsigned char>(scheme[i])))
                    same = false;
            if (same) return std::string(auth.substr(scheme.size()));
        }
    }
    return {};
}

void add_rate_headers(const rate_verdict& v, response_plan& p);

} // namespace

struct engine::state {
    explicit state(const options& o) : w(o), admin_token(resolve_admin_token(o)) {}
    world w;
    const std::string admin_token;
    fault_script faults;
    std::uint64_t requests = 0;
    std::map<std::string, std::uint64_t> route_hits;
    std::map<int, std::uint64_t> status_hits;  ///< API answers by status, faults included
    std::uint64_t open_connections = 0;
    std::uint64_t refused_connections = 0;
    // Per protocol, since the last reset: connections, and requests (HTTP/2: streams).
    std::uint64_t http1_connections = 0, http1_requests = 0;
    std::uint64_t http2_connections = 0, http2_streams = 0;
    std::uint64_t http2_pings = 0, http2_data_frames = 0;

    // nullopt: authenticated; otherwise the API's 401.
    std::optional<response_plan> authenticate(const route& r, call& c) const;
    response_plan admin(call& c);
    rate_verdict count_rate(const call& c, bool denied);
    const route* find_route(call& c, bool& path_known) const;
};

std::optional<response_plan> engine::state::authenticate(const route& r, call& c) const {
    const auto& expected = w.opts.api_key;
    switch (r.target) {
    case api::vectorshift: {
        if (r.path == "/api/chatbots/run") {
            auto key = c.req.header("api-key");
            if (key.empty()) return vs_auth_error("Missing authorization header");
            c.api_key = std::string(key);
        } else {
            auto auth = c.req.header("authorization");
            if (auth.empty()) return vs_auth_error("Missing authorization header");
            c.api_key = bearer_token(auth, false);
            if (c.api_key.empty()) return vs_auth_error("Invalid authorization header format");
        }
        if (expected && !same_secret(c.api_key, *expected)) return vs_auth_error("Invalid API key");
        return std::nullopt;
    }
    case api::chatbotkit: {
        auto auth = c.req.header("authorization");
        c.api_key = bearer_token(auth, true);
        if (c.api_key.empty() || (expected && !same_secret(c.api_key, *expected)))
            return cbk_error(401, "NOT_AUTHENTICATED", "Not authenticated");
        return std::nullopt;
    }
    case api::pollybot: {
        auto auth = c.req.header("authorization");
        c.api_key = bearer_token(auth, false);
        if (c.api_key.empty())
            return pb_error(401, "MISSING_AUTH_HEADER", "Missing or invalid Authorization header");
        if (expected && !same_secret(c.api_key, *expected)) return pb_error(401, "INVALID_API_KEY", "Invalid or inactive API key");
        return std::nullopt;
    }
    case api::admin:
        return std::nullopt;
    }
    return std::nullopt;
}

// A refused request is reported against its key's window but not counted:
// otherwise anyone could fill the table (and another key's window) with 401s.
rate_verdict engine::state::count_rate(const call& c, bool denied) {
    const bool enforce = w.opts.rate_limit.has_value();
    const std::size_t limit = enforce ? *w.opts.rate_limit : 1000;
    auto v = denied ? w.pb_limits.peek(c.api_key, c.now, limit, w.opts.rate_window)
                    : w.pb_limits.hit(c.api_key, c.now, limit, w.opts.rate_window, enforce);
    // A window that refuses nothing never says it is used up: a client pacing
    // by the headers would wait for nothing.
    if (!enforce && v.remaining == 0) v.remaining = 1;
    return v;
}

const route* engine::state::find_route(call& c, bool& path_known) const {
    path_known = false;
    for (const auto& r : routes) {
        std::string id;
        if (!match_template(r.path, c.path, id)) continue;
        path_known = true;
        if (r.method != c.req.method) continue;
        c.id = std::move(id);
        return &r;
    }
    return nullptr;
}

namespace {
void add_rate_headers(const rate_verdict& v, response_plan& p) {
    p.headers.emplace_back("X-RateLimit-Limit", std::to_string(v.limit));
    p.headers.emplace_back("X-RateLimit-Remaining", std::to_string(v.remaining));
    p.headers.emplace_back("X-RateLimit-Reset", std::to_string(v.reset_epoch_s));
    p.headers.emplace_back("X-RateLimit-Used", std::to_string(v.used));
}
} // namespace

response_plan engine::state::admin(call& c) {
    const auto path = c.path;
    const auto& m = c.req.method;
    if (path == "/_emulator/stats" && m == "GET") {
        response_plan p;
        json::object routes_obj;
        for (const auto& [k, n] : route_hits) routes_obj[k] = n;
        json::object statuses_obj;
        for (const auto& [k, n] : status_hits) statuses_obj[std::to_string(k)] = n;
        p.body = json::serialize(json::object{
            {"requests", requests}, {"routes", std::move(routes_obj)}, {"statuses", std::move(statuses_obj)},
            {"open_connections", open_connections},
            {"refused_connections", refused_connections},
            {"http1", json::object{{"connections", http1_connections}, {"requests", http1_requests}}},
            {"http2", json::object{{"connections", http2_connections}, {"streams", http2_streams},
                                   {"pings", http2_pings}, {"data_frames", http2_data_frames}}}});
        return p;
    }
    if (path == "/_emulator/faults") {
        if (m == "POST" || m == "PUT") {
            try {
                faults.replace(parse_fault_rules(c.req.body));
            } catch (const std::exception& e) {
                return json_response(400, json::object{{"error", e.what()}});
            }
            return json_response(200, json::object{{"rules", faults.rules().size()}});
        }
        if (m == "DELETE") {
            faults.clear();
            return json_response(200, json::object{{"rules", 0}});
        }
        if (m == "GET") {
            json::array a;
            for (const auto& r : faults.rules()) {
                json::object o{{"kind", to_string(r.kind)}, {"hits", r.hits}};
                o["api"] = r.target ? to_string(*r.target) : "any";
                if (!r.route.empty()) o["route"] = r.route;
                if (r.times) o["times"] = *r.times;
                a.push_back(std::move(o));
            }
            return json_response(200, a);
        }
    }
    if (path == "/_emulator/reset" && m == "POST") {
        const options opts = w.opts;
        w = world(opts);
        faults.clear();
        requests = 0;
        route_hits.clear();
        status_hits.clear();
        refused_connections = 0;
        http1_connections = http1_requests = http2_connections = http2_streams = 0;
        http2_pings = http2_data_frames = 0;
        return json_response(200, json::object{{"reset", true}});
    }
    return json_response(404, json::object{{"error", "no such admin endpoint"}});
}

engine::engine(const options& opts) : st_(std::make_unique<state>(opts)) {
    if (!opts.faults_json.empty()) st_->faults.replace(parse_fault_rules(opts.faults_json));
}

engine::~engine() = default;

void engine::connection_opened() noexcept { ++st_->open_connections; }
void engine::connection_closed() noexcept {
    if (st_->open_connections) --st_->open_connections;
}
void engine::connection_refused() noexcept { ++st_->refused_connections; }
void engine::h2_frames_received(std::size_t pings, std::size_t data_frames) noexcept {
    st_->http2_pings += pings;
    st_->http2_data_frames += data_frames;
}
void engine::connection_speaks(int version) noexcept {
    ++(version >= 20 ? st_->http2_connections : st_->http1_connections);
}

std::string engine::stats_json() const {
    request r;
    r.method = "GET";
    call c{r, "/_emulator/stats", "", {}, {}, {}, {}};
    return st_->admin(c).body;
}

void engine::set_faults(std::string_view json_text) { st_->faults.replace(parse_fault_rules(json_text)); }
void engine::clear_faults() { st_->faults.clear(); }
void engine::reset() {
    request r;
    r.method = "POST";
    call c{r, "/_emulator/reset", "", {}, {}, {}, {}};
    st_->admin(c);
}

namespace {
call make_call(const request& req, std::chrono::system_clock::time_point now) {
    std::string_view target = req.target;
    auto qpos = target.find('?');
    return call{req, target.substr(0, qpos), qpos == std::string_view::npos ? std::string_view() : target.substr(qpos + 1),
                {}, {}, {}, now};
}
} // namespace

const std::string& engine::admin_token() const noexcept { return st_->admin_token; }

std::optional<response_plan> engine::screen(const request& head, std::chrono::system_clock::time_point now) {
    auto c = make_call(head, now);
    if (c.path.rfind("/_emulator/", 0) == 0) {
        auto refused = admin_refusal(head, st_->w.opts, st_->admin_token);
        if (refused) refused->close = true;
        return refused;
    }
    bool path_known = false;
    const auto* found = st_->find_route(c, path_known);
    if (!found || !st_->authenticate(*found, c)) return std::nullopt;
    // Refused on its head: answered (and counted) exactly as with a body.
    auto plan = handle(head, now);
    plan.close = true;
    return plan;
}

response_plan engine::handle(const request& req, std::chrono::system_clock::time_point now) {
    auto c = make_call(req, now);

    response_plan plan;
    if (c.path.rfind("/_emulator/", 0) == 0) {
        auto refused = admin_refusal(req, st_->w.opts, st_->admin_token);
        plan = refused ? std::move(*refused) : st_->admin(c);
    } else {
        ++st_->requests;
        ++(req.version >= 20 ? st_->http2_streams : st_->http1_requests);
        bool path_known = false;
        const route* found = st_->find_route(c, path_known);
        if (!found) {
            const auto a = guess_api(c.path);
            plan = path_known ? api_error(a, 405, "", "Method not allowed", std::nullopt)
                              : api_error(a, 404, "", "Not found", std::nullopt);
        } else {
            c.route_key = std::string(found->method) + " " + std::string(found->path);
            ++st_->route_hits[c.route_key];
            auto denied = st_->authenticate(*found, c);
            // A status fault refuses the request before the API acts on it, as
            // a real 429 or 503 does: the handler does not run (no conversation
            // made, no turn added to a history). The key comes first: a caller
            // without one meets no fault, nor spends one.
            const auto rules = denied ? std::vector<fault_rule>{} : st_->faults.match(found->target, c.route_key);
            const bool refused = std::any_of(rules.begin(), rules.end(),
                                             [](const fault_rule& r) { return r.kind == fault_kind::status; });
            auto act = [&] { return refused ? response_plan{} : found->fn(c, st_->w); };
            if (found->target == api::pollybot) {
                // Every PollyBot response reports the caller's window; refused
                // requests do not count against it.
                auto verdict = st_->count_rate(c, denied.has_value());
                if (denied) plan = std::move(*denied);
                else if (!verdict.allowed) {
                    plan = pb_error(429, "RATE_LIMIT_EXCEEDED",
                                    "Rate limit exceeded. Please wait before sending another message.",
                                    static_cast<std::uint64_t>(verdict.retry_after_s));
                    plan.headers.emplace_back("Retry-After", std::to_string(verdict.retry_after_s));
                } else {
                    plan = act();
                }
                add_rate_headers(verdict, plan);
            } else {
                plan = denied ? std::move(*denied) : act();
            }
            for (const auto& rule : rules) apply_fault(rule, found->target, c.route_key, plan);
        }
        ++st_->status_hits[plan.status];
    }
    if (!req.keep_alive) plan.close = true;
    return plan;
}

} // namespace chatwire::emulator
