#pragma once
// Shared by the emulator's sans-io parts: the in-memory world, the per-request
// call context, JSON framing and the error bodies of each API.
#include "rate_limit.hpp"

#include <chatwire/emulator/faults.hpp>
#include <chatwire/emulator/options.hpp>
#include <chatwire/emulator/plan.hpp>
#include <chatwire/emulator/reply.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chatwire::emulator::detail {

// ---- ids -------------------------------------------------------------------
/// Real-looking ids, reproducible for a given seed and sequence of requests.
class id_source {
public:
    explicit id_source(std::uint64_t seed) : seed_(seed) {}
    std::string prefixed(std::string_view prefix, std::size_t length);  ///< "cnv_" + base62
    std::string cuid();                                                 ///< "cm" + 23 [0-9a-z]
    std::string hex(std::size_t length = 24);                           ///< "65f1…"
    void reset() { counter_ = 0; }

private:
    std::uint64_t next();
    std::uint64_t seed_;
    std::uint64_t counter_ = 0;
};

// ---- the in-memory world -----------------------------------------------------
/// Conversations by id in creation order; beyond `cap` the oldest is forgotten,
/// so a client creating conversations without end cannot grow the process.
template <class T>
class conversation_table {
public:
    T* find(const std::string& id) {
        auto it = items_.find(id);
        return it == items_.end() ? nullptr : &it->second;
    }
    T& insert(const std::string& id, T value, std::size_t cap) {
        while (items_.size() >= std::max<std::size_t>(cap, 1) && !order_.empty()) {
            items_.erase(order_.front());
            order_.pop_front();
        }
        order_.push_back(id);
        return items_.insert_or_assign(id, std::move(value)).first->second;
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::unordered_map<std::string, T> items_;
    std::deque<std::string> order_;
};

struct vs_chatbot {
    std::string id, name;
    std::int64_t created_ms = 0;
};
struct vs_conversation {
    std::string chatbot_id;
    reply_context context;  ///< the history as far as replies need it
    std::string knowledge_base_id;
};
struct vs_store {
    std::deque<vs_chatbot> chatbots;  // in creation order; the oldest go beyond the cap
    std::unordered_map<std::string, const vs_chatbot*> by_id, by_name;  // the first of each
    conversation_table<vs_conversation> conversations;
};

struct cbk_message {
    std::string id, type, text;
    std::uint64_t seq = 0;
    std::int64_t created_ms = 0;
};
struct cbk_conversation {
    std::string id, owner;
    std::int64_t created_ms = 0, updated_ms = 0;
    boost::json::object fields;  // name, description, botId, model, backstory
    std::optional<boost::json::object> meta;
    std::vector<cbk_message> messages;
    // The messages folded for replies, kept with the chatbot they were folded
    // for (botId or model may change), and their token count.
    std::optional<reply_context> context;
    std::string context_chatbot;
    std::size_t history_tokens = 0;
};
struct cbk_bot {
    std::string id, owner;
    std::int64_t created_ms = 0, updated_ms = 0;
    boost::json::object fields;  // name, description, model, backstory
    std::optional<boost::json::object> meta;
};
struct cbk_store {
    std::map<std::uint64_t, cbk_conversation> conversations;  // by sequence number
    std::map<std::uint64_t, cbk_bot> bots;
    std::unordered_map<std::string, std::uint64_t> seq_of;    // ids that can be named (also as a cursor)
    // Ids of conversations and bots gone (deleted or forgotten), still valid as cursors
    // for a while: a client deleting as it pages must not lose its place.
    std::deque<std::string> gone;
    std::uint64_t next_seq = 1;
};

struct pb_conversation {
    std::string chatbot_id;
    reply_context context;
};
struct pb_store {
    conversation_table<pb_conversation> conversations;
};

struct world {
    explicit world(const options& o) : opts(o), ids(o.seed) {}
    options opts;
    id_source ids;
    vs_store vs;
    cbk_store cbk;
    pb_store pb;
    sliding_window pb_limits;
};

// ---- one request -------------------------------------------------------------
struct call {
    const request& req;
    std::string_view path;
    std::string_view query;
    std::string id;             ///< the {id} path parameter, decoded
    std::string route_key;      ///< "POST /api/v1/chatbots/{id}/chat"
    std::string api_key;        ///< the key the request presented
    std::chrono::system_clock::time_point now;
    std::int64_t now_ms() const;
    /// A query parameter, percent-decoded.
    std::optional<std::string> query_param(std::string_view name) const;
    /// Every query parameter in order, percent-decoded.
    std::vector<std::pair<std::string, std::string>> query_params() const;
    bool wants_jsonl() const;   ///< Accept: application/jsonl
};

using handler = response_plan (*)(call&, world&);

// ---- JSON and framing --------------------------------------------------------
std::string to_json(const boost::json::value& v);
std::string sse_event(const boost::json::value& v);    ///< "data: {…}\n\n"
std::string jsonl_line(const boost::json::value& v);   ///< "{…}\n"
response_plan json_response(int status, const boost::json::value& body);
/// Parses a request body that must be a JSON object; nullopt when it is not.
std::optional<boost::json::object> parse_object(std::string_view body);
std::string percent_decode(std::string_view s);

// ---- error bodies ------------------------------------------------------------
response_plan vs_error(int status, std::string_view message);
response_plan vs_auth_error(std::string_view message);
response_plan cbk_error(int status, std::string_view code, std::string_view message);
response_plan pb_error(int status, std::string_view code, std::string_view message,
                       std::optional<std::uint64_t> retry_after = {});
/// The error a `status` fault produces for `a`, with the API's usual code.
response_plan api_error(enum api a, int status, std::string_view code, std::string_view message,
                        std::optional<std::uint64_t> retry_after);
/// The API's error event inside an already started stream.
std::string in_stream_error_event(enum api a, std::string_view route_key, stream_framing f,
                                  std::string_view code, std::string_view message,
                                  std::string_view conversation_id = {});

/// Applies one fault rule to a plan.
void apply_fault(const fault_rule& rule, enum api a, std::string_view route_key, response_plan& plan);

// ---- the three APIs ----------------------------------------------------------
response_plan vs_legacy_run(call&, world&);
response_plan vs_v1_run(call&, world&);
response_plan vs_v1_list(call&, world&);
response_plan vs_v1_fetch(call&, world&);
response_plan vs_v1_upload(call&, world&);
response_plan vs_v1_terminate(call&, world&);

response_plan cbk_conversation_list(call&, world&);
response_plan cbk_conversation_create(call&, world&);
response_plan cbk_conversation_fetch(call&, world&);
response_plan cbk_conversation_update(call&, world&);
response_plan cbk_conversation_delete(call&, world&);
response_plan cbk_conversation_complete(call&, world&);
response_plan cbk_stateless_complete(call&, world&);
response_plan cbk_message_list(call&, world&);
response_plan cbk_message_create(call&, world&);
response_plan cbk_bot_list(call&, world&);
response_plan cbk_bot_create(call&, world&);

response_plan pb_chat(call&, world&);

} // namespace chatwire::emulator::detail
