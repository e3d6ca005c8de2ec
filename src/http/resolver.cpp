// c-ares on the caller's executor: see resolver.hpp.
#include "resolver.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ares.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace chatwire::http::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

// c-ares' statuses as the netdb codes Asio's resolver gives, so that callers
// (and the retry rules) see one set of codes whichever resolver answered.
error_code from_ares(int status) {
    switch (status) {
    case ARES_SUCCESS: return {};
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
    case ARES_EBADNAME: return asio::error::host_not_found;
    case ARES_ETIMEOUT:
    case ARES_ESERVFAIL:
    case ARES_ECONNREFUSED:
    case ARES_EREFUSED: return asio::error::host_not_found_try_again;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return asio::error::operation_aborted;
    case ARES_ENOMEM: return make_error_code(boost::system::errc::not_enough_memory);
    default: return asio::error::no_recovery;
    }
}

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

} // namespace

bool is_reserved_invalid_name(std::string_view host) noexcept {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    constexpr std::string_view tld = "invalid";
    if (host.size() < tld.size() || !iequals(host.substr(host.size() - tld.size()), tld)) return false;
    return host.size() == tld.size() || host[host.size() - tld.size() - 1] == '.';
}

/// One c-ares channel and its lookup. Every handler waiting on one of its
/// sockets or its timer holds a share, so the channel outlives them all.
struct lookup : std::enable_shared_from_this<lookup> {
    /// A socket of c-ares, watched (not owned: c-ares closes it).
    struct watch {
        explicit watch(const asio::any_io_executor& ex, int fd) : descriptor(ex, fd), fd(fd) {}
        asio::posix::stream_descriptor descriptor;
        int fd;
        bool want_read = false, want_write = false;
        bool reading = false, writing = false;
        bool live = true;
    };

    explicit lookup(asio::any_io_executor ex) : executor(ex), retransmit(ex), answered(ex) {
        answered.expires_at(asio::steady_timer::time_point::max());
    }
    ~lookup() { stop(); }

    asio::any_io_executor executor;
    ares_channel channel = nullptr;
    std::unordered_map<int, std::shared_ptr<watch>> watches;
    asio::steady_timer retransmit;  // c-ares' own timeouts
    asio::steady_timer answered;    // never expires: cancelled when the answer is in
    bool finished = false;
    error_code result;
    std::vector<tcp::endpoint> endpoints;
    std::uint16_t port = 0;

    error_code start(const std::string& host, const std::vector<std::string>& name_servers) {
        init_library_once();
        ares_options opts{};
        opts.sock_state_cb = &lookup::on_socket_state;
        opts.sock_state_cb_data = this;
        if (int rc = ares_init_options(&channel, &opts, ARES_OPT_SOCK_STATE_CB); rc != ARES_SUCCESS) {
            channel = nullptr;
            return from_ares(rc);
        }
        if (!name_servers.empty()) {
            std::string csv;
            for (const auto& ns : name_servers) csv.append(csv.empty() ? "" : ",").append(ns);
            if (ares_set_servers_ports_csv(channel, csv.c_str()) != ARES_SUCCESS) return errc::invalid_argument;
        }
        ares_addrinfo_hints hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        // The answer may come at once (from /etc/hosts): on_answer runs inside.
        ares_getaddrinfo(channel, host.c_str(), nullptr, &hints, &lookup::on_answer, this);
        schedule_retransmit();
        return {};
    }

