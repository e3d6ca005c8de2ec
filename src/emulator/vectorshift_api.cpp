// VectorShift: the legacy chatbot endpoint and the v1 chatbot API.
#include "internal.hpp"

#include <boost/json/array.hpp>

namespace chatwire::emulator::detail {

namespace json = boost::json;

namespace {

// Chatbots come into being when first named, so they are capped like
// conversations: beyond the cap the oldest is forgotten.
const vs_chatbot& add_chatbot(world& w, vs_chatbot b) {
    auto& s = w.vs;
    if (s.chatbots.size() >= std::max<std::size_t>(w.opts.max_conversations, 1)) {
        const auto& old = s.chatbots.front();
        if (auto it = s.by_id.find(old.id); it != s.by_id.end() && it->second == &old) s.by_id.erase(it);
        if (auto it = s.by_name.find(old.name); it != s.by_name.end() && it->second == &old) s.by_name.erase(it);
        s.chatbots.pop_front();
    }
    const auto& added = s.chatbots.emplace_back(std::move(b));
    s.by_id.emplace(added.id, &added);
    s.by_name.emplace(added.name, &added);
    return added;
}

const vs_chatbot& chatbot_by_id(world& w, std::string_view id, std::int64_t now_ms) {
    if (auto it = w.vs.by_id.find(std::string(id)); it != w.vs.by_id.end()) return *it->second;
    return add_chatbot(w, {std::string(id), "chatbot-" + std::string(id), now_ms});
}

const vs_chatbot& chatbot_by_name(world& w, std::string_view name, std::int64_t now_ms) {
    if (auto it = w.vs.by_name.find(std::string(name)); it != w.vs.by_name.end()) return *it->second;
    return add_chatbot(w, {w.ids.hex(), std::string(name), now_ms});
}

json::object chatbot_object(const vs_chatbot& b) {
    return {{"_id", b.id}, {"name", b.name}, {"description", ""}, {"deployed", true}, {"created_at", b.created_ms}};
}

std::string_view string_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

bool bool_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_bool() && v->as_bool();
}

struct exchange {
    std::string conversation_id;
    std::string reply;
};

vs_conversation& new_conversation(world& w, const std::string& id, const vs_chatbot& bot) {
    return w.vs.conversations.insert(id, vs_conversation{bot.id, reply_context(w.opts.seed, bot.id), {}},
                                     w.opts.max_conversations);
}

// Runs one turn of a conversation; nullopt when the given conversation does not
// exist for this chatbot (its running history was folded for its own chatbot).
std::optional<exchange> run_turn(world& w, const vs_chatbot& bot, std::string_view conversation_id,
                                 std::string_view input) {
    vs_conversation* conv = nullptr;
    std::string id;
    if (!conversation_id.empty()) {
        id = std::string(conversation_id);
        conv = w.vs.conversations.find(id);
        if (!conv || conv->chatbot_id != bot.id) return std::nullopt;
    } else {
        id = w.ids.hex();
        conv = &new_conversation(w, id, bot);
    }
    auto reply = conv->context.reply(input);
    conv->context.add("user", input);
    conv->context.add("bot", reply);
    return exchange{std::move(id), std::move(reply)};
}

response_plan sse_plan(const world& w) {
    response_plan p;
    p.streaming = true;
    p.framing = stream_framing::sse;
    p.content_type = "text/event-stream";
    p.event_delay = w.opts.token_delay;
    return p;
}

} // namespace

response_plan vs_legacy_run(call& c, world& w) {
    auto body = parse_object(c.req.body);
    if (!body) return vs_error(400, "Request body must be a JSON object");
    auto input = string_field(*body, "input");
    if (!body->contains("input") || !body->at("input").is_string())
        return vs_error(400, "Missing required field: input");
    auto id = string_field(*body, "chatbot_id");
    auto name = string_field(*body, "chatbot_name");
    if (id.empty() && name.empty()) return vs_error(400, "One of chatbot_id or chatbot_name is required");
    const auto& bot = id.empty() ? chatbot_by_name(w, name, c.now_ms()) : chatbot_by_id(w, id, c.now_ms());

    auto turn = run_turn(w, bot, string_field(*body, "conversation_id"), input);
    if (!turn) return vs_error(404, "Conversation not found");

    if (!bool_field(*body, "stream"))
        return json_response(200, json::object{{"status", "success"},
                                               {"output", turn->reply},
                                               {"conversation_id", turn->conversation_id}});
    // The seed's stream: each event carries the whole text so far.
    auto p = sse_plan(w);
    std::string so_far;
    for (const auto& tok : tokenize(turn->reply)) {
        so_far += tok;
        p.events.push_back(sse_event(json::object{{"output", so_far}, {"conversation_id", turn->conversation_id}}));
    }
    p.terminal_events = 1;
    return p;
}

