// VectorShift's chatbot list as a pager. GET /v1/chatbots answers every
// chatbot at once ({"status","object_ids":[...],"objects":[...]}) and has no
// cursor: the list is one page, and a walk resumed after a chatbot id skips
// the chatbots up to it.
#include "page_walk.hpp"
#include "vectorshift_state.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace chatwire::vectorshift {

namespace json = boost::json;
namespace cd = chatwire::detail;

namespace {

std::string string_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

class chatbot_shape final : public page_codec {
public:
    explicit chatbot_shape(bool include_shared) : shared_(include_shared) {}

    std::string page_target(std::string_view) const override {
        return std::string("/v1/chatbots?include_shared=") + (shared_ ? "true" : "false") + "&verbose=true";
    }

    error_code read_page(const json::value& body, std::string_view cursor, list_page& out,
                         diagnostics& diag) const override {
        return read(body, cursor, out, diag);
    }

    error_code take_page(json::value&& body, std::string_view cursor, list_page& out,
                         diagnostics& diag) const override {
        return read(body, cursor, out, diag);  // the items are moved out, not copied
    }

    std::string cursor_after(const json::object& item, std::string_view, std::size_t) const override {
        return string_of(item, "_id");
    }

private:
    // Body is `json::value` (items moved out) or `const json::value` (copied).
    template <class Body>
    static error_code read(Body& body, std::string_view cursor, list_page& out, diagnostics& diag) {
        if (!body.is_object()) return errc::bad_response;
        auto& o = body.as_object();
        if (cd::string_at(body, "status") == "failed") {
            diag.provider_message = cd::string_at(body, "error");
            return errc::run_failed;
        }
        if (auto* objects = o.if_contains("objects"); objects && objects->is_array()) {
            out.items.reserve(objects->as_array().size());
            for (auto& item : objects->as_array())
                if (item.is_object()) out.items.push_back(std::move(item.as_object()));
        } else if (const auto* ids = o.if_contains("object_ids"); ids && ids->is_array()) {
            for (const auto& id : ids->as_array())
                if (id.is_string()) out.items.push_back(json::object{{"_id", id}});
        } else {
            diag.detail = "a chatbot list without objects or object_ids";
            return errc::bad_response;
        }
        if (!cursor.empty()) {
            auto at = std::find_if(out.items.begin(), out.items.end(),
                                   [&](const json::object& item) { return string_of(item, "_id") == cursor; });
            if (at == out.items.end()) {
                out.items.clear();
                diag.detail = "the cursor names no listed chatbot";
                return errc::invalid_argument;
            }
            out.items.erase(out.items.begin(), at + 1);
        }
        return {};  // no next cursor: the last page
    }

    bool shared_;
};

std::int64_t number_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_number()) return 0;
    boost::system::error_code ec;
    auto n = v->to_number<std::int64_t>(ec);
    return ec ? 0 : n;
}

} // namespace

void from_json(const json::object& o, chatbot_record& out) {
    const auto* deployed = o.if_contains("deployed");
    out = {string_of(o, "_id"), string_of(o, "name"), string_of(o, "description"),
           deployed && deployed->is_bool() && deployed->get_bool(), number_of(o, "created_at")};
}

std::shared_ptr<const page_codec> chatbot_list_codec(bool include_shared) {
    return std::make_shared<chatbot_shape>(include_shared);
}

namespace detail {
std::shared_ptr<cd::page_walk> make_walk(const std::shared_ptr<state>& st, std::shared_ptr<const page_codec> codec,
                                         const pager_options& opts) {
    return std::make_shared<cd::page_walk>(std::shared_ptr<cd::provider_core>(st, st.get()), st->bearer_auth,
                                           std::move(codec), opts);
}
} // namespace detail

pager<chatbot_record> client::chatbots(const chatbot_list_options& opts) {
    pager_options p;
    p.cursor = opts.cursor;
    return list<chatbot_record>(chatbot_list_codec(opts.include_shared), p);
}

} // namespace chatwire::vectorshift
