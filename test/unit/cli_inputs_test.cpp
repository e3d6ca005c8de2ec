// The CLI's inputs and outcomes without a server: --api-key-file on real
// files of every kind, and the exit code of every failure.
#include <boost/test/unit_test.hpp>

#include "key_file.hpp"
#include "outcome.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace cli = chatwire::cli;
using chatwire::errc;
using chatwire::make_error_code;

namespace {

// A scratch directory, removed with what it holds.
struct scratch {
    std::string dir;
    scratch() {
        char name[] = "/tmp/chatwire-cli-XXXXXX";
        BOOST_TEST_REQUIRE(::mkdtemp(name) != nullptr);
        dir = name;
    }
    ~scratch() { (void)std::system(("rm -rf '" + dir + "'").c_str()); }
    std::string file(const std::string& name, const std::string& text) const {
        const auto path = dir + "/" + name;
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
};

struct read_result {
    bool ok;
    std::string key, why;
};

read_result read(const std::string& path) {
    read_result r;
    r.ok = cli::read_key_file(path, r.key, &r.why);
    return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(key_file_trims_the_newline_and_surrounding_blanks) {
    scratch s;
    BOOST_TEST(read(s.file("a", "sk-1\n")).key == "sk-1");
    BOOST_TEST(read(s.file("b", "sk-2\r\n")).key == "sk-2");
    BOOST_TEST(read(s.file("c", "  sk-3 \t\n\n")).key == "sk-3");
    BOOST_TEST(read(s.file("d", "sk-4")).key == "sk-4");
    const auto r = read(s.file("e", std::string(cli::max_key_file_size - 1, 'k') + "\n"));
    BOOST_TEST(r.ok);
    BOOST_TEST(r.key.size() == cli::max_key_file_size - 1);
}

BOOST_AUTO_TEST_CASE(key_file_refuses_what_holds_no_single_key) {
    scratch s;
    auto refused = [](const read_result& r, const std::string& reason) {
        BOOST_TEST(!r.ok);
        BOOST_TEST(r.key.empty());
        BOOST_TEST(r.why.find(reason) != std::string::npos, r.why);
    };
    refused(read(s.file("empty", "")), "is empty");
    refused(read(s.file("blank", " \t\r\n\n")), "only whitespace");
    refused(read(s.file("two", "sk-1\nsk-2\n")), "more than one line");
    refused(read(s.file("big", std::string(1024 * 1024, 'k'))), "larger than 64 KiB");
    refused(read(s.file("just-over", std::string(cli::max_key_file_size + 1, 'k'))), "larger than 64 KiB");
    refused(read(s.dir), "is a directory");
    refused(read(s.dir + "/missing"), "No such file");
    refused(read("/dev/zero"), "character device");
    // A FIFO with no writer: refused at once, not waited on.
    const auto fifo = s.dir + "/fifo";
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    refused(read(fifo), "FIFO");
}

BOOST_AUTO_TEST_CASE(key_file_reasons_never_quote_the_file) {
    scratch s;
    const auto r = read(s.file("two", "secret-one\nsecret-two\n"));
    BOOST_TEST(!r.ok);
    BOOST_TEST(r.why.find("secret") == std::string::npos, r.why);
}

BOOST_AUTO_TEST_CASE(every_error_has_its_exit_code) {
    auto code = [](errc e) { return cli::exit_code_for(make_error_code(e)); };
    for (auto e : {errc::invalid_argument, errc::invalid_url, errc::tls_setup_failed})
        BOOST_TEST(code(e) == cli::exit_usage, chatwire::errc_name(e));
    // The service's errors and its malformed answers are one class.
    for (auto e : {errc::http_error, errc::bad_request, errc::unauthorized, errc::forbidden, errc::payment_required,
                   errc::not_found, errc::conflict, errc::rate_limited, errc::quota_exceeded, errc::server_error,
                   errc::run_failed, errc::stream_error, errc::bad_response, errc::malformed_event,
                   errc::event_too_large, errc::header_limit_exceeded, errc::body_limit_exceeded,
                   errc::reply_too_large, errc::unsupported_encoding, errc::pagination_loop, errc::protocol_error})
        BOOST_TEST(code(e) == cli::exit_api, chatwire::errc_name(e));
    for (auto e : {errc::connect_timeout, errc::first_byte_timeout, errc::idle_timeout, errc::total_timeout,
                   errc::cancelled, errc::truncated_stream, errc::stream_reset, errc::retry_budget_exhausted})
        BOOST_TEST(code(e) == cli::exit_network, chatwire::errc_name(e));
}

BOOST_AUTO_TEST_CASE(a_malformed_http_response_is_the_services_fault) {
    namespace bh = boost::beast::http;
    for (auto e : {bh::error::bad_status, bh::error::bad_version, bh::error::bad_field, bh::error::bad_value,
                   bh::error::bad_content_length, bh::error::bad_chunk, bh::error::bad_line_ending,
                   bh::error::bad_transfer_encoding, bh::error::multiple_content_length, bh::error::header_limit,
                   bh::error::body_limit})
        BOOST_TEST(cli::exit_code_for(bh::make_error_code(e)) == cli::exit_api, bh::make_error_code(e).message());
    // A connection cut before the end of the answer is the network's.
    for (auto e : {bh::error::end_of_stream, bh::error::partial_message, bh::error::short_read})
        BOOST_TEST(cli::exit_code_for(bh::make_error_code(e)) == cli::exit_network);
    BOOST_TEST(cli::exit_code_for(boost::asio::error::connection_refused) == cli::exit_network);
}
