// The HTTP response path on arbitrary server bytes, interim 1xx answers
// included, over Beast's test stream instead of a socket:
//   - the head is read as the transport's exchange reads it (read_header,
//     a fresh parser with the same header and body limits for each interim
//     answer); that loop is written against a TCP or TLS connection, so it
//     is mirrored here rather than called;
//   - a streamed body is then read by the transport's own code: body_stream
//     (take_piece, which hands out piece_body's views of the connection's
//     buffer) and the fill steps that surround each socket read
//     (begin_fill, after_fill), with the test stream as the socket;
//   - a whole body is read as exchange() reads it (string_body, body limit),
//     and must agree with a read without the limit.
// Checked: no crash, no sanitizer report; the connection's buffer stays
// within the header limit plus one read; a connection given back to the pool
// holds no byte and its answer was framed beyond doubt (a length or chunks,
// one way only); every piece is read before the
// bytes under it are reused (ASan sees a stale view); and the streamed body
// agrees with Beast's own reading of the same bytes without a limit: a streamed
// body that ended cleanly is the same body, and one that failed did so for a
// reason the plain parse also saw or that the transport adds on purpose.
// Input: byte 0 picks the limits and the read size; the rest is what the server sent.
#include "fuzz_split.hpp"

#include "../../src/http/body_reader.hpp"
#include "../../src/http/client_state.hpp"
#include "../../src/http/framing.hpp"
#include "../../src/http/stream_state.hpp"

#include <chatwire/http/body_stream.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace detail = chatwire::http::detail;
using chatwire::errc;
using chatwire::error_code;
using chatwire::fuzz::check;

