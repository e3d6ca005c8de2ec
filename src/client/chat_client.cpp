#include "../detail/spawn.hpp"

#include <chatwire/chat.hpp>
#include <chatwire/chatbotkit.hpp>
#include <chatwire/pollybot.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <variant>

namespace chatwire {

std::string_view to_string(api a) noexcept {
    switch (a) {
    case api::vectorshift: return "vectorshift";
    case api::chatbotkit: return "chatbotkit";
    case api::pollybot: return "pollybot";
    }
    return "unknown";
}

std::optional<api> api_from_string(std::string_view name) noexcept {
    for (auto a : {api::vectorshift, api::chatbotkit, api::pollybot})
        if (to_string(a) == name) return a;
    return std::nullopt;
}

namespace detail {

namespace asio = boost::asio;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct chat_client_state {
    chat_client_state(asio::any_io_executor ex, chat_options o) : opts(std::move(o)), executor(ex) {
        switch (opts.api) {
        case api::vectorshift:
            provider.emplace<vectorshift::client>(ex, vectorshift::options{opts.base_url, opts.api_key, opts.http});
            break;
        case api::chatbotkit: {
            chatbotkit::options o2;
            o2.base_url = opts.base_url;
            o2.secret = opts.api_key;
            o2.http = opts.http;
            provider.emplace<chatbotkit::client>(ex, std::move(o2));
            break;
        }
        case api::pollybot:
            provider.emplace<pollybot::client>(ex, pollybot::options{opts.base_url, opts.api_key, opts.http});
            break;
        }
    }
    chat_options opts;
    asio::any_io_executor executor;
    std::variant<std::monostate, vectorshift::client, chatbotkit::client, pollybot::client> provider;
};

namespace {

// What each provider needs for one turn; built once, sent streamed or whole.
vectorshift::run_request vectorshift_turn(const chat_options& o, std::string msg, std::string conv) {
    vectorshift::run_request r;
    r.input = std::move(msg);
    r.chatbot_id = o.chatbot_id;
    r.conversation_id = std::move(conv);
    return r;
}

pollybot::chat_request pollybot_turn(const chat_options& o, std::string msg, std::string conv) {
    pollybot::chat_request r;
    r.chatbot_id = o.chatbot_id;
    r.message = std::move(msg);
    r.conversation_id = std::move(conv);
    return r;
}

chatbotkit::complete_request chatbotkit_turn(const std::string& conv, std::string msg) {
    chatbotkit::complete_request r;
    r.conversation_id = conv;
    r.text = std::move(msg);
    return r;
}

asio::awaitable<std::pair<error_code, chat_stream>> stream_via(vectorshift::client& c, const chat_options& o,
                                                               std::string msg, std::string conv, diagnostics& diag) {
    auto [ec, s] = co_await c.async_run_stream(vectorshift_turn(o, std::move(msg), std::move(conv)), diag,
                                               tuple_awaitable);
    co_return std::pair{ec, std::move(s)};
}

asio::awaitable<std::pair<error_code, chat_stream>> stream_via(pollybot::client& c, const chat_options& o,
                                                               std::string msg, std::string conv, diagnostics& diag) {
    auto [ec, s] = co_await c.async_chat_stream(pollybot_turn(o, std::move(msg), std::move(conv)), diag,
                                                tuple_awaitable);
    co_return std::pair{ec, std::move(s)};
}

/// ChatBotKit completes a conversation that exists: make one on first use.
asio::awaitable<error_code> ensure_conversation(chatbotkit::client& c, const chat_options& o, std::string& conv,
                                                diagnostics& diag) {
    if (!conv.empty()) co_return error_code{};
    chatbotkit::conversation_fields f;
    f.bot_id = o.chatbot_id;
    auto [ec, id] = co_await c.async_create_conversation(std::move(f), diag, tuple_awaitable);
    conv = std::move(id);
    co_return ec;
}

asio::awaitable<std::pair<error_code, chat_stream>> stream_via(chatbotkit::client& c, const chat_options& o,
                                                               std::string msg, std::string conv, diagnostics& diag) {
    if (auto ec = co_await ensure_conversation(c, o, conv, diag)) co_return std::pair{ec, chat_stream{}};
    auto [ec, s] = co_await c.async_complete_stream(chatbotkit_turn(conv, std::move(msg)), diag, tuple_awaitable);
    if (ec) diag.conversation_id = std::move(conv);  // created or not, it is the one to retry in
    co_return std::pair{ec, std::move(s)};
}

asio::awaitable<std::pair<error_code, chat_reply>> whole_via(vectorshift::client& c, const chat_options& o,
                                                             std::string msg, std::string conv, diagnostics& diag) {
    auto [ec, reply] = co_await c.async_run(vectorshift_turn(o, std::move(msg), std::move(conv)), diag, tuple_awaitable);
    co_return std::pair{ec, chat_reply{std::move(reply.output), std::move(reply.conversation_id)}};
}

asio::awaitable<std::pair<error_code, chat_reply>> whole_via(pollybot::client& c, const chat_options& o,
                                                             std::string msg, std::string conv, diagnostics& diag) {
    auto r = pollybot_turn(o, std::move(msg), std::move(conv));
    r.stream = false;
    auto [ec, reply] = co_await c.async_chat(std::move(r), diag, tuple_awaitable);
    co_return std::pair{ec, chat_reply{std::move(reply.response), std::move(reply.conversation_id)}};
}

asio::awaitable<std::pair<error_code, chat_reply>> whole_via(chatbotkit::client& c, const chat_options& o,
                                                             std::string msg, std::string conv, diagnostics& diag) {
    if (auto ec = co_await ensure_conversation(c, o, conv, diag)) co_return std::pair{ec, chat_reply{}};
    auto [ec, done] = co_await c.async_complete(chatbotkit_turn(conv, std::move(msg)), diag, tuple_awaitable);
    if (ec) diag.conversation_id = conv;
    co_return std::pair{ec, chat_reply{std::move(done.text), std::move(conv)}};
}

/// The two kinds of turn, each sent the way its provider wants.
struct streamed_turn {
    using result = chat_stream;
    template <class Client>
    auto operator()(Client& c, const chat_options& o, std::string msg, std::string conv, diagnostics& diag) const {
        return stream_via(c, o, std::move(msg), std::move(conv), diag);
    }
};
struct whole_turn {
    using result = chat_reply;
    template <class Client>
    auto operator()(Client& c, const chat_options& o, std::string msg, std::string conv, diagnostics& diag) const {
        return whole_via(c, o, std::move(msg), std::move(conv), diag);
    }
};

template <class Turn>
asio::awaitable<std::pair<error_code, typename Turn::result>> run_turn(std::shared_ptr<chat_client_state> st,
                                                                      std::string msg, std::string conv,
                                                                      diagnostics& diag, Turn turn) {
    const std::string given = conv;
    std::pair<error_code, typename Turn::result> r{make_error_code(errc::invalid_argument), typename Turn::result{}};
    switch (st->provider.index()) {
    case 1: r = co_await turn(std::get<1>(st->provider), st->opts, std::move(msg), std::move(conv), diag); break;
    case 2: r = co_await turn(std::get<2>(st->provider), st->opts, std::move(msg), std::move(conv), diag); break;
    case 3: r = co_await turn(std::get<3>(st->provider), st->opts, std::move(msg), std::move(conv), diag); break;
    }
    // A failed turn still names its conversation, so a retry continues it.
    if (r.first && diag.conversation_id.empty()) diag.conversation_id = given;
    co_return r;
}

} // namespace

void send_stream(const std::shared_ptr<chat_client_state>& st, std::string message, std::string conversation,
                 diagnostics& diag, chat_stream_handler h) {
    spawn_op<chat_stream>(st->executor, run_turn(st, std::move(message), std::move(conversation), diag, streamed_turn{}),
                          std::move(h));
}

void send_whole(const std::shared_ptr<chat_client_state>& st, std::string message, std::string conversation,
                diagnostics& diag, chat_reply_handler h) {
    spawn_op<chat_reply>(st->executor, run_turn(st, std::move(message), std::move(conversation), diag, whole_turn{}),
                         std::move(h));
}

} // namespace detail

chat_client::chat_client(boost::asio::any_io_executor ex, chat_options opts)
    : state_(std::make_shared<detail::chat_client_state>(std::move(ex), std::move(opts))) {}

enum api chat_client::api() const noexcept { return state_->opts.api; }

} // namespace chatwire
