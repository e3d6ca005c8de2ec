// The I/O loop around a reply_decoder: events from the bytes at hand, body
// pieces already received, and a socket read only when both are used up.
// Everything about the reply itself is the decoder's; this file only moves
// bytes and completes handlers.
#include <chatwire/chat_stream.hpp>
#include <chatwire/detail/operation_impl.hpp>
#include <chatwire/stream/reply_decoder.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include <new>
#include <stdexcept>
#include <string>

namespace chatwire {
namespace detail {

using next_handler = handler<event>;

struct chat_stream_state {
    chat_stream_state(boost::asio::any_io_executor ex, http::body_stream b, stream_format f, std::string conv,
                      stream::reply_options options)
        : executor(std::move(ex)), body(std::move(b)), decoder(f, options, std::move(conv)) {
        decoder.note_transport(body.http_version());
        using boost::beast::http::field;
        const auto& h = body.headers();
        content_encoding = h[field::content_encoding];
        transfer_encoding = h[field::transfer_encoding];
        body.discard_headers();
    }

    boost::asio::any_io_executor executor;
    http::body_stream body;
    stream::reply_decoder decoder;
    // The reply's codings, for the message when one is refused; the rest of
    // its headers is freed, as a held stream has no use for them.
    std::string content_encoding, transfer_encoding;
    bool busy = false;    // an async_next is in progress
    error_code final_ec;  // once set, every later call returns it
};

namespace {

void on_piece(chat_stream_state& st, error_code ec, std::string_view piece) {
    if (!ec) {
        st.decoder.feed(piece);
        return;
    }
    std::string detail;
    if (ec == errc::unsupported_encoding) {
        // The coding refused: a Content-Encoding, or else a Transfer-Encoding.
        detail = st.content_encoding.empty() ? "Transfer-Encoding: " + st.transfer_encoding
                                             : "Content-Encoding: " + st.content_encoding;
    }
    st.decoder.note_transport(st.body.http_version(), st.body.http2_error());
    st.decoder.finish(ec, detail);
}

// The reply ended at its terminal event: whatever the body still holds
// belongs to no event and is dropped. Its end usually follows at once (a
// server flushes its last event, then "[DONE]" and the last chunk): read in
// the background for a moment, it gives the connection back to the pool; a
// body left open is closed then. The reply itself ends now, never waiting.
constexpr std::chrono::milliseconds body_end_linger{250};

void release_after_reply(http::body_stream& body) noexcept { body.release(body_end_linger); }

// An event or a final code from the decoder's bytes and then from the body
// pieces already received; false when a read is needed. Runs inside
// completions too, so running out of memory is a final code rather than an
// exception out of the caller's io_context::run().
bool next_at_hand(chat_stream_state& st, error_code& ec, event& ev) {
    try {
        for (;;) {
            if (st.final_ec) {
                ec = st.final_ec;
                return true;
            }
            if (st.decoder.next(ec, ev)) {
                if (ec) {
                    st.final_ec = ec;
                    if (ec == errc::end_of_stream) release_after_reply(st.body);
                    else st.body.close();
                }
                return true;
            }
            std::string_view piece;
            error_code body_ec;
            if (!st.body.try_read_some(body_ec, piece)) return false;
            on_piece(st, body_ec, piece);
        }
    } catch (const std::bad_alloc&) {
        st.final_ec = make_error_code(boost::system::errc::not_enough_memory);
        st.body.close();
        ec = st.final_ec;
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

// Work is kept on the handler's executor while the read is pending; its
// cancellation slot goes to the read (which honours terminal cancellation).
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
    auto& body = st->body;
    auto on_read = [st = std::move(st), h = std::move(handler), work = std::move(work)](
                       error_code read_ec, std::string_view piece) mutable {
        on_piece(*st, read_ec, piece);
        continue_next(std::move(st), std::move(h), true);
    };
    body.async_read_some(boost::asio::bind_cancellation_slot(slot, std::move(on_read)));
}

} // namespace

void begin(next_event op, next_handler handler) {
    auto& st = op.state;
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
    : chat_stream(std::move(ex), std::move(body), format, std::move(conversation_id), stream::reply_options{}) {}

chat_stream::chat_stream(boost::asio::any_io_executor ex, http::body_stream body, stream_format format,
                         std::string conversation_id, stream::reply_options options)
    : state_(std::make_shared<detail::chat_stream_state>(std::move(ex), std::move(body), format,
                                                         std::move(conversation_id), options)) {}

chat_stream::~chat_stream() { close(); }

namespace detail {
namespace {

bool take_at_hand(chat_stream_state& st, error_code& ec, event& ev) {
    ev = event{};
    if (st.busy) {
        ec = errc::invalid_argument;
        return true;
    }
    ec = {};
    if (!next_at_hand(st, ec, ev)) return false;
    if (ec) ev = event{};  // as in async_next: an error closed the body, so no views
    return true;
}

} // namespace

// A plain coroutine (no lambda captures: see the GCC 12 pitfall). When the
// event is at hand it returns without suspending: the cost is the frame,
// which Asio recycles per thread. The event's views point into the state,
// which the stream holds.
awaited<event> begin_awaited(next_event op) {
    auto st = std::move(op.state);
    // Thrown where a handler-based call would throw it: when awaited.
    if (!st) throw std::logic_error("chat_stream::async_next on a stream that is not open");
    std::tuple<error_code, event> out;
    if (take_at_hand(*st, std::get<0>(out), std::get<1>(out))) co_return out;
    co_return co_await boost::asio::async_initiate<const boost::asio::as_tuple_t<boost::asio::use_awaitable_t<>>&,
                                                   void(error_code, event)>(
        [](auto handler, const std::shared_ptr<chat_stream_state>& state) {
            begin(next_event{state}, next_handler(std::move(handler)));
        },
        boost::asio::as_tuple(boost::asio::use_awaitable), st);
}

} // namespace detail

bool chat_stream::try_next(error_code& ec, event& ev) {
    if (!state_) throw std::logic_error("chat_stream::try_next on a stream that is not open");
    return detail::take_at_hand(*state_, ec, ev);
}

boost::asio::awaitable<std::tuple<error_code, event>> chat_stream::next() {
    return detail::begin_awaited(detail::next_event{state_});
}

std::string_view chat_stream::text_so_far() const noexcept {
    return state_ ? state_->decoder.text_so_far() : std::string_view{};
}
std::string_view chat_stream::conversation_id() const noexcept {
    return state_ ? state_->decoder.conversation_id() : std::string_view{};
}
const diagnostics& chat_stream::get_diagnostics() const noexcept {
    static const diagnostics none;
    return state_ ? state_->decoder.diagnostics() : none;
}

void chat_stream::close() noexcept {
    if (state_ && !state_->final_ec) {
        state_->final_ec = errc::cancelled;
        // Closed right after the terminal event: the reply is whole, so the
        // connection may still go back to the pool (no read can be pending).
        if (state_->decoder.reply_complete() && !state_->busy) detail::release_after_reply(state_->body);
        else state_->body.close();
    }
}

} // namespace chatwire

template struct chatwire::detail::operation<chatwire::detail::next_event>;