response_plan vs_v1_run(call& c, world& w) {
    auto body = parse_object(c.req.body);
    if (!body) return vs_error(400, "Request body must be a JSON object");
    if (!body->contains("text") || !body->at("text").is_string()) return vs_error(400, "Missing required field: text");
    const auto& bot = chatbot_by_id(w, c.id, c.now_ms());
    auto turn = run_turn(w, bot, string_field(*body, "conversation_id"), string_field(*body, "text"));
    if (!turn) return vs_error(404, "Conversation not found");

    json::object final_event{{"status", "success"},
                             {"conversation_id", turn->conversation_id},
                             {"output_message", turn->reply}};
    if (!bool_field(*body, "stream")) return json_response(200, final_event);
    auto p = sse_plan(w);
    for (const auto& tok : tokenize(turn->reply))
        p.events.push_back(sse_event(json::object{{"type", "stream"}, {"output_value", tok}}));
    p.events.push_back(sse_event(final_event));
    p.terminal_events = 1;
    return p;
}

response_plan vs_v1_list(call& c, world& w) {
    const bool verbose = c.query_param("verbose").value_or("false") == "true";
    json::array ids, objects;
    for (const auto& b : w.vs.chatbots) {
        ids.push_back(json::string(b.id));
        if (verbose) objects.push_back(chatbot_object(b));
    }
    json::object out{{"status", "success"}, {"object_ids", std::move(ids)}};
    if (verbose) out["objects"] = std::move(objects);
    return json_response(200, out);
}

response_plan vs_v1_fetch(call& c, world& w) {
    auto id = c.query_param("id");
    auto name = c.query_param("name");
    if ((!id || id->empty()) && (!name || name->empty()))
        return vs_error(400, "One of id or name is required");
    const auto& bot = id && !id->empty() ? chatbot_by_id(w, *id, c.now_ms()) : chatbot_by_name(w, *name, c.now_ms());
    return json_response(200, json::object{{"status", "success"}, {"object", chatbot_object(bot)}});
}

namespace {
bool is_base64(std::string_view s) {
    if (s.size() % 4 != 0) return false;
    std::size_t pad = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char ch = s[i];
        bool alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (ch == '=') {
            if (i + 2 < s.size()) return false;
            ++pad;
        } else if (pad || !(alnum || ch == '+' || ch == '/')) {
            return false;
        }
    }
    return true;
}
} // namespace

response_plan vs_v1_upload(call& c, world& w) {
    auto body = parse_object(c.req.body);
    if (!body) return vs_error(400, "Request body must be a JSON object");
    const auto* files = body->if_contains("files");
    if (!files || !files->is_array() || files->as_array().empty())
        return vs_error(400, "Missing required field: files");
    const auto& bot = chatbot_by_id(w, c.id, c.now_ms());

    std::string conversation_id(string_field(*body, "conversation_id"));
    vs_conversation* found = nullptr;
    if (!conversation_id.empty()) {
        found = w.vs.conversations.find(conversation_id);
        if (!found) return vs_error(404, "Conversation not found");
    } else {
        conversation_id = w.ids.hex();
        found = &new_conversation(w, conversation_id, bot);
    }
    auto& conv = *found;
    if (conv.knowledge_base_id.empty()) conv.knowledge_base_id = w.ids.hex();

    json::array uploaded, errors;
    std::size_t index = 0;
    for (const auto& f : files->as_array()) {
        const auto* o = f.if_object();
        const auto raw = o ? string_field(*o, "raw_bytes") : std::string_view();
        if (!o || string_field(*o, "type") != "file" || raw.empty() || !is_base64(raw))
            errors.push_back(json::string("file " + std::to_string(index) + ": expected {\"type\":\"file\",\"raw_bytes\":base64}"));
        else
            uploaded.push_back(json::string(o->contains("name") ? std::string(string_field(*o, "name"))
                                                                 : "file_" + w.ids.hex(12)));
        ++index;
    }
    json::object out{{"status", uploaded.empty() ? "failed" : "success"},
                     {"conversation_id", conversation_id},
                     {"knowledge_base_id", conv.knowledge_base_id},
                     {"uploaded_files", std::move(uploaded)}};
    if (!errors.empty()) out["errors"] = std::move(errors);
    return json_response(200, out);
}

response_plan vs_v1_terminate(call& c, world& w) {
    auto body = parse_object(c.req.body);
    if (!body) return vs_error(400, "Request body must be a JSON object");
    if (string_field(*body, "pipeline_run_id").empty()) return vs_error(400, "Missing required field: pipeline_run_id");
    chatbot_by_id(w, c.id, c.now_ms());
    return json_response(200, json::object{{"status", "success"}});
}

} // namespace chatwire::emulator::detail
