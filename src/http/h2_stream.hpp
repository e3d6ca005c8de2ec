#pragma once
// One HTTP/2 stream as the exchange and a streamed body see it: the head and
// the body bytes the session delivered, its end, and a timer its reader waits
// on (an event cancels the wait). A whole answer's body is copied out and
// its window given back at once; a streamed one's bytes hold their window
// until the reader has taken them, so a reader that stops holds back only its
// own stream.
#include "h2_link.hpp"

#include <chatwire/http/message.hpp>

#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace chatwire::http::detail {

struct h2_stream final : h2::stream_sink {
    h2_stream(std::shared_ptr<h2_link> l, const boost::asio::any_io_executor& ex, bool whole_body,
              std::size_t max_body)
        : link(std::move(l)), wake(ex), whole(whole_body), body_limit(max_body) {}
    ~h2_stream() { reset(); }
    h2_stream(const h2_stream&) = delete;
    h2_stream& operator=(const h2_stream&) = delete;

    /// Resets the stream unless it ended; its events stop.
    void reset() noexcept {
        if (id != 0 && !closed) link->cancel(id);
        closed = true;
        notify();
    }

    void on_head(std::int32_t, const h2::response_head& head) override {
        if (head.interim()) return;  // the session bounds how many come
        status = head.status;
        for (const auto& f : head.fields) headers.insert(f.name, f.value);
        head_done = true;
        notify();
    }

    void on_data(std::int32_t stream, std::string_view chunk) override {
        if (!whole) {
            incoming.append(chunk);  // its window comes back when the reader takes it
            notify();
            return;
        }
        if (body.size() + chunk.size() > body_limit) {
            own_error = errc::body_limit_exceeded;
            link->cancel(stream);
            closed = true;
            notify();
            return;
        }
        body.append(chunk);
        link->consume(stream, chunk.size());
        notify();  // the reader's idle limit starts again
    }

    void on_close(std::int32_t, const h2::stream_close& how) override {
        if (closed) return;
        end = how;
        closed = true;
        notify();
    }

    /// Wakes the reader waiting on `wake`, if any.
    void notify() noexcept {
        if (!waiting) return;
        waiting = false;
        wake.cancel();
    }

    std::shared_ptr<h2_link> link;
    std::int32_t id = 0;
    boost::asio::steady_timer wake;
    bool waiting = false;  ///< a reader waits on `wake`; cleared by the event that ends the wait

    bool whole;
    std::size_t body_limit;
    unsigned status = 0;
    bool head_done = false;
    fields headers;
    std::string request_body;  ///< sent from here: it may leave after the caller's copy is gone
    std::string body;      ///< a whole answer's body
    std::string incoming;  ///< a streamed body's bytes not yet handed out
    std::string handed;    ///< the piece handed out last; its window comes back at the next read
    bool closed = false;
    h2::stream_close end;  ///< how it ended (ec empty: whole)
    error_code own_error;  ///< a limit of this side ended it
};

} // namespace chatwire::http::detail
