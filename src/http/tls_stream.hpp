#pragma once
// A client TLS stream over a beast::tcp_stream that holds little memory.
//
// Asio's ssl::stream keeps four 17 KiB buffers per connection (its own input
// and output buffers and an OpenSSL BIO pair), touched in full: ~68 KiB for
// every open stream, most of a TLS connection's cost when thousands wait for
// tokens. Here OpenSSL reads ciphertext from a small staging buffer through a
// BIO of our own and writes into a string sized by what it sends, and with
// SSL_MODE_RELEASE_BUFFERS its record buffers are freed between records. The
// bytes also take one copy less on the way in and out. After every read that
// returned data the record buffers are freed too, since the reader may stop
// reading for long (a stream held between tokens): OpenSSL keeps its 17 KiB
// read buffer while a record is only partly taken, so the rest of such a
// record is first moved into a buffer of its own size.
//
// Reads and writes go through the tcp_stream, so its expiry (the transport's
// timeouts) and per-operation cancellation apply as to a plain connection.
// One operation at a time (HTTP/1.1 writes a request, then reads its answer),
// or, once set_full_duplex(), one read and one write at once (HTTP/2): then a
// read leaves the records OpenSSL made while reading (an alert, a key update)
// to the next write, so that only writes write.
#include <chatwire/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

namespace chatwire::http::detail {

class tls_stream {
public:
    using executor_type = boost::beast::tcp_stream::executor_type;

    /// A client-side stream over `tcp`, with the settings of `ctx`
    /// (trust, verification mode); std::bad_alloc when OpenSSL cannot make one.
    tls_stream(boost::beast::tcp_stream tcp, SSL_CTX* ctx);
    ~tls_stream();
    // OpenSSL's BIO points at this object.
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;

    SSL* native_handle() noexcept { return ssl_; }
    boost::beast::tcp_stream& next_layer() noexcept { return tcp_; }
    executor_type get_executor() noexcept { return tcp_.get_executor(); }

    /// Whether received bytes wait in this stream, ciphertext not yet taken by
    /// OpenSSL or plaintext not yet read; no I/O.
    bool holds_unread_input() const noexcept;

    /// From now on a read may run beside a write (after the handshake). A
    /// write that would need the peer's records first fails instead.
    void set_full_duplex() noexcept { duplex_ = true; }
    /// Records made by a read wait for a write (full duplex only): write
    /// nothing (async_write_some of an empty buffer) to send them.
    bool output_pending() const noexcept { return !out_.empty(); }

    /// void(error_code): the client handshake.
    template <class Token>
    auto async_handshake(Token&& token) {
        return start<void(error_code)>(handshake_step{}, std::forward<Token>(token));
    }

    /// void(error_code, std::size_t): plaintext into the first buffer of `buffers`.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return start<void(error_code, std::size_t)>(read_step{first_buffer<boost::asio::mutable_buffer>(buffers)},
                                                    std::forward<Token>(token));
    }

    /// void(error_code, std::size_t): plaintext from the first buffer of `buffers`.
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return start<void(error_code, std::size_t)>(write_step{first_buffer<boost::asio::const_buffer>(buffers)},
                                                    std::forward<Token>(token));
    }

