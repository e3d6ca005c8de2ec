// PollyBot: POST /api/v1/chatbots/{chatbotId}/chat, JSON or SSE.
#include "internal.hpp"

namespace chatwire::emulator::detail {

namespace json = boost::json;

response_plan pb_chat(call& c, world& w) {
    auto body = parse_object(c.req.body);
    if (!body) return pb_error(400, "VALIDATION_ERROR", "Request body must be a JSON object");
    const auto* message = body->if_contains("message");
    if (!message || !message->is_string() || message->as_string().empty())
        return pb_error(400, "VALIDATION_ERROR", "message is required and must be a non-empty string");
    if (const auto* m = body->if_contains("metadata"); m && !m->is_object() && !m->is_null())
        return pb_error(400, "VALIDATION_ERROR", "metadata must be an object");
    const auto* stream = body->if_contains("stream");
    if (stream && !stream->is_bool() && !stream->is_null())
        return pb_error(400, "VALIDATION_ERROR", "stream must be a boolean");

    std::string conversation_id;
    pb_conversation* conv = nullptr;
    if (const auto* cid = body->if_contains("conversationId"); cid && cid->is_string() && !cid->as_string().empty()) {
        conversation_id = std::string(cid->as_string());
        conv = w.pb.conversations.find(conversation_id);
        if (!conv || conv->chatbot_id != c.id)
            return pb_error(404, "CONVERSATION_NOT_FOUND", "Conversation not found");
    } else {
        conversation_id = w.ids.cuid();
        conv = &w.pb.conversations.insert(conversation_id, pb_conversation{c.id, reply_context(w.opts.seed, c.id)},
                                          w.opts.max_conversations);
    }
    const std::string_view text(message->as_string());
    auto reply = conv->context.reply(text);
    conv->context.add("user", text);
    conv->context.add("bot", reply);
    const auto message_id = w.ids.cuid();

    json::object data{{"response", reply}, {"conversationId", conversation_id}, {"messageId", message_id}};
    // An absent `stream` means the chatbot's default, which is off here.
    if (!stream || !stream->is_bool() || !stream->as_bool())
        return json_response(200, json::object{{"success", true}, {"data", std::move(data)}});

    response_plan p;
    p.streaming = true;
    p.framing = stream_framing::sse;
    p.content_type = "text/event-stream";
    p.event_delay = w.opts.token_delay;
    p.events.push_back(sse_event(json::object{{"type", "start"}, {"conversationId", conversation_id}}));
    for (const auto& tok : tokenize(reply))
        p.events.push_back(sse_event(json::object{{"type", "token"}, {"content", tok}}));
    p.events.push_back(sse_event(json::object{{"type", "done"}, {"data", std::move(data)}}));
    p.events.push_back("data: [DONE]\n\n");
    p.terminal_events = 2;
    return p;
}

} // namespace chatwire::emulator::detail
