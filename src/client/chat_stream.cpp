// Drives a decoder and a mapper over a body_stream: pull an event from the
// bytes at hand; read more only when the decoder has used them all.
#include <chatwire/chat_stream.hpp>
#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/sse_decoder.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>

#include "../http/body_reader.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>

#include <new>
#include <stdexcept>
#include <variant>

namespace chatwire {
namespace detail {

struct chat_stream_state {
    chat_stream_state(boost::asio::any_io_executor ex, http::body_stream b, stream_format f, std::string conv)
        : executor(std::move(ex)), body(std::move(b)), format(f), conversation_id(std::move(conv)) {
        switch (f) {
        case stream_format::vectorshift_sse: mapper.emplace<stream::vectorshift_mapper>(); break;
        case stream_format::chatbotkit_jsonl: mapper.emplace<stream::chatbotkit_mapper>(); break;
        case stream_format::pollybot_sse: mapper.emplace<stream::pollybot_mapper>(); break;
        }
    }

    boost::asio::any_io_executor executor;
    http::body_stream body;
    stream_format format;
    std::string conversation_id;
    stream::sse_decoder sse;
    stream::jsonl_decoder jsonl;
    std::variant<std::monostate, stream::vectorshift_mapper, stream::chatbotkit_mapper, stream::pollybot_mapper>
        mapper;
    diagnostics diag;
    bool busy = false;        // an async_next is in progress
    bool json_lines = false;  // a VectorShift body of bare JSON lines instead of SSE
    bool seen_bytes = false;
    error_code body_end;   // set once the body has ended (end_of_stream or an error)
    error_code final_ec;   // once set, every later call returns it

    bool uses_sse() const noexcept { return format != stream_format::chatbotkit_jsonl && !json_lines; }

    stream::decode_status next_payload(std::string_view& payload, error_code& ec) {
        if (!uses_sse()) return jsonl.next(payload, ec);
        stream::sse_event ev;
        auto s = sse.next(ev, ec);
        payload = ev.data;
        return s;
    }

    error_code map(std::string_view payload, event& ev, bool& produced) {
        return std::visit(
            [&](auto& m) -> error_code {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return errc::invalid_argument;
                else return m.map(payload, ev, produced, diag);
            },
            mapper);
    }

    bool terminal_seen() const noexcept {
        return std::visit(
            [](const auto& m) {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return false;
                else return m.terminal_seen();
            },
            mapper);
    }

    std::string_view text_so_far() const noexcept {
        return std::visit(
            [](const auto& m) -> std::string_view {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return {};
                else return m.text_so_far();
            },
            mapper);
    }

    error_code finish(error_code ec) {
        final_ec = ec;
        if (ec != errc::end_of_stream) body.close();
        return ec;
    }

    /// An event or a final code from the bytes at hand; false when more bytes are needed.
    bool try_next(error_code& ec, event& ev) {
        if (final_ec) {
            ec = final_ec;
            return true;
        }
        for (;;) {
            std::string_view payload;
            auto status = next_payload(payload, ec);
            if (status == stream::decode_status::error) {
                ec = finish(ec);
                return true;
            }
            if (status == stream::decode_status::need_more) {
                if (!body_end) return false;
                if (body_end == errc::end_of_stream && !terminal_seen()) body_end = errc::truncated_stream;
                ec = finish(body_end);
                return true;
            }
            bool produced = false;
            ec = map(payload, ev, produced);
            if (ec) {
                ec = finish(ec);
                return true;
            }
            if (produced) {
                if (!ev.conversation_id.empty() && ev.conversation_id != conversation_id)
                    conversation_id.assign(ev.conversation_id);
                return true;
            }
        }
    }

