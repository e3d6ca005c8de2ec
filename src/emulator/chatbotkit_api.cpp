// ChatBotKit v1: conversations, their messages and completion, bots; cursor
// lists and JSONL list streaming. Sub-accounts (X-RunAs-UserId) see only their own.
#include "internal.hpp"

#include <boost/json/array.hpp>

#include <charconv>

namespace chatwire::emulator::detail {

namespace json = boost::json;

namespace {

constexpr std::string_view model_name = "chatwire-emulator";
constexpr std::size_t default_take = 25;
constexpr std::size_t max_take = 1000;

std::string owner_of(const call& c) {
    auto v = c.req.header("x-runas-userid");
    if (v.empty()) v = c.req.header("x-runas-user-id");
    return std::string(v);
}

cbk_conversation* find_conversation(call& c, world& w) {
    auto it = w.cbk.seq_of.find(c.id);
    if (it == w.cbk.seq_of.end()) return nullptr;
    auto conv = w.cbk.conversations.find(it->second);
    if (conv == w.cbk.conversations.end() || conv->second.owner != owner_of(c)) return nullptr;
    return &conv->second;
}

response_plan not_found(std::string_view what) {
    return cbk_error(404, "NOT_FOUND", std::string(what) + " not found");
}

response_plan bad_request(std::string_view why) { return cbk_error(400, "BAD_REQUEST", why); }

std::uint64_t issue(world& w, const std::string& id) {
    auto seq = w.cbk.next_seq++;
    w.cbk.seq_of[id] = seq;
    return seq;
}

constexpr std::string_view conversation_fields[] = {"name", "description", "botId", "model", "backstory"};
constexpr std::string_view bot_fields[] = {"name", "description", "model", "backstory"};

// Copies the known string fields of a create/update body; false when one has the wrong type.
template <std::size_t N>
bool take_fields(const json::object& body, const std::string_view (&names)[N], json::object& into) {
    for (auto name : names) {
        const auto* v = body.if_contains(name);
        if (!v) continue;
        if (v->is_null()) into.erase(name);
        else if (v->is_string()) into[name] = *v;
        else return false;
    }
    return true;
}

// `meta` replaces everything; `$update` merges the listed fields.
bool take_meta(const json::object& body, std::optional<json::object>& meta) {
    if (const auto* m = body.if_contains("meta")) {
        if (m->is_null()) meta.reset();
        else if (m->is_object()) meta = m->as_object();
        else return false;
    }
    if (const auto* u = body.if_contains("$update")) {
        if (!u->is_object()) return false;
        // {"$update":{"meta":{…}}} and {"$update":{field:…}} both merge into meta.
        const auto* inner = u->as_object().if_contains("meta");
        const auto& fields = inner && inner->is_object() ? inner->as_object() : u->as_object();
        if (!meta) meta.emplace();
        for (const auto& kv : fields) (*meta)[kv.key()] = kv.value();
    }
    return true;
}

json::object conversation_item(const cbk_conversation& c) {
    json::object o{{"id", c.id}, {"createdAt", c.created_ms}, {"updatedAt", c.updated_ms}};
    for (const auto& kv : c.fields) o[kv.key()] = kv.value();
    if (c.meta) o["meta"] = *c.meta;
    return o;
}

json::object message_item(const cbk_message& m) {
    return {{"id", m.id}, {"createdAt", m.created_ms}, {"updatedAt", m.created_ms}, {"type", m.type}, {"text", m.text}};
}

json::object bot_item(const cbk_bot& b) {
    json::object o{{"id", b.id}, {"createdAt", b.created_ms}, {"updatedAt", b.updated_ms}};
    for (const auto& kv : b.fields) o[kv.key()] = kv.value();
    if (b.meta) o["meta"] = *b.meta;
    return o;
}

struct listed {
    std::uint64_t seq;
    json::object item;
};

// One page (or, with Accept: application/jsonl, every item) of a list in
// ascending creation order; newest first unless order=asc.
response_plan list_response(call& c, world& w, std::vector<listed> asc) {
    const auto order = c.query_param("order").value_or("desc");
    if (order != "asc" && order != "desc") return bad_request("order must be asc or desc");
    std::size_t take = default_take;
    if (auto t = c.query_param("take"); t && !t->empty()) {
        auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), take);
        if (ec != std::errc() || ptr != t->data() + t->size() || take == 0 || take > max_take)
            return bad_request("take must be a number from 1 to 1000");
    }
    std::optional<std::uint64_t> after;
    if (auto cur = c.query_param("cursor"); cur && !cur->empty()) {
        auto it = w.cbk.seq_of.find(*cur);
        if (it == w.cbk.seq_of.end()) return bad_request("cursor does not name a known item");
        after = it->second;
    }
    // meta.KEY=VALUE keeps the items whose meta has that value (as the SDK's `meta` filter sends it).
    for (const auto& param : c.query_params()) {
        const auto& key = param.first;
        const auto& value = param.second;
        if (key.rfind("meta.", 0) != 0) continue;
        const auto field = std::string_view(key).substr(5);
        std::erase_if(asc, [&](const listed& l) {
            const auto* meta = l.item.if_contains("meta");
            const auto* v = meta && meta->is_object() ? meta->as_object().if_contains(field) : nullptr;
            if (!v) return true;
            return v->is_string() ? v->as_string() != value : to_json(*v) != value;
        });
    }
    if (order == "desc") std::reverse(asc.begin(), asc.end());
    std::vector<json::object> picked;
    const bool stream = c.wants_jsonl();
    for (auto& l : asc) {
        if (after && (order == "desc" ? l.seq >= *after : l.seq <= *after)) continue;
        if (!stream && picked.size() == take) break;
        picked.push_back(std::move(l.item));
    }
    if (stream) {
        response_plan p;
        p.streaming = true;
        p.framing = stream_framing::jsonl;
        p.content_type = "application/jsonl";
        for (auto& item : picked) p.events.push_back(jsonl_line(json::object{{"type", "item"}, {"data", std::move(item)}}));
        return p;
    }
    json::object out;
    std::string cursor = picked.empty() ? std::string() : std::string(picked.back().at("id").as_string());
    json::array items;
    for (auto& i : picked) items.push_back(std::move(i));
    out["items"] = std::move(items);
    if (!cursor.empty()) out["cursor"] = cursor;
    return json_response(200, out);
}

