// The framing verdict on a response's header, without sockets.
#include <boost/test/unit_test.hpp>

#include "../../src/http/framing.hpp"

#include <boost/beast/http/error.hpp>

#include <initializer_list>
#include <utility>

using chatwire::errc;
using chatwire::error_code;
using chatwire::http::fields;
using chatwire::http::detail::check_framing;

namespace {

fields make(std::initializer_list<std::pair<const char*, const char*>> list) {
    fields f;
    for (const auto& [name, value] : list) f.insert(name, value);
    return f;
}

error_code verdict(std::initializer_list<std::pair<const char*, const char*>> list) {
    return check_framing(make(list)).refusal;
}

} // namespace

BOOST_AUTO_TEST_SUITE(framing_verdict)

BOOST_AUTO_TEST_CASE(a_length_or_chunks_alone_is_sound) {
    BOOST_TEST(!verdict({}));
    BOOST_TEST(!verdict({{"Content-Length", "5"}}));
    BOOST_TEST(!verdict({{"Transfer-Encoding", "chunked"}}));
    BOOST_TEST(!verdict({{"Transfer-Encoding", "CHUNKED"}}));
    BOOST_TEST(!verdict({{"Transfer-Encoding", " identity , chunked "}}));
    BOOST_TEST(!verdict({{"Transfer-Encoding", "identity"}}));  // read to the close
    BOOST_TEST(!verdict({{"Transfer-Encoding", "chunked,"}}));  // empty list elements do not count
}

BOOST_AUTO_TEST_CASE(a_coding_with_a_length_is_ambiguous_whatever_the_order) {
    for (const char* te : {"chunked", "gzip", "identity", "chunked, identity", "gzip, chunked"}) {
        BOOST_TEST_CONTEXT(te) {
            BOOST_TEST(verdict({{"Transfer-Encoding", te}, {"Content-Length", "5"}}) == errc::bad_response);
            BOOST_TEST(verdict({{"Content-Length", "5"}, {"Transfer-Encoding", te}}) == errc::bad_response);
        }
    }
    BOOST_TEST(verdict({{"Transfer-Encoding", " , "}}) == errc::bad_response);  // no coding at all
}

BOOST_AUTO_TEST_CASE(codings_this_client_does_not_undo_are_unsupported) {
    BOOST_TEST(verdict({{"Transfer-Encoding", "gzip"}}) == errc::unsupported_encoding);
    BOOST_TEST(verdict({{"Transfer-Encoding", "gzip, chunked"}}) == errc::unsupported_encoding);
    BOOST_TEST(verdict({{"Transfer-Encoding", "deflate;x=1, chunked"}}) == errc::unsupported_encoding);
    BOOST_TEST(verdict({{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}}) == errc::unsupported_encoding);
    // chunked is the last coding or none: applied before another, or twice, it cannot be undone here.
    BOOST_TEST(verdict({{"Transfer-Encoding", "chunked, identity"}}) == errc::unsupported_encoding);
    BOOST_TEST(verdict({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}) ==
               errc::unsupported_encoding);
    const auto f = make({{"Transfer-Encoding", "gzip, chunked"}});
    BOOST_TEST(check_framing(f).transfer_encoding == "gzip, chunked");
}

BOOST_AUTO_TEST_CASE(beast_framing_errors_are_bad_responses) {
    using e = boost::beast::http::error;
    using chatwire::http::detail::is_framing_error;
    for (auto code : {e::bad_transfer_encoding, e::bad_content_length, e::multiple_content_length, e::bad_chunk,
                      e::bad_chunk_extension, e::buffer_overflow})
        BOOST_TEST(is_framing_error(make_error_code(code)));
    BOOST_TEST(!is_framing_error(make_error_code(e::header_limit)));
    BOOST_TEST(!is_framing_error(make_error_code(e::end_of_stream)));
}

BOOST_AUTO_TEST_SUITE_END()
