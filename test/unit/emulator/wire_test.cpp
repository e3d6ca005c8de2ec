#include <chatwire/emulator/plan.hpp>

#include <boost/test/unit_test.hpp>

namespace emu = chatwire::emulator;

namespace {
std::string joined(const emu::wire_plan& w) {
    std::string s;
    for (const auto& seg : w.segments) s += seg.bytes;
    return s;
}
emu::response_plan stream_of(std::vector<std::string> events) {
    emu::response_plan p;
    p.streaming = true;
    p.content_type = "text/event-stream";
    p.events = std::move(events);
    return p;
}
} // namespace

BOOST_AUTO_TEST_SUITE(emulator_wire)

BOOST_AUTO_TEST_CASE(json_body_with_content_length) {
    emu::response_plan p;
    p.status = 404;
    p.body = R"({"x":1})";
    p.headers.emplace_back("X-RateLimit-Used", "1");
    emu::request req;
    auto w = emu::to_wire(std::move(p), "Not Found", req);
    BOOST_TEST((w.end == emu::ending::keep_alive));
    auto s = joined(w);
    BOOST_TEST(s.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0u);
    BOOST_TEST(s.find("Content-Length: 7\r\n") != std::string::npos);
    BOOST_TEST(s.find("X-RateLimit-Used: 1\r\n") != std::string::npos);
    BOOST_TEST(s.substr(s.size() - 11) == "\r\n\r\n{\"x\":1}");
}

BOOST_AUTO_TEST_CASE(stream_is_chunked_and_paced) {
    auto p = stream_of({"data: a\n\n", "data: bb\n\n"});
    p.event_delay = std::chrono::milliseconds(5);
    emu::request req;
    auto w = emu::to_wire(std::move(p), "OK", req);
    BOOST_TEST_REQUIRE(w.segments.size() == 4u);
    BOOST_TEST(w.segments[0].bytes.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
    BOOST_TEST(w.segments[1].bytes == "9\r\ndata: a\n\n\r\n");
    BOOST_TEST(w.segments[1].delay.count() == 0);
    BOOST_TEST(w.segments[2].bytes == "a\r\ndata: bb\n\n\r\n");
    BOOST_TEST(w.segments[2].delay.count() == 5);
    BOOST_TEST(w.segments[3].bytes == "0\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(http10_stream_is_raw_and_closes) {
    auto p = stream_of({"x\n", "y\n"});
    emu::request req;
    req.version = 10;
    req.keep_alive = false;
    auto w = emu::to_wire(std::move(p), "OK", req);
    BOOST_TEST((w.end == emu::ending::close));
    auto s = joined(w);
    BOOST_TEST(s.find("chunked") == std::string::npos);
    BOOST_TEST(s.substr(s.size() - 4) == "x\ny\n");
}

BOOST_AUTO_TEST_CASE(resets_stalls_and_drips) {
    emu::request req;
    {
        auto p = stream_of({"a", "b", "c"});
        p.reset_before_response = true;
        auto w = emu::to_wire(std::move(p), "OK", req);
        BOOST_TEST(w.segments.empty());
        BOOST_TEST((w.end == emu::ending::reset));
    }
    {
        auto p = stream_of({"a", "b", "c"});
        p.reset_after_events = 2;
        auto w = emu::to_wire(std::move(p), "OK", req);
        BOOST_TEST(w.segments.size() == 3u);  // head + two events, no terminator
        BOOST_TEST((w.end == emu::ending::reset));
    }
    {
        auto p = stream_of({"a", "b"});
        p.stall_before = std::chrono::milliseconds(40);
        p.stall_after_events = 1;
        p.stall_mid = std::chrono::milliseconds(9);
        auto w = emu::to_wire(std::move(p), "OK", req);
        BOOST_TEST(w.segments[0].delay.count() == 40);
        BOOST_TEST(w.segments[2].delay.count() == 9);
    }
    {
        auto p = stream_of({"abcdef"});
        p.drip_bytes = 4;
        p.drip_delay = std::chrono::milliseconds(2);
        emu::response_plan copy = p;
        copy.drip_bytes = 0;
        auto whole = joined(emu::to_wire(std::move(copy), "OK", req));
        auto w = emu::to_wire(std::move(p), "OK", req);
        BOOST_TEST(joined(w) == whole);  // segments stay whole: drips are cut while writing
        std::string written;
        std::size_t i = 0;
        emu::write_steps steps(w);
        for (auto s = steps.next(); s; s = steps.next(), ++i) {
            BOOST_TEST(s->bytes.size() <= 4u);
            if (i > 0) BOOST_TEST(s->delay.count() >= 2);
            written += s->bytes;
        }
        BOOST_TEST(written == whole);
        BOOST_TEST(i > whole.size() / 4);
    }
}

BOOST_AUTO_TEST_SUITE_END()