// Keeps a gone id usable as a cursor until twice the cap have gone after it.
void bury(world& w, std::string id) {
    w.cbk.gone.push_back(std::move(id));
    while (w.cbk.gone.size() > 2 * std::max<std::size_t>(w.opts.max_conversations, 1)) {
        w.cbk.seq_of.erase(w.cbk.gone.front());
        w.cbk.gone.pop_front();
    }
}

// Bots come into being when a conversation first names them, so they are
// capped like conversations.
void add_bot(world& w, std::uint64_t seq, cbk_bot b) {
    while (!w.cbk.bots.empty() && w.cbk.bots.size() >= std::max<std::size_t>(w.opts.max_conversations, 1)) {
        bury(w, w.cbk.bots.begin()->second.id);
        w.cbk.bots.erase(w.cbk.bots.begin());
    }
    w.cbk.bots.emplace(seq, std::move(b));
}

void ensure_bot(call& c, world& w, std::string_view id) {
    if (id.empty() || w.cbk.seq_of.count(std::string(id))) return;
    cbk_bot b;
    b.id = std::string(id);
    b.owner = owner_of(c);
    b.created_ms = b.updated_ms = c.now_ms();
    b.fields["name"] = b.id;
    auto seq = issue(w, b.id);
    add_bot(w, seq, std::move(b));
}

cbk_message& add_message(world& w, cbk_conversation& conv, std::string type, std::string text, std::int64_t now_ms) {
    if (conv.context) conv.context->add(type, text);
    conv.history_tokens += tokenize(text).size();
    cbk_message m;
    m.id = w.ids.prefixed("msg_", 20);
    m.type = std::move(type);
    m.text = std::move(text);
    m.created_ms = now_ms;
    m.seq = issue(w, m.id);
    conv.messages.push_back(std::move(m));
    conv.updated_ms = now_ms;
    return conv.messages.back();
}

std::string chatbot_of(const json::object& fields) {
    for (auto key : {"botId", "model"})
        if (const auto* v = fields.if_contains(key); v && v->is_string()) return std::string(v->as_string());
    return "default";
}

std::size_t count_tokens(const std::vector<turn>& history, std::string_view message) {
    std::size_t n = tokenize(message).size();
    for (const auto& t : history) n += tokenize(t.text).size();
    return n;
}

// The conversation's running reply context for its current chatbot; folded
// again from the messages only when botId or model has changed.
const reply_context& context_of(world& w, cbk_conversation& conv) {
    auto chatbot = chatbot_of(conv.fields);
    if (!conv.context || conv.context_chatbot != chatbot) {
        conv.context.emplace(w.opts.seed, chatbot);
        for (const auto& m : conv.messages) conv.context->add(m.type, m.text);
        conv.context_chatbot = std::move(chatbot);
    }
    return *conv.context;
}