    /// Closes the channel: an unfinished lookup ends with ARES_EDESTRUCTION.
    void stop() noexcept {
        if (!channel) return;
        auto* ch = channel;
        channel = nullptr;
        ares_destroy(ch);  // calls on_socket_state(fd, 0, 0) for each of its sockets
        for (auto& [fd, w] : watches) forget(*w);
        watches.clear();
        error_code ignored;
        retransmit.cancel(ignored);
    }

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<lookup*>(data);
        auto it = self->watches.find(fd);
        if (!readable && !writable) {
            // c-ares closes the socket right after: stop watching it first.
            if (it == self->watches.end()) return;
            forget(*it->second);
            self->watches.erase(it);
            return;
        }
        if (it == self->watches.end()) it = self->watches.emplace(fd, std::make_shared<watch>(self->executor, fd)).first;
        it->second->want_read = readable != 0;
        it->second->want_write = writable != 0;
        self->arm(it->second);
    }

    static void forget(watch& w) noexcept {
        w.live = false;
        error_code ignored;
        w.descriptor.cancel(ignored);
        (void)w.descriptor.release();  // the fd is c-ares' to close
    }

    void arm(const std::shared_ptr<watch>& w) {
        if (w->want_read && !w->reading) {
            w->reading = true;
            w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                     [self = shared_from_this(), w](error_code ec) {
                                         w->reading = false;
                                         if (ec || !w->live || !self->channel) return;
                                         ares_process_fd(self->channel, w->fd, ARES_SOCKET_BAD);
                                         self->after_progress(w);
                                     });
        }
        if (w->want_write && !w->writing) {
            w->writing = true;
            w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                     [self = shared_from_this(), w](error_code ec) {
                                         w->writing = false;
                                         if (ec || !w->live || !self->channel) return;
                                         ares_process_fd(self->channel, ARES_SOCKET_BAD, w->fd);
                                         self->after_progress(w);
                                     });
        }
    }

    // After c-ares ran: watch the socket again if it still wants to be, and
    // move the retransmission timer to c-ares' next timeout.
    void after_progress(const std::shared_ptr<watch>& w) {
        if (!channel) return;
        if (w->live) arm(w);
        schedule_retransmit();
    }

    void schedule_retransmit() {
        if (!channel) return;
        timeval buffer{};
        timeval* next = ares_timeout(channel, nullptr, &buffer);
        if (!next) {
            error_code ignored;
            retransmit.cancel(ignored);
            return;
        }
        retransmit.expires_after(std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec));
        retransmit.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || !self->channel) return;
            ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            self->schedule_retransmit();
        });
    }

    static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* info) {
        auto* self = static_cast<lookup*>(arg);
        self->finished = true;
        self->result = from_ares(status);
        if (!self->result && info) {
            for (auto* node = info->nodes; node; node = node->ai_next) {
                if (node->ai_family == AF_INET && node->ai_addrlen >= sizeof(sockaddr_in)) {
                    sockaddr_in sa;
                    std::memcpy(&sa, node->ai_addr, sizeof sa);
                    asio::ip::address_v4::bytes_type bytes;
                    std::memcpy(bytes.data(), &sa.sin_addr, bytes.size());
                    self->endpoints.emplace_back(asio::ip::address_v4(bytes), self->port);
                } else if (node->ai_family == AF_INET6 && node->ai_addrlen >= sizeof(sockaddr_in6)) {
                    sockaddr_in6 sa;
                    std::memcpy(&sa, node->ai_addr, sizeof sa);
                    asio::ip::address_v6::bytes_type bytes;
                    std::memcpy(bytes.data(), &sa.sin6_addr, bytes.size());
                    self->endpoints.emplace_back(asio::ip::address_v6(bytes, sa.sin6_scope_id), self->port);
                }
            }
            if (self->endpoints.empty()) self->result = asio::error::host_not_found;
        }
        if (info) ares_freeaddrinfo(info);
        error_code ignored;
        self->answered.cancel(ignored);
    }
};

resolver::resolver(asio::any_io_executor ex, const client_options& options)
    : executor_(std::move(ex)), options_(options) {}

resolver::~resolver() { cancel(); }

void resolver::cancel() {
    if (!current_) return;
    auto l = std::move(current_);
    if (!l->finished) {
        l->finished = true;
        l->result = asio::error::operation_aborted;
    }
    l->stop();
    error_code ignored;
    l->answered.cancel(ignored);
}

asio::awaitable<std::tuple<error_code, resolve_results>> resolver::resolve(std::string host, std::uint16_t port) {
    const std::string service = std::to_string(port);
    auto results_of = [&](const std::vector<tcp::endpoint>& eps) {
        return resolve_results::create(eps.begin(), eps.end(), host, service);
    };

    error_code ec;
    if (auto literal = asio::ip::make_address(host, ec); !ec) {
        std::vector<tcp::endpoint> one{tcp::endpoint(literal, port)};
        co_return std::tuple{error_code{}, results_of(one)};
    }
    for (const auto& pinned : options_.resolve) {
        if (!iequals(pinned.host, host)) continue;
        std::vector<tcp::endpoint> eps;
        for (const auto& a : pinned.addresses) {
            auto address = asio::ip::make_address(a, ec);
            if (ec) co_return std::tuple{make_error_code(errc::invalid_argument), resolve_results{}};
            eps.emplace_back(address, port);
        }
        if (eps.empty()) co_return std::tuple{error_code(asio::error::host_not_found), resolve_results{}};
        co_return std::tuple{error_code{}, results_of(eps)};
    }
    if (is_reserved_invalid_name(host)) co_return std::tuple{error_code(asio::error::host_not_found), resolve_results{}};

    cancel();  // one lookup at a time
    auto l = std::make_shared<lookup>(executor_);
    l->port = port;
    current_ = l;
    if (auto start_ec = l->start(host, options_.name_servers)) {
        current_.reset();
        co_return std::tuple{start_ec, resolve_results{}};
    }
    if (!l->finished) {
        // Ends when on_answer or cancel() cancels the timer, or when the
        // calling coroutine is cancelled.
        co_await l->answered.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (current_ == l) current_.reset();
    if (!l->finished) {
        l->finished = true;
        l->result = asio::error::operation_aborted;
    }
    l->stop();
    if (l->result) co_return std::tuple{l->result, resolve_results{}};
    co_return std::tuple{error_code{}, results_of(l->endpoints)};
}

} // namespace chatwire::http::detail
