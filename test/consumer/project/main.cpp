#include <chatwire/chatwire.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main() {
    // Touch compiled symbols of several components so the archive really links.
    auto ec = chatwire::make_error_code(chatwire::errc::rate_limited);
    if (ec.category().name() != std::string_view("chatwire")) return 1;
    if (ec != chatwire::condition::retryable) return 1;
    boost::asio::io_context io;
    chatwire::chat_client client(io.get_executor(), {.api = chatwire::api_kind::pollybot,
                                                     .base_url = "https://127.0.0.1:1",
                                                     .api_key = "k",
                                                     .chatbot_id = "b",
                                                     .http = {}});
    if (client.api() != chatwire::api_kind::pollybot) return 1;
    std::cout << "chatwire " << chatwire::version() << "\n";
}