// Forgets a conversation: its messages can no longer be named, its own id
// stays usable as a cursor until `cap` more conversations have gone.
void retire(world& w, std::map<std::uint64_t, cbk_conversation>::iterator it) {
    for (const auto& m : it->second.messages) w.cbk.seq_of.erase(m.id);
    bury(w, it->second.id);
    w.cbk.conversations.erase(it);
}

// The JSON result, or the JSONL event stream when the client asked for one.
response_plan completion(call& c, world& w, const std::string& reply, std::size_t input_tokens,
                         std::optional<std::string> message_id) {
    auto tokens = tokenize(reply);
    json::object result;
    if (message_id) result["id"] = *message_id;
    result["text"] = reply;
    result["usage"] = json::object{{"token", input_tokens + tokens.size()}};
    result["end"] = json::object{{"reason", "stop"}};
    if (!c.wants_jsonl()) return json_response(200, result);

    response_plan p;
    p.streaming = true;
    p.framing = stream_framing::jsonl;
    p.content_type = "application/jsonl";
    p.event_delay = w.opts.token_delay;
    auto event = [](std::string_view type, json::object data) {
        return jsonl_line(json::object{{"type", type}, {"data", std::move(data)}});
    };
    p.events.push_back(event("completeBegin", {}));
    for (auto& t : tokens) p.events.push_back(event("token", {{"token", std::move(t)}}));
    p.events.push_back(event("message", {{"type", "bot"}, {"text", reply}}));
    p.events.push_back(event("usage", {{"model", model_name},
                                       {"inputTokensUsed", input_tokens},
                                       {"outputTokensUsed", tokens.size()}}));
    p.events.push_back(event("completeEnd", {}));
    p.events.push_back(event("result", std::move(result)));
    p.terminal_events = 1;
    return p;
}

} // namespace

response_plan cbk_conversation_list(call& c, world& w) {
    std::vector<listed> items;
    const auto owner = owner_of(c);
    for (const auto& [seq, conv] : w.cbk.conversations)
        if (conv.owner == owner) items.push_back({seq, conversation_item(conv)});
    return list_response(c, w, std::move(items));
}

response_plan cbk_conversation_create(call& c, world& w) {
    auto body = parse_object(c.req.body.empty() ? std::string_view("{}") : std::string_view(c.req.body));
    if (!body) return bad_request("Request body must be a JSON object");
    cbk_conversation conv;
    if (!take_fields(*body, conversation_fields, conv.fields)) return bad_request("Fields must be strings");
    if (!take_meta(*body, conv.meta)) return bad_request("meta must be an object");
    std::vector<std::pair<std::string, std::string>> initial;
    if (const auto* msgs = body->if_contains("messages"); msgs && !msgs->is_null()) {
        if (!msgs->is_array()) return bad_request("messages must be an array");
        for (const auto& m : msgs->as_array()) {
            const auto* o = m.if_object();
            if (!o || !o->contains("type") || !o->at("type").is_string() || !o->contains("text") ||
                !o->at("text").is_string())
                return bad_request("Each message needs a string type and text");
            initial.emplace_back(std::string(o->at("type").as_string()), std::string(o->at("text").as_string()));
        }
    }
    if (const auto* bot = conv.fields.if_contains("botId")) ensure_bot(c, w, bot->as_string());
    conv.id = w.ids.prefixed("cnv_", 20);
    conv.owner = owner_of(c);
    conv.created_ms = conv.updated_ms = c.now_ms();
    while (!w.cbk.conversations.empty() && w.cbk.conversations.size() >= std::max<std::size_t>(w.opts.max_conversations, 1))
        retire(w, w.cbk.conversations.begin());  // the oldest
    auto seq = issue(w, conv.id);
    auto& stored = w.cbk.conversations.emplace(seq, std::move(conv)).first->second;
    for (auto& [type, text] : initial) add_message(w, stored, std::move(type), std::move(text), c.now_ms());
    stored.updated_ms = stored.created_ms;
    return json_response(200, json::object{{"id", stored.id}});
}

response_plan cbk_conversation_fetch(call& c, world& w) {
    auto* conv = find_conversation(c, w);
    if (!conv) return not_found("Conversation");
    return json_response(200, conversation_item(*conv));
}

response_plan cbk_conversation_update(call& c, world& w) {
    auto* conv = find_conversation(c, w);
    if (!conv) return not_found("Conversation");
    auto body = parse_object(c.req.body);
    if (!body) return bad_request("Request body must be a JSON object");
    auto fields = conv->fields;
    auto meta = conv->meta;
    if (!take_fields(*body, conversation_fields, fields)) return bad_request("Fields must be strings");
    if (!take_meta(*body, meta)) return bad_request("meta must be an object");
    if (const auto* bot = fields.if_contains("botId")) ensure_bot(c, w, bot->as_string());
    conv->fields = std::move(fields);
    conv->meta = std::move(meta);
    conv->updated_ms = c.now_ms();
    return json_response(200, json::object{{"id", conv->id}});
}