namespace {

constexpr std::size_t fill_size = 16 * 1024;      // body_stream.cpp's read size
constexpr std::size_t beast_read_size = 65536;    // Beast's largest read into a flat_buffer

asio::io_context& io() {
    static asio::io_context ioc;
    return ioc;
}

const std::shared_ptr<detail::client_state>& client() {
    static auto st = std::make_shared<detail::client_state>(io().get_executor(), chatwire::http::client_options{});
    return st;
}

bool is_interim(unsigned status) { return status >= 100 && status < 200 && status != 101; }

struct limits {
    std::size_t header;
    std::size_t body;
};

// As request.cpp configures its parsers.
template <class Body>
void configure(bhttp::response_parser<Body>& p, const limits& l, boost::optional<std::uint64_t> body_limit) {
    p.header_limit(static_cast<std::uint32_t>(l.header));
    p.body_limit(body_limit);
}

beast::test::stream server(std::string_view bytes, std::size_t read_size) {
    beast::test::stream s(io());
    s.append(bytes);
    s.read_size(read_size);
    s.close_remote();  // the server closes after its last byte
    return s;
}

// What Beast alone makes of the bytes: the final response's body, read whole.
struct plain_result {
    error_code header_ec;   // reading the head
    error_code body_ec;     // reading the body after it
    std::string body;
};

std::string body_text(std::string& body) { return std::move(body); }
std::string body_text(const beast::multi_buffer& body) { return beast::buffers_to_string(body.data()); }

// Body: string_body as exchange() has it, or dynamic_body for a reference
// without a limit (string_body reserves what Content-Length announces).
template <class Body>
plain_result read_plain(std::string_view bytes, std::size_t read_size, const limits& l,
                        boost::optional<std::uint64_t> body_limit) {
    plain_result r;
    auto s = server(bytes, read_size);
    beast::flat_buffer buffer;
    std::optional<bhttp::response_parser<Body>> parser;
    parser.emplace();
    configure(*parser, l, body_limit);
    for (;;) {
        bhttp::read_header(s, buffer, *parser, r.header_ec);
        check(buffer.size() <= l.header + beast_read_size);
        if (r.header_ec) return r;
        if (!is_interim(parser->get().result_int())) break;
        parser.emplace();
        configure(*parser, l, body_limit);
    }
    while (!parser->is_done()) {
        bhttp::read_some(s, buffer, *parser, r.body_ec);
        check(buffer.size() <= l.header + beast_read_size);
        if (r.body_ec) return r;
    }
    r.body = body_text(parser->get().body());
    return r;
}

// chatwire's streamed path: the head as exchange_on reads it, then the body
// through body_stream and the fill steps.
struct streamed_result {
    error_code header_ec;
    error_code end;          // end_of_stream when the body was read to its end
    std::string body;
};

streamed_result read_streamed(std::string_view bytes, std::size_t read_size, const limits& l) {
    streamed_result r;
    const auto& st = client();
    st->options.limits.max_header_bytes = l.header;
    st->options.limits.max_body_bytes = l.body;
    auto s = server(bytes, read_size);
    auto conn = std::make_unique<detail::connection>(beast::tcp_stream(io()));
    auto state = std::make_shared<detail::stream_state>(st, detail::lease(st, std::move(conn)),
                                                        detail::deadline(std::chrono::milliseconds(0)));
    auto renew = [&] {
        state->parser.emplace();
        state->parser->get().body().pieces = &state->pieces;
        configure(*state->parser, l, boost::none);
    };
    renew();
    auto& buffer = state->conn->buffer;
    for (;;) {
        bhttp::read_header(s, buffer, *state->parser, r.header_ec);
        check(buffer.size() <= l.header + beast_read_size);
        if (r.header_ec) return r;
        if (!is_interim(state->parser->get().result_int())) break;
        renew();
    }
    state->status = state->parser->get().result_int();
    state->headers = std::move(state->parser->get().base());
    const bool framed_by_length = !state->parser->need_eof();
    const bool framing_sound = !detail::check_framing(state->headers).refusal;
    // As the exchange does: an answer framed two ways is refused before its body.
    const bool bodiless = state->status == 204 || state->status == 304;
    if (!bodiless && detail::check_framing(state->headers).refusal == errc::bad_response) {
        r.end = errc::bad_response;
        return r;
    }

    chatwire::http::body_stream body(state);
    for (;;) {
        error_code ec;
        std::string_view piece;
        if (body.try_read_some(ec, piece)) {
            if (ec) {
                r.end = ec;
                break;
            }
            check(!piece.empty());
            r.body.append(piece);  // ASan reports a view of bytes already reused
            continue;
        }
        check(buffer.size() <= l.header);  // only unfinished framing waits for more
        asio::mutable_buffer space;
        if (const error_code fill_ec = detail::begin_fill(*state, space)) {
            r.end = fill_ec;
            break;
        }
        check(space.size() >= 1 && space.size() <= fill_size + l.header);
        error_code read_ec;
        const std::size_t n = s.read_some(asio::buffer(space.data(), std::min(space.size(), fill_size)), read_ec);
        if (const error_code after = detail::after_fill(*state, read_ec, n)) {
            r.end = after;
            break;
        }
        check(buffer.size() <= l.header + fill_size);
    }
    // A connection back in the pool: nothing left in its buffer, and an
    // answer whose end its framing said, not the close.
    for (const auto& [key, pool] : client()->pools) {
        for (const auto& c : pool.idle) {
            check(c->buffer.size() == 0);
            check(framed_by_length && framing_sound && r.end == errc::end_of_stream);
        }
    }
    // A final code repeats.
    error_code again;
    std::string_view none;
    check(body.try_read_some(again, none) && (again == r.end || (again == errc::cancelled && r.end != errc::end_of_stream)));
    return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static constexpr std::size_t read_sizes[] = {1, 7, 100, fill_size};
    const std::size_t read_size = read_sizes[data[0] & 3];
    const limits l = data[0] & 4 ? limits{256, 64} : limits{16 * 1024, 8 * 1024 * 1024};
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    // A whole response, as exchange() reads it, with its body limit: the
    // same as without one while the body fits, body_limit once it does not.
    const plain_result whole = read_plain<bhttp::string_body>(bytes, read_size, l, l.body);
    const plain_result plain = read_plain<bhttp::dynamic_body>(bytes, read_size, l, boost::none);
    check(whole.header_ec == plain.header_ec || whole.header_ec == bhttp::error::body_limit);
    if (!whole.header_ec && !whole.body_ec) check(whole.body == plain.body && whole.body.size() <= l.body);
    if (whole.body_ec == bhttp::error::body_limit || whole.header_ec == bhttp::error::body_limit)
        check(plain.header_ec || plain.body_ec || plain.body.size() > l.body);

    const streamed_result streamed = read_streamed(bytes, read_size, l);
    check(streamed.header_ec == plain.header_ec);
    if (!streamed.header_ec) {
        if (streamed.end == errc::end_of_stream) {
            check(!plain.body_ec && streamed.body == plain.body);
        } else {
            // The transport refuses codings it does not undo and bounds
            // unfinished framing like a header; anything else Beast saw too.
            check(streamed.end == errc::unsupported_encoding || streamed.end == errc::bad_response ||
                  streamed.end == errc::truncated_stream || plain.body_ec.failed());
            if (streamed.end == errc::truncated_stream) check(plain.body_ec.failed());
        }
    }
    client()->pools.clear();  // connections given back stay out of the next run
    return 0;
}
