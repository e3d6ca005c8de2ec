#include "fixture.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
namespace emu = chatwire::emulator;

BOOST_AUTO_TEST_SUITE(emulator_faults_on_the_wire)

namespace {

emu_test::http_reply stream_chat(const emu_test::target& t) {
    return emu_test::exchange(t, "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"hi","stream":true})");
}

void script(const running_emulator& e, const std::string& rules) {
    auto r = emu_test::exchange(e.target(), "POST", "/_emulator/faults", e.admin(), rules);
    BOOST_TEST_REQUIRE(r.status == 200);
}

bool is_reset(const boost::system::error_code& ec) {
    return ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe;
}

} // namespace

BOOST_AUTO_TEST_CASE(status_with_retry_after) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"api":"pollybot","times":1,"kind":"status","status":429,"retry_after":2}])");
    auto r = stream_chat(t);
    BOOST_TEST(r.status == 429);
    BOOST_TEST(r.header("retry-after") == "2");
    BOOST_TEST(json::parse(r.body).as_object().at("retryAfter").as_int64() == 2);
    BOOST_TEST(!r.header("x-ratelimit-limit").empty());
    BOOST_TEST(stream_chat(t).status == 200);  // spent
}

BOOST_AUTO_TEST_CASE(reset_before_response) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"kind":"reset_before_response","times":1}])");
    auto r = stream_chat(t);
    BOOST_TEST(r.raw.empty());
    BOOST_TEST(is_reset(r.ec));
}

BOOST_AUTO_TEST_CASE(reset_after_events) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"kind":"reset_after_events","reset_after_events":3}])");
    auto r = stream_chat(t);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(!r.complete);
    BOOST_TEST(emu_test::sse_payloads(r.body).size() == 3u);
    BOOST_TEST(is_reset(r.ec));
}

BOOST_AUTO_TEST_CASE(stall_before_the_head_and_mid_stream) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"kind":"stall_ms","stall_ms":300,"times":1},{"kind":"stall_ms","stall_ms":300,"events":2,"times":1}])");
    auto r = stream_chat(t);
    BOOST_TEST(r.first_byte.count() >= 300);
    BOOST_TEST(r.elapsed.count() >= 600);
    BOOST_TEST(r.complete);
}

BOOST_AUTO_TEST_CASE(truncate_after_events_ends_the_body_cleanly) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"api":"pollybot","kind":"truncate_after_events","truncate_after_events":4}])");
    auto r = stream_chat(t);
    BOOST_TEST(r.complete);  // the chunked body is terminated...
    auto events = emu_test::sse_payloads(r.body);
    BOOST_TEST(events.size() == 4u);  // ...but without "done" and [DONE]
    BOOST_TEST(r.body.find("[DONE]") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(drip_sends_the_same_bytes_slowly) {
    running_emulator plain(plain_options()), dripping(plain_options());
    script(dripping, R"([{"kind":"drip","bytes":64,"delay_ms":5}])");
    auto normal = emu_test::exchange(plain.target(), "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"hi"})");
    auto slow = emu_test::exchange(dripping.target(), "POST", "/api/v1/chatbots/a/chat", bearer, R"({"message":"hi"})");
    BOOST_TEST(slow.body == normal.body);
    auto pieces = slow.raw.size() / 64;
    BOOST_TEST(slow.elapsed.count() >= static_cast<long>(pieces * 5));
}

BOOST_AUTO_TEST_CASE(malformed_and_oversized_events) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"kind":"malformed_event","events":1,"times":1}])");
    auto m = stream_chat(t);
    auto events = emu_test::sse_payloads(m.body);
    boost::system::error_code ec;
    json::parse(events[1], ec);
    BOOST_TEST(ec.failed());
    BOOST_TEST(m.complete);

    script(e, R"([{"kind":"oversized_event","oversized_event":200000,"events":1,"times":1}])");
    auto o = stream_chat(t);
    auto big = emu_test::sse_payloads(o.body);
    BOOST_TEST(big[1].size() + 8 == 200000u);
    BOOST_TEST(o.complete);
}

BOOST_AUTO_TEST_CASE(in_stream_errors_per_api) {
    running_emulator e(plain_options());
    auto t = e.target();
    script(e, R"([{"kind":"in_stream_error","events":2,"message":"model overloaded"}])");
    auto p = stream_chat(t);
    auto pe = emu_test::sse_payloads(p.body);
    BOOST_TEST_REQUIRE(pe.size() == 3u);
    BOOST_TEST(json::parse(pe[2]).as_object().at("type").as_string() == "error");
    BOOST_TEST(json::parse(pe[2]).as_object().at("error").as_string() == "model overloaded");

    auto id = json::parse(emu_test::exchange(t, "POST", "/v1/conversation/create", bearer, "{}").body).as_object().at("id").as_string();
    auto hdr = bearer;
    hdr.emplace_back("Accept", "application/jsonl");
    auto c = emu_test::exchange(t, "POST", "/v1/conversation/" + std::string(id) + "/complete", hdr, R"({"text":"x"})");
    auto lines = emu_test::json_lines(c.body);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    auto err = json::parse(lines[2]).as_object();
    BOOST_TEST(err.at("type").as_string() == "error");
    BOOST_TEST(err.at("data").as_object().at("message").as_string() == "model overloaded");
}

BOOST_AUTO_TEST_SUITE_END()
