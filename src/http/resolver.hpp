#pragma once
// Host names to addresses without a thread: c-ares, driven by the caller's
// executor. Its sockets are watched with async_wait and its retransmission
// timeouts run on a steady_timer, so a lookup costs no thread and ends
// promptly when cancelled (Asio's resolver runs getaddrinfo on a private
// thread and cannot abandon one lookup).
#include <chatwire/error.hpp>
#include <chatwire/http/options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>

namespace chatwire::http::detail {

using resolve_results = boost::asio::ip::tcp::resolver::results_type;

struct lookup;

/// One lookup at a time. In order: an IP literal is its own answer; a name
/// in client_options::resolve takes its given addresses; a name under
/// `.invalid` (RFC 6761) is not found at once; anything else goes to c-ares,
/// which reads /etc/hosts and then asks the name servers of /etc/resolv.conf
/// (or client_options::name_servers).
/// Errors: asio::error::host_not_found (no such name),
/// host_not_found_try_again (no name server answered: retryable),
/// operation_aborted (cancelled), errc::invalid_argument (an unusable
/// address in client_options::resolve).
class resolver {
public:
    resolver(boost::asio::any_io_executor ex, const client_options& options);
    ~resolver();
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    /// Resolves `host`; the endpoints carry `port`. Ends early, with
    /// operation_aborted, on cancel() or a cancellation of the calling
    /// coroutine (terminal, partial or total).
    boost::asio::awaitable<std::tuple<error_code, resolve_results>> resolve(std::string host, std::uint16_t port);

    /// Abandons the lookup in progress, if any: its sockets are closed now.
    void cancel();

private:
    boost::asio::any_io_executor executor_;
    const client_options& options_;
    std::shared_ptr<lookup> current_;
};

/// Whether `host` is a name that never resolves (under `.invalid`, RFC 6761 §6.4).
bool is_reserved_invalid_name(std::string_view host) noexcept;

} // namespace chatwire::http::detail
