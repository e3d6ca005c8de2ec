// OpenSSL's side of tls_stream: a BIO over the staging buffer and the output
// string, and one step of a handshake, read or write.
#include "tls_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace chatwire::http::detail {

namespace {

// Room for one socket read: small, since a stream of tokens brings a few
// hundred bytes at a time; doubled (up to a few records) when reads fill it,
// so a large answer does not cost a read per 4 KiB.
constexpr std::size_t first_input_room = 4 * 1024;
constexpr std::size_t max_input_room = 64 * 1024;

} // namespace

bool tls_stream::holds_unread_input() const noexcept {
    return in_.end > in_.begin || rest_taken_ < rest_.size() || SSL_has_pending(ssl_) == 1;
}

// The BIO between OpenSSL and the stream: reads take staged ciphertext (none:
// "retry", which OpenSSL reports as SSL_ERROR_WANT_READ); writes append to
// the output string and never block.
struct tls_bio {
    static tls_stream& of(BIO* b) { return *static_cast<tls_stream*>(BIO_get_data(b)); }

    static int read(BIO* b, char* out, int len) {
        BIO_clear_retry_flags(b);
        auto& in = of(b).in_;
        const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(len), in.end - in.begin);
        if (n == 0) {
            BIO_set_retry_read(b);
            return -1;
        }
        std::memcpy(out, in.data.get() + in.begin, n);
        in.begin += n;
        if (in.begin == in.end) in.begin = in.end = 0;
        return static_cast<int>(n);
    }

    static int write(BIO* b, const char* data, int len) {
        BIO_clear_retry_flags(b);
        try {
            of(b).out_.append(data, static_cast<std::size_t>(len));
        } catch (const std::bad_alloc&) {
            return -1;
        }
        return len;
    }

    static long ctrl(BIO*, int cmd, long, void*) {
        // OpenSSL flushes after a flight of records; the stream sends them itself.
        return cmd == BIO_CTRL_FLUSH ? 1 : 0;
    }

    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }

    static const BIO_METHOD* method() {
        static BIO_METHOD* const m = [] {
            BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "chatwire tls_stream");
            if (!made) return made;
            BIO_meth_set_read(made, &tls_bio::read);
            BIO_meth_set_write(made, &tls_bio::write);
            BIO_meth_set_ctrl(made, &tls_bio::ctrl);
            BIO_meth_set_create(made, &tls_bio::create);
            return made;
        }();
        return m;
    }
};

tls_stream::tls_stream(boost::beast::tcp_stream tcp, SSL_CTX* ctx) : tcp_(std::move(tcp)), ssl_(SSL_new(ctx)) {
    const BIO_METHOD* m = tls_bio::method();
    BIO* bio = m && ssl_ ? BIO_new(m) : nullptr;
    if (!bio) {
        if (ssl_) SSL_free(ssl_);
        throw std::bad_alloc();
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL object
    SSL_set_connect_state(ssl_);
}

tls_stream::~tls_stream() { SSL_free(ssl_); }

namespace {

// OpenSSL's verdict on a failed call, in the codes Asio's ssl::stream uses, so
// that callers see the same errors: eof after the peer's close_notify, a cut
// without one as stream_truncated, others in Asio's SSL category.
error_code failure(SSL* ssl, int ret) {
    const int kind = SSL_get_error(ssl, ret);
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (kind == SSL_ERROR_ZERO_RETURN) return boost::asio::error::eof;
    if (kind == SSL_ERROR_SSL && code != 0) {
        if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return boost::asio::ssl::error::stream_truncated;
        return error_code(static_cast<int>(code), boost::asio::error::get_ssl_category());
    }
    return boost::asio::ssl::error::unspecified_system_error;
}

bool wants_input(SSL* ssl, int ret) { return SSL_get_error(ssl, ret) == SSL_ERROR_WANT_READ; }

} // namespace

tls_stream::step_result tls_stream::handshake_once() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return step_result::finished();
    if (wants_input(ssl_, r)) return step_result::wants_input();
    return step_result::failure(failure(ssl_, r));
}

