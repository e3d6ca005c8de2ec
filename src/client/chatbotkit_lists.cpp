// ChatBotKit's list shape: GET {action}?cursor=&order=&take=&meta.K=V answers
// {"items":[...],"cursor":"<id of the page's last item>"}; with
// Accept: application/jsonl the same action streams every item after the
// cursor as {"type":"item","data":{...}} lines.
#include "call.hpp"

#include <chatwire/chatbotkit.hpp>

namespace chatwire::chatbotkit {

namespace json = boost::json;
namespace cd = chatwire::detail;

namespace {

class list_shape final : public page_codec {
public:
    list_shape(std::string path, const list_options& opts) : path_(std::move(path)) {
        // Everything but the cursor is the same on every page: rendered once.
        add(fixed_, "order", opts.order == list_order::asc ? "asc" : "desc");
        for (const auto& [key, value] : opts.meta) add(fixed_, "meta." + key, value);
        if (opts.take > 0) add(page_only_, "take", std::to_string(opts.take));
    }

    std::string page_target(std::string_view cursor) const override {
        return target(cursor) + page_only_;
    }

    error_code read_page(const json::value& body, std::string_view, list_page& out,
                         diagnostics& diag) const override {
        return read(body, out, diag);
    }

    error_code take_page(json::value&& body, std::string_view, list_page& out, diagnostics& diag) const override {
        return read(body, out, diag);  // the items are moved out, not copied
    }

    std::string cursor_after(const json::object& item, std::string_view, std::size_t) const override {
        const auto* id = item.if_contains("id");
        return id && id->is_string() ? std::string(id->get_string()) : std::string();
    }

    std::optional<std::string> stream_target(std::string_view cursor) const override { return target(cursor); }

    bool read_stream_item(const json::value& line, json::object& item) const override {
        if (cd::string_at(line, "type") != "item") return false;
        const auto* data = line.as_object().if_contains("data");
        if (!data || !data->is_object()) return false;
        item = data->as_object();
        return true;
    }

private:
    // Body is `json::value` (items moved out) or `const json::value` (copied).
    template <class Body>
    static error_code read(Body& body, list_page& out, diagnostics& diag) {
        auto* items = body.is_object() ? body.as_object().if_contains("items") : nullptr;
        if (!items || !items->is_array()) {
            diag.detail = "a list without items";
            return errc::bad_response;
        }
        out.items.reserve(items->as_array().size());
        for (auto& item : items->as_array())
            if (item.is_object()) out.items.push_back(std::move(item.as_object()));
        out.next.assign(cd::string_at(body, "cursor"));
        return {};
    }

    static void add(std::string& query, std::string_view key, std::string_view value) {
        query.append("&").append(cd::encode_query(key)).append("=").append(cd::encode_query(value));
    }

    std::string target(std::string_view cursor) const {
        std::string t = path_ + "?";
        if (!cursor.empty()) t.append("cursor=").append(cd::encode_query(cursor));
        t.append(cursor.empty() ? std::string_view(fixed_).substr(1) : std::string_view(fixed_));
        return t;
    }

    std::string path_;
    std::string fixed_;      // "&order=...&meta.k=v"
    std::string page_only_;  // "&take=N"
};

} // namespace

std::shared_ptr<const page_codec> list_codec(std::string path, const list_options& opts) {
    return std::make_shared<list_shape>(std::move(path), opts);
}

std::shared_ptr<const page_codec> conversation_list_codec(const list_options& opts) {
    return list_codec("/conversation/list", opts);
}

std::shared_ptr<const page_codec> bot_list_codec(const list_options& opts) { return list_codec("/bot/list", opts); }

std::shared_ptr<const page_codec> message_list_codec(std::string_view conversation_id, const list_options& opts) {
    return list_codec("/conversation/" + cd::encode_segment(conversation_id) + "/message/list", opts);
}

pager_options paging(const list_options& opts) {
    pager_options p;
    p.cursor = opts.cursor;
    p.stream = opts.stream;
    p.prefetch = opts.prefetch;
    p.max_pages = opts.max_pages;
    return p;
}

} // namespace chatwire::chatbotkit
