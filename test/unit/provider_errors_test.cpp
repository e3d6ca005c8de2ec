// An error answer becomes errc + diagnostics through one function, each
// provider described as data: without a socket.
#include <boost/test/unit_test.hpp>

#include "../../src/client/provider_errors.hpp"

#include <boost/beast/http/field.hpp>

namespace cd = chatwire::detail;
using chatwire::diagnostics;
using chatwire::errc;
using chatwire::error_code;

namespace {

constexpr cd::code_rule codes[] = {
    {"LIMITS_REACHED", errc::quota_exceeded},
    {"TOO_MANY_REQUESTS", errc::rate_limited, true},
    {"NOT_FOUND", errc::not_found},
};
constexpr cd::error_shape code_and_message{"code", "message", codes};
constexpr cd::error_shape with_body_hint{"code", "error", codes, true};
constexpr cd::error_shape run_status{"status", "error", {}, false, true};

struct mapped {
    error_code ec;
    diagnostics diag;
};

mapped map(const cd::error_shape& shape, unsigned status, std::string_view body,
           const chatwire::http::fields& headers = {}) {
    mapped m;
    m.ec = cd::map_provider_error(shape, status, headers, body, m.diag);
    return m;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_code_and_message_are_kept_and_the_code_decides) {
    const auto m = map(code_and_message, 400, R"({"code":"NOT_FOUND","message":"no such bot"})");
    BOOST_TEST((m.ec == errc::not_found));  // the code wins over the status
    BOOST_TEST(m.diag.http_status == 400);
    BOOST_TEST(m.diag.provider_code == "NOT_FOUND");
    BOOST_TEST(m.diag.provider_message == "no such bot");
}

BOOST_AUTO_TEST_CASE(a_suffix_rule_matches_the_codes_that_end_in_it) {
    BOOST_TEST((map(code_and_message, 429, R"({"code":"CONVERSATION_TOO_MANY_REQUESTS"})").ec ==
                errc::rate_limited));
    BOOST_TEST((map(code_and_message, 402, R"({"code":"LIMITS_REACHED"})").ec == errc::quota_exceeded));
    // An exact rule does not match a longer code: the status decides.
    BOOST_TEST((map(code_and_message, 404, R"({"code":"NOT_FOUND_HERE"})").ec == errc::not_found));
    BOOST_TEST((map(code_and_message, 409, R"({"code":"NOT_FOUND_HERE"})").ec == errc::conflict));
}

BOOST_AUTO_TEST_CASE(an_unknown_or_missing_code_leaves_the_status_to_decide) {
    BOOST_TEST((map(code_and_message, 503, R"({"code":"SOMETHING_NEW"})").ec == errc::server_error));
    const auto m = map(code_and_message, 401, "<html>bad gateway page</html>");
    BOOST_TEST((m.ec == errc::unauthorized));
    BOOST_TEST(m.diag.provider_code.empty());
    BOOST_TEST(m.diag.provider_message == "<html>bad gateway page</html>");  // kept when not the documented shape
}

BOOST_AUTO_TEST_CASE(a_body_hint_is_taken_only_where_the_provider_sends_one) {
    const std::string_view body = R"({"code":"RATE","error":"slow down","retryAfter":60})";
    const auto with = map(with_body_hint, 429, body);
    BOOST_REQUIRE(with.diag.retry_after.has_value());
    BOOST_TEST(with.diag.retry_after->count() == 60000);
    BOOST_TEST(with.diag.provider_message == "slow down");
    BOOST_TEST(!map(code_and_message, 429, body).diag.retry_after.has_value());
    // A header hint is more specific than the body's.
    chatwire::http::fields h;
    h.set(boost::beast::http::field::retry_after, "2");
    const auto both = map(with_body_hint, 429, body, h);
    BOOST_REQUIRE(both.diag.retry_after.has_value());
    BOOST_TEST(both.diag.retry_after->count() == 2000);
}

BOOST_AUTO_TEST_CASE(a_failed_run_with_a_success_status_is_run_failed) {
    const auto m = map(run_status, 200, R"({"status":"failed","error":"the pipeline stopped"})");
    BOOST_TEST((m.ec == errc::run_failed));
    BOOST_TEST(m.diag.provider_code == "failed");
    BOOST_TEST(m.diag.provider_message == "the pipeline stopped");
    BOOST_TEST((map(run_status, 404, R"({"status":"failed","error":"Conversation not found"})").ec ==
                errc::not_found));
    BOOST_TEST((map(code_and_message, 200, R"({"code":"X"})").ec != errc::run_failed));
}