response_plan cbk_conversation_delete(call& c, world& w) {
    auto* conv = find_conversation(c, w);
    if (!conv) return not_found("Conversation");
    const auto id = conv->id;
    retire(w, w.cbk.conversations.find(w.cbk.seq_of.at(id)));
    return json_response(200, json::object{{"id", id}});
}

response_plan cbk_conversation_complete(call& c, world& w) {
    auto* conv = find_conversation(c, w);
    if (!conv) return not_found("Conversation");
    auto body = parse_object(c.req.body);
    if (!body) return bad_request("Request body must be a JSON object");
    const auto* text = body->if_contains("text");
    if (!text || !text->is_string()) return bad_request("text is required");
    const std::string message(text->as_string());
    auto reply = context_of(w, *conv).reply(message);
    const auto input_tokens = conv->history_tokens + tokenize(message).size();
    add_message(w, *conv, "user", message, c.now_ms());
    const auto reply_id = add_message(w, *conv, "bot", reply, c.now_ms()).id;
    return completion(c, w, reply, input_tokens, reply_id);
}

response_plan cbk_stateless_complete(call& c, world& w) {
    auto body = parse_object(c.req.body);
    if (!body) return bad_request("Request body must be a JSON object");
    const auto* msgs = body->if_contains("messages");
    if (!msgs || !msgs->is_array() || msgs->as_array().empty()) return bad_request("messages is required");
    std::vector<turn> history;
    for (const auto& m : msgs->as_array()) {
        const auto* o = m.if_object();
        if (!o || !o->contains("type") || !o->at("type").is_string() || !o->contains("text") ||
            !o->at("text").is_string())
            return bad_request("Each message needs a string type and text");
        history.push_back({std::string(o->at("type").as_string()), std::string(o->at("text").as_string())});
    }
    // The reply answers the last message; the ones before it are its history.
    const auto message = std::move(history.back().text);
    history.pop_back();
    json::object fields;
    if (!take_fields(*body, conversation_fields, fields)) return bad_request("Fields must be strings");
    if (const auto* bot = fields.if_contains("botId")) ensure_bot(c, w, bot->as_string());
    auto reply = make_reply(w.opts.seed, chatbot_of(fields), history, message);
    return completion(c, w, reply, count_tokens(history, message), std::nullopt);
}

response_plan cbk_message_list(call& c, world& w) {
    auto* conv = find_conversation(c, w);
    if (!conv) return not_found("Conversation");
    std::vector<listed> items;
    for (const auto& m : conv->messages) items.push_back({m.seq, message_item(m)});
    return list_response(c, w, std::move(items));
}

response_plan cbk_message_create(call& c, world& w) {
    auto* conv = find_conversation(c, w);
    if (!conv) return not_found("Conversation");
    auto body = parse_object(c.req.body);
    if (!body) return bad_request("Request body must be a JSON object");
    const auto* type = body->if_contains("type");
    const auto* text = body->if_contains("text");
    if (!type || !type->is_string() || !text || !text->is_string()) return bad_request("type and text are required");
    const auto& m = add_message(w, *conv, std::string(type->as_string()), std::string(text->as_string()), c.now_ms());
    return json_response(200, json::object{{"id", m.id}});
}

response_plan cbk_bot_list(call& c, world& w) {
    std::vector<listed> items;
    const auto owner = owner_of(c);
    for (const auto& [seq, bot] : w.cbk.bots)
        if (bot.owner == owner) items.push_back({seq, bot_item(bot)});
    return list_response(c, w, std::move(items));
}

response_plan cbk_bot_create(call& c, world& w) {
    auto body = parse_object(c.req.body.empty() ? std::string_view("{}") : std::string_view(c.req.body));
    if (!body) return bad_request("Request body must be a JSON object");
    cbk_bot b;
    if (!take_fields(*body, bot_fields, b.fields)) return bad_request("Fields must be strings");
    if (!take_meta(*body, b.meta)) return bad_request("meta must be an object");
    b.id = w.ids.prefixed("bot_", 20);
    b.owner = owner_of(c);
    b.created_ms = b.updated_ms = c.now_ms();
    auto seq = issue(w, b.id);
    auto id = b.id;
    add_bot(w, seq, std::move(b));
    return json_response(200, json::object{{"id", id}});
}

} // namespace chatwire::emulator::detail
