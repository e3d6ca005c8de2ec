#pragma once
// A plain-HTTP list server on 127.0.0.1 whose answers a test scripts: each
// request's target in, a content type and a body out (200, keep-alive). For
// lists the emulator cannot be: cursors that come back, lists that never
// end, pages of a chosen size. It counts the requests it read.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace chatwire::testing {

class list_server {
public:
    struct reply {
        std::string content_type = "application/json";
        std::shared_ptr<const std::string> body;  // shared: a large page is not copied per request
    };
    using answer_fn = std::function<reply(std::string_view target)>;

    list_server(boost::asio::io_context& io, answer_fn answer)
        : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), 0}), answer_(std::move(answer)) {
        boost::asio::co_spawn(io, accept_loop(), boost::asio::detached);
    }

    /// "http://127.0.0.1:<port>"
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
    int requests() const { return requests_; }

    /// The query parameter `name` of a target ("" when absent).
    static std::string param(std::string_view target, std::string_view name) {
        const auto q = target.find('?');
        if (q == std::string_view::npos) return {};
        std::string_view rest = target.substr(q + 1);
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            const auto pair = rest.substr(0, amp);
            if (pair.substr(0, pair.find('=')) == name && pair.find('=') != std::string_view::npos)
                return std::string(pair.substr(pair.find('=') + 1));
            if (amp == std::string_view::npos) break;
            rest.remove_prefix(amp + 1);
        }
        return {};
    }

private:
    static constexpr auto tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);

    boost::asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(tuple_awaitable);
            if (ec) co_return;
            boost::asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) {
        std::string in;
        for (;;) {
            auto [ec, n] = co_await boost::asio::async_read_until(socket, boost::asio::dynamic_buffer(in), "\r\n\r\n",
                                                                  tuple_awaitable);
            if (ec) co_return;
            const std::string head = in.substr(0, n);
            in.erase(0, n);
            const auto first = head.find(' ');
            const auto second = head.find(' ', first + 1);
            ++requests_;
            const auto r = answer_(std::string_view(head).substr(first + 1, second - first - 1));
            const std::string top = "HTTP/1.1 200 OK\r\nContent-Type: " + r.content_type +
                                    "\r\nContent-Length: " + std::to_string(r.body->size()) + "\r\n\r\n";
            std::array<boost::asio::const_buffer, 2> out{boost::asio::buffer(top), boost::asio::buffer(*r.body)};
            auto [wec, written] = co_await boost::asio::async_write(socket, out, tuple_awaitable);
            if (wec) co_return;
        }
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    answer_fn answer_;
    int requests_ = 0;
};

} // namespace chatwire::testing