tls_stream::step_result tls_stream::read_once(boost::asio::mutable_buffer b) {
    if (b.size() == 0) return step_result::finished();
    if (rest_taken_ < rest_.size()) {
        const std::size_t n = std::min(b.size(), rest_.size() - rest_taken_);
        std::memcpy(b.data(), rest_.data() + rest_taken_, n);
        rest_taken_ += n;
        if (rest_taken_ == rest_.size()) {
            std::string().swap(rest_);  // its memory too: the stream may now wait long
            rest_taken_ = 0;
        }
        return step_result::finished(n);
    }
    // Nothing received and nothing left of a record: wait without asking
    // OpenSSL, which would take its record buffer (17 KiB) for the wait.
    if (in_.begin == in_.end && !SSL_has_pending(ssl_)) return step_result::wants_input();
    ERR_clear_error();
    std::size_t n = 0;
    const int r = SSL_read_ex(ssl_, b.data(), b.size(), &n);
    if (r == 1) {
        keep_rest_of_record();
        // The reader may now stop reading for long (a held stream between
        // tokens). SSL_MODE_RELEASE_BUFFERS does not always free the read
        // buffer after a read that returned data (about half of the streams
        // held in tls_buffers_test kept it), so it is freed here.
        if (!SSL_has_pending(ssl_)) SSL_free_buffers(ssl_);
        return step_result::finished(n);
    }
    if (wants_input(ssl_, r)) return step_result::wants_input();
    return step_result::failure(failure(ssl_, r));
}

void tls_stream::keep_rest_of_record() {
    // SSL_pending: the decrypted bytes left of the record just read (only
    // that record; ciphertext behind it stays staged with us).
    const int left = SSL_pending(ssl_);
    if (left <= 0) return;
    try {
        rest_.resize(static_cast<std::size_t>(left));
    } catch (const std::bad_alloc&) {
        return;  // then OpenSSL keeps the rest, and the next read takes it from there
    }
    std::size_t n = 0;
    // Cannot fail: the bytes are decrypted already, and no I/O is needed.
    if (SSL_read_ex(ssl_, rest_.data(), rest_.size(), &n) != 1) n = 0;
    rest_.resize(n);
    rest_taken_ = 0;
}

tls_stream::step_result tls_stream::write_once(boost::asio::const_buffer b) {
    if (b.size() == 0) return step_result::finished();
    ERR_clear_error();
    std::size_t n = 0;
    const int r = SSL_write_ex(ssl_, b.data(), b.size(), &n);
    if (r == 1) return step_result::finished(n);
    // A write can need the peer's records first (a renegotiation or key update).
    if (wants_input(ssl_, r)) return step_result::wants_input();
    return step_result::failure(failure(ssl_, r));
}

boost::asio::mutable_buffer tls_stream::input_room() {
    auto& in = in_;
    // A wait may be long (the next token): OpenSSL's record buffers go back
    // while it lasts, unless a record is half received (then nothing is freed).
    if (in.begin == in.end) SSL_free_buffers(ssl_);
    if (in.capacity == 0 || (in.filled && in.capacity < max_input_room)) {
        // First read, or the last one filled the room: a larger one. Not
        // initialised, so that pages a small stream never uses stay untouched.
        const std::size_t room = in.capacity == 0 ? first_input_room : in.capacity * 2;
        std::unique_ptr<char[]> bigger(new char[room]);
        if (in.end > in.begin) std::memcpy(bigger.get(), in.data.get() + in.begin, in.end - in.begin);
        in.data = std::move(bigger);
        in.capacity = room;
    } else if (in.begin > 0) {
        std::memmove(in.data.get(), in.data.get() + in.begin, in.end - in.begin);
    }
    in.end -= in.begin;
    in.begin = 0;
    return {in.data.get() + in.end, in.capacity - in.end};
}

error_code tls_stream::took_input(error_code ec, std::size_t n) {
    if (ec == boost::asio::error::eof) {
        // The TCP stream ended: after the peer's close_notify OpenSSL would
        // have said so, so here the cut came without one.
        return (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) ? ec : error_code(boost::asio::ssl::error::stream_truncated);
    }
    if (ec) return ec;
    in_.filled = in_.end + n == in_.capacity;
    in_.end += n;
    return {};
}

} // namespace chatwire::http::detail