private:
    /// What one call into OpenSSL asks for next.
    struct step_result {
        enum kind { done, need_input, failed } what = done;
        error_code ec;
        std::size_t bytes = 0;

        static step_result finished(std::size_t n = 0) { return {done, {}, n}; }
        static step_result wants_input() { return {need_input, {}, 0}; }
        static step_result failure(error_code e) { return {failed, e, 0}; }
    };

    // Non-template steps, in tls_stream.cpp.
    step_result handshake_once();
    step_result read_once(boost::asio::mutable_buffer b);
    step_result write_once(boost::asio::const_buffer b);
    /// Where the next socket read goes (the staging buffer's free room).
    boost::asio::mutable_buffer input_room();
    /// A socket read's result: bytes staged, or the error to report.
    error_code took_input(error_code ec, std::size_t n);
    friend struct tls_bio;

    struct handshake_step {
        step_result operator()(tls_stream& s) const { return s.handshake_once(); }
    };
    struct read_step {
        boost::asio::mutable_buffer b;
        step_result operator()(tls_stream& s) const { return s.read_once(b); }
    };
    struct write_step {
        boost::asio::const_buffer b;
        step_result operator()(tls_stream& s) const { return s.write_once(b); }
    };

    template <class Buffer, class Sequence>
    static Buffer first_buffer(const Sequence& seq) {
        for (auto it = boost::asio::buffer_sequence_begin(seq); it != boost::asio::buffer_sequence_end(seq); ++it)
            if (Buffer b(*it); b.size() != 0) return b;
        return Buffer{};
    }

    /// One operation: steps OpenSSL, sends what it produced, reads what it
    /// needs, until it is done or fails. Completes through a post when no
    /// I/O was needed, never inside the initiating call.
    template <class Step>
    struct io_op {
        tls_stream& s;
        Step step;
        enum { starting, stepping, flushing, reading, posted } phase = starting;
        step_result result{};

        template <class Self>
        void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
            switch (phase) {
            case flushing:
                (s.duplex_ ? s.sending_ : s.out_).clear();
                if (ec) return finish(self, ec, 0);
                if (result.what == step_result::done) return finish(self, {}, result.bytes);
                break;
            case reading:
                if (const error_code e = s.took_input(ec, n)) return finish(self, e, 0);
                break;
            case posted: return finish(self, result.ec, result.bytes);
            case starting:
            case stepping: break;
            }
            const bool initiating = phase == starting;
            phase = stepping;
            result = step(s);
            if (result.what == step_result::failed) return complete_soon(self, initiating);
            constexpr bool reads = std::is_same_v<Step, read_step>;
            if (!s.out_.empty() && !(s.duplex_ && reads)) {  // records to send first (the request, or a handshake message)
                phase = flushing;
                if (!s.duplex_) return boost::asio::async_write(s.tcp_, boost::asio::buffer(s.out_), std::move(self));
                // A read may add records to out_ while these are written.
                s.sending_.swap(s.out_);
                return boost::asio::async_write(s.tcp_, boost::asio::buffer(s.sending_), std::move(self));
            }
            if (result.what == step_result::done) return complete_soon(self, initiating);
            // Only reads read: a write waiting for the peer would race the read in flight.
            if (s.duplex_ && !reads) {
                result = step_result::failure(boost::asio::error::operation_not_supported);
                return complete_soon(self, initiating);
            }
            phase = reading;
            s.tcp_.async_read_some(s.input_room(), std::move(self));
        }

        template <class Self>
        void complete_soon(Self& self, bool initiating) {
            if (!initiating) return finish(self, result.ec, result.bytes);
            phase = posted;
            boost::asio::post(s.tcp_.get_executor(), std::move(self));
        }

        template <class Self>
        static void finish(Self& self, error_code ec, std::size_t n) {
            if constexpr (std::is_same_v<Step, handshake_step>) self.complete(ec);
            else self.complete(ec, n);
        }
    };

    template <class Signature, class Step, class Token>
    auto start(Step step, Token&& token) {
        return boost::asio::async_compose<Token, Signature>(io_op<Step>{*this, step}, token, tcp_);
    }

    /// Ciphertext received and not yet taken by OpenSSL.
    struct staging {
        std::unique_ptr<char[]> data;
        std::size_t capacity = 0, begin = 0, end = 0;
        bool filled = false;  ///< the last socket read filled the room
    };

    /// Takes what is left of a record a short read did not take, so that
    /// OpenSSL can free its record buffer (17 KiB) at once.
    void keep_rest_of_record();

    boost::beast::tcp_stream tcp_;
    SSL* ssl_ = nullptr;
    staging in_;
    std::string out_;  ///< ciphertext OpenSSL produced, sent before the operation goes on
    std::string sending_;  ///< full duplex: the ciphertext a write is sending
    bool duplex_ = false;
    /// Plaintext of a record the reader's buffer was too small for; read
    /// before OpenSSL is asked again, and freed once taken.
    std::string rest_;
    std::size_t rest_taken_ = 0;
};

} // namespace chatwire::http::detail