    void on_piece(error_code ec, std::string_view piece) {
        if (!ec) {
            if (!seen_bytes && !piece.empty()) {
                seen_bytes = true;
                // VectorShift may also answer with bare JSON lines: tell by the first byte.
                json_lines = format == stream_format::vectorshift_sse &&
                             stream::vectorshift_mapper::body_is_bare_json(piece);
            }
            if (uses_sse()) sse.feed(piece);
            else jsonl.feed(piece);
            return;
        }
        if (ec.category() != chatwire::error_category()) {
            // The connection broke mid-body (reset, TLS error): the stream is
            // cut short; the cause stays in the diagnostics.
            diag.detail = "the connection broke: " + ec.message();
            ec = errc::truncated_stream;
        }
        body_end = ec;
        if (ec == errc::end_of_stream || ec == errc::truncated_stream) {
            // A JSON line needs no terminator; an SSE event cut off is dropped.
            if (uses_sse()) sse.finish();
            else jsonl.finish();
        }
        if (ec != errc::end_of_stream && diag.detail.empty()) diag.detail = "the response body broke off";
    }
};

namespace {

// An event or a final code from the decoder's bytes and then from the body
// pieces already in the connection's buffer; false when a read is needed.
// Runs inside completions too, so running out of memory is a final code
// rather than an exception out of the caller's io_context::run().
bool next_at_hand(chat_stream_state& st, error_code& ec, event& ev) {
    const auto& body = http::detail::state_of(st.body);
    try {
        for (;;) {
            if (st.try_next(ec, ev)) return true;
            std::string_view piece;
            if (!body) st.on_piece(errc::cancelled, {});
            else if (http::detail::take_piece(*body, ec, piece)) st.on_piece(ec, piece);
            else {
                ec = {};
                return false;
            }
        }
    } catch (const std::bad_alloc&) {
        ev = event{};
        ec = st.finish(make_error_code(boost::system::errc::not_enough_memory));
        return true;
    }
}

// An event found at initiation is posted (a handler never runs inside the
// call that started it); one that needed a read completes in place when the
// handler's executor allows it, sparing a trip through the event loop.
void complete(const std::shared_ptr<chat_stream_state>& st, next_handler handler, error_code ec, event ev,
              bool after_read) {
    // An error closed the body: its bytes are gone, so hand out no views.
    if (ec) ev = event{};
    auto ex = boost::asio::get_associated_executor(handler, st->executor);
    // The state rides along so the event's views stay valid until the handler
    // ran; the call counts as pending until then (the event's views would not
    // survive a second one).
    auto bound = boost::asio::bind_executor(
        std::move(ex), [st, h = std::move(handler), ec, ev = std::move(ev)]() mutable {
            st->busy = false;
            // Closed while the completion waited: the event's bytes may be gone.
            if (!ec && st->final_ec == errc::cancelled) {
                ec = errc::cancelled;
                ev = event{};
            }
            std::move(h)(ec, std::move(ev));
        });
    if (after_read) boost::asio::dispatch(st->executor, std::move(bound));
    else boost::asio::post(st->executor, std::move(bound));
}

// Events from the bytes at hand, body pieces from the connection's buffer,
// and a socket read only when both are used up. Work is kept on the
// handler's executor while the read is pending.
void continue_next(std::shared_ptr<chat_stream_state> st, next_handler handler, bool after_read) {
    error_code ec;
    event ev;
    if (next_at_hand(*st, ec, ev)) {
        complete(st, std::move(handler), ec, std::move(ev), after_read);
        return;
    }
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler, st->executor),
                                    boost::asio::execution::outstanding_work.tracked);
    auto body = http::detail::state_of(st->body);
    auto on_filled = [st, h = std::move(handler), work = std::move(work)](error_code ec) mutable {
        if (ec) st->on_piece(ec, {});
        continue_next(std::move(st), std::move(h), true);
    };
    http::detail::async_fill(std::move(body), slot, std::move(on_filled));
}

} // namespace

void start_next(const std::shared_ptr<chat_stream_state>& st, next_handler handler) {
    if (!st) throw std::logic_error("chat_stream::async_next on a stream that is not open");
    if (st->busy) {
        // One read at a time: a second one would race the first over the same buffer.
        boost::asio::post(st->executor, boost::asio::append(std::move(handler),
                                                            make_error_code(errc::invalid_argument), event{}));
        return;
    }
    st->busy = true;
    continue_next(st, std::move(handler), false);
}

} // namespace detail

chat_stream::chat_stream(boost::asio::any_io_executor ex, http::body_stream body, stream_format format,
                         std::string conversation_id)
    : state_(std::make_shared<detail::chat_stream_state>(std::move(ex), std::move(body), format,
                                                         std::move(conversation_id))) {}

chat_stream::~chat_stream() { close(); }

bool chat_stream::try_next(error_code& ec, event& ev) {
    if (!state_) throw std::logic_error("chat_stream::try_next on a stream that is not open");
    auto& st = *state_;
    ev = event{};
    if (st.busy) {
        ec = errc::invalid_argument;
        return true;
    }
    ec = {};
    if (!detail::next_at_hand(st, ec, ev)) return false;
    if (ec) ev = event{};  // as in async_next: an error closed the body, so no views
    return true;
}

std::string_view chat_stream::text_so_far() const noexcept { return state_ ? state_->text_so_far() : std::string_view{}; }
std::string_view chat_stream::conversation_id() const noexcept {
    return state_ ? std::string_view(state_->conversation_id) : std::string_view{};
}
const diagnostics& chat_stream::get_diagnostics() const noexcept {
    static const diagnostics none;
    return state_ ? state_->diag : none;
}

void chat_stream::close() noexcept {
    if (state_ && !state_->final_ec) {
        state_->final_ec = errc::cancelled;
        state_->body.close();
    }
}

} // namespace chatwire
