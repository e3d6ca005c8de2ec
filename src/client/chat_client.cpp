// chat_client: one turn of a conversation over whichever provider it was
// built for. Each turn is one coroutine that calls the provider's operation
// directly (as an awaitable), down to the choke point and the socket.
#include "chatbotkit_state.hpp"
#include "pollybot_state.hpp"
#include "vectorshift_state.hpp"

#include <chatwire/detail/operation_impl.hpp>
#include "../detail/serial_executor.hpp"

#include <chatwire/chat_client.hpp>

#include <variant>

namespace chatwire {

std::string_view to_string(api_kind a) noexcept {
    switch (a) {
    case api_kind::vectorshift: return "vectorshift";
    case api_kind::chatbotkit: return "chatbotkit";
    case api_kind::pollybot: return "pollybot";
    }
    return "unknown";
}

std::optional<api_kind> api_from_string(std::string_view name) noexcept {
    for (auto a : {api_kind::vectorshift, api_kind::chatbotkit, api_kind::pollybot})
        if (to_string(a) == name) return a;
    return std::nullopt;
}

namespace detail {

namespace asio = boost::asio;
using vectorshift_state = std::shared_ptr<vectorshift::detail::state>;
using chatbotkit_state = std::shared_ptr<chatbotkit::detail::state>;
using pollybot_state = std::shared_ptr<pollybot::detail::state>;

struct chat_client_state {
    // One strand (with http.thread_safe) for the chat client and its provider.
    chat_client_state(asio::any_io_executor io, chat_options o)
        : opts(std::move(o)), executor(serial_executor(std::move(io), opts.http.thread_safe)) {
        const auto& ex = executor;
        switch (opts.api) {
        case api_kind::vectorshift:
            provider = std::make_shared<vectorshift::detail::state>(
                ex, vectorshift::options{opts.base_url, opts.api_key, opts.http, opts.retry, opts.on_attempt,
                                         opts.retry_store});
            break;
        case api_kind::chatbotkit: {
            chatbotkit::options o2;
            o2.base_url = opts.base_url;
            o2.secret = opts.api_key;
            o2.http = opts.http;
            o2.retry = opts.retry;
            o2.on_attempt = opts.on_attempt;
            o2.retry_store = opts.retry_store;
            provider = std::make_shared<chatbotkit::detail::state>(ex, std::move(o2));
            break;
        }
        case api_kind::pollybot:
            provider = std::make_shared<pollybot::detail::state>(
                ex, pollybot::options{opts.base_url, opts.api_key, opts.http, opts.retry, opts.on_attempt,
                                      opts.retry_store});
            break;
        }
    }
    chat_options opts;
    asio::any_io_executor executor;
    std::variant<vectorshift_state, chatbotkit_state, pollybot_state> provider;
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

asio::awaitable<std::pair<error_code, chat_stream>> stream_via(vectorshift_state st, const chat_options& o,
                                                               std::string msg, std::string conv, diagnostics& diag) {
    return vectorshift::detail::run_stream_op(std::move(st), vectorshift_turn(o, std::move(msg), std::move(conv)),
                                              diag);
}

asio::awaitable<std::pair<error_code, chat_stream>> stream_via(pollybot_state st, const chat_options& o,
                                                               std::string msg, std::string conv, diagnostics& diag) {
    return pollybot::detail::chat_stream_op(std::move(st), pollybot_turn(o, std::move(msg), std::move(conv)), diag);
}

/// ChatBotKit completes a conversation that exists: make one on first use.
asio::awaitable<error_code> ensure_conversation(chatbotkit_state st, const chat_options& o, std::string& conv,
                                                diagnostics& diag) {
    if (!conv.empty()) co_return error_code{};
    chatbotkit::conversation_fields f;
    f.bot_id = o.chatbot_id;
    auto [ec, id] = co_await chatbotkit::detail::create_conversation_op(std::move(st), std::move(f), diag);
    conv = std::move(id);
    co_return ec;
}

asio::awaitable<std::pair<error_code, chat_stream>> stream_via(chatbotkit_state st, const chat_options& o,
                                                               std::string msg, std::string conv, diagnostics& diag) {
    if (auto ec = co_await ensure_conversation(st, o, conv, diag)) co_return std::pair{ec, chat_stream{}};
    auto r = co_await chatbotkit::detail::complete_stream_op(st, chatbotkit_turn(conv, std::move(msg)), diag);
    if (r.first) diag.conversation_id = std::move(conv);  // created or not, it is the one to retry in
    co_return r;
}

asio::awaitable<std::pair<error_code, chat_reply>> whole_via(vectorshift_state st, const chat_options& o,
                                                             std::string msg, std::string conv, diagnostics& diag) {
    auto [ec, reply] =
        co_await vectorshift::detail::run_op(std::move(st), vectorshift_turn(o, std::move(msg), std::move(conv)), diag);
    co_return std::pair{ec, chat_reply{std::move(reply.output), std::move(reply.conversation_id)}};
}

asio::awaitable<std::pair<error_code, chat_reply>> whole_via(pollybot_state st, const chat_options& o,
                                                             std::string msg, std::string conv, diagnostics& diag) {
    auto r = pollybot_turn(o, std::move(msg), std::move(conv));
    r.stream = false;
    auto [ec, reply] = co_await pollybot::detail::chat_op(std::move(st), std::move(r), diag);
    co_return std::pair{ec, chat_reply{std::move(reply.response), std::move(reply.conversation_id)}};
}

asio::awaitable<std::pair<error_code, chat_reply>> whole_via(chatbotkit_state st, const chat_options& o,
                                                             std::string msg, std::string conv, diagnostics& diag) {
    if (auto ec = co_await ensure_conversation(st, o, conv, diag)) co_return std::pair{ec, chat_reply{}};
    auto [ec, done] = co_await chatbotkit::detail::complete_op(st, chatbotkit_turn(conv, std::move(msg)), diag);
    if (ec) diag.conversation_id = conv;
    co_return std::pair{ec, chat_reply{std::move(done.text), std::move(conv)}};
}

/// The two kinds of turn, each sent the way its provider wants.
struct streamed_turn {
    using result = chat_stream;
    template <class State>
    auto operator()(State st, const chat_options& o, std::string msg, std::string conv, diagnostics& diag) const {
        return stream_via(std::move(st), o, std::move(msg), std::move(conv), diag);
    }
};
struct whole_turn {
    using result = chat_reply;
    template <class State>
    auto operator()(State st, const chat_options& o, std::string msg, std::string conv, diagnostics& diag) const {
        return whole_via(std::move(st), o, std::move(msg), std::move(conv), diag);
    }
};

template <class Turn>
asio::awaitable<std::pair<error_code, typename Turn::result>>
run_turn(std::shared_ptr<chat_client_state> st, std::string msg, std::string conv, Turn turn, diagnostics& diag) {
    const std::string given = conv;
    std::pair<error_code, typename Turn::result> r;
    switch (st->provider.index()) {
    case 0: r = co_await turn(std::get<0>(st->provider), st->opts, std::move(msg), std::move(conv), diag); break;
    case 1: r = co_await turn(std::get<1>(st->provider), st->opts, std::move(msg), std::move(conv), diag); break;
    case 2: r = co_await turn(std::get<2>(st->provider), st->opts, std::move(msg), std::move(conv), diag); break;
    }
    // A failed turn still names its conversation, so a retry continues it.
    if (r.first && diag.conversation_id.empty()) diag.conversation_id = given;
    co_return r;
}

} // namespace

// Each operation's coroutine.
asio::awaitable<std::pair<error_code, chat_stream>> perform(send op) {
    return run_turn(std::move(op.state), std::move(op.message), std::move(op.conversation), streamed_turn{}, *op.diag);
}
asio::awaitable<std::pair<error_code, chat_reply>> perform(send_whole op) {
    return run_turn(std::move(op.state), std::move(op.message), std::move(op.conversation), whole_turn{}, *op.diag);
}

} // namespace detail


chat_client::chat_client(boost::asio::any_io_executor ex, chat_options opts)
    : state_(std::make_shared<detail::chat_client_state>(std::move(ex), std::move(opts))) {}

api_kind chat_client::api() const noexcept { return state_->opts.api; }

http::pool_stats chat_client::pool_stats() const {
    return std::visit([](const auto& provider) { return provider->http.stats(); }, state_->provider);
}

chat_client chat_client::with_retry(const retry_policy& policy) const {
    auto st = std::make_shared<detail::chat_client_state>(*state_);
    st->opts.retry = policy;
    // The provider's state is copied too (its transport and store are shared handles).
    std::visit(
        [&policy](auto& provider) {
            auto copy = std::make_shared<typename std::decay_t<decltype(provider)>::element_type>(*provider);
            copy->retry = policy;
            provider = std::move(copy);
        },
        st->provider);
    return chat_client(std::move(st));
}

} // namespace chatwire

// Each operation's entry points, compiled once.
template struct chatwire::detail::operation<chatwire::detail::send>;
template struct chatwire::detail::operation<chatwire::detail::send_whole>;
