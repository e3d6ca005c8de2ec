// The cost of one keep-alive request, one client per process run, against a
// server started by scripts/bench_request.sh (nginx with canned replies shaped
// like VectorShift's legacy run reply). Every client keeps `--conc`
// connections busy from one thread (an io_context run on this thread, or
// libcurl's multi loop), first for a warm-up that opens the connections, then
// for the timed window. Prints one line:
//
//   RESULT client=… transport=plain|tls|h2 requests=N errors=E seconds=S
//          user_s=U sys_s=Y server_cpu_s=C connections=K resumed=R
//
// user_s/sys_s: getrusage(RUSAGE_SELF) over the window; server_cpu_s: the
// server process's utime+stime from /proc/<pid>/stat over the same window.
// Under callgrind the counters are dumped at the start and at the end of the
// window, so the middle dump ("window") profiles the window alone.
//
//   bench_request --client beast_bare|chatwire_transport|chatwire|chatwire_handler|libcurl
//                 --url http(s)://127.0.0.1:PORT [--ca PEMFILE]
//                 [--requests N] [--warmup N] [--conc N] [--max-seconds S]
//                 [--server-pid PID] [--reconnect] [--http2]
//
// --http2 (https only; not beast_bare): HTTP/2 by ALPN, the --conc requests
// in flight as streams multiplexed on one connection (transport=h2).
//
// chatwire_handler: the chatwire client with every call completing a plain
// handler (the path of callbacks, futures and deferred) instead of being
// awaited inside the calling coroutine (use_awaitable's path, `chatwire`).
//
// --reconnect (chatwire_transport): after each request the pool's idle
// connections are closed (`close_idle`), so every request connects again
// after a kept-alive connection ended: the TLS handshake figures (use --conc 1).
#include <chatwire/http/client.hpp>
#include <chatwire/vectorshift.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#if CHATWIRE_BENCH_HAVE_CURL
#include <curl/curl.h>
#endif
#if CHATWIRE_BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr const char* run_path = "/api/chatbots/run";
constexpr const char* chatbot_id = "bench";
constexpr const char* api_key = "bench-key";
constexpr const char* message_text = "Where is my order? It was due on Tuesday.";

struct settings {
    std::string client;
    std::string url;   // base, e.g. https://127.0.0.1:8443
    std::string ca_file;
    std::size_t requests = 5000;
    std::size_t warmup = 200;
    std::size_t conc = 10;
    double max_seconds = 10;
    long server_pid = 0;
    bool reconnect = false;  // chatwire_transport: close the idle connection after each request
    bool http2 = false;      // HTTP/2 only, streams multiplexed on one connection
};

settings parse_args(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--list") {
            std::puts("beast_bare chatwire_transport chatwire chatwire_handler"
#if CHATWIRE_BENCH_HAVE_CURL
                      " libcurl"
#endif
            );
            std::exit(0);
        }
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--client") s.client = value();
        else if (a == "--url") s.url = value();
        else if (a == "--ca") s.ca_file = value();
        else if (a == "--requests") s.requests = std::stoul(value());
        else if (a == "--warmup") s.warmup = std::stoul(value());
        else if (a == "--conc") s.conc = std::max<std::size_t>(1, std::stoul(value()));
        else if (a == "--max-seconds") s.max_seconds = std::stod(value());
        else if (a == "--server-pid") s.server_pid = std::stol(value());
        else if (a == "--reconnect") s.reconnect = true;
        else if (a == "--http2") s.http2 = true;
        else throw std::invalid_argument("unknown argument " + a);
    }
    if (s.client.empty() || s.url.empty()) throw std::invalid_argument("--client and --url are required");
    return s;
}

// ---------------------------------------------------------------- the target

struct target {
    bool tls = false;
    std::string host;  // 127.0.0.1
    std::string port;
    std::string host_header;  // host:port
    std::string url;          // base + run_path
};

target parse_target(const std::string& base) {
    target t;
    std::string rest;
    if (base.rfind("https://", 0) == 0) {
        t.tls = true;
        rest = base.substr(8);
    } else if (base.rfind("http://", 0) == 0) {
        rest = base.substr(7);
    } else {
        throw std::invalid_argument("--url must start with http:// or https://");
    }
    if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("--url needs an explicit port");
    t.host = rest.substr(0, colon);
    t.port = rest.substr(colon + 1);
    t.host_header = rest;
    t.url = base + run_path;
    return t;
}

// The request body every client sends: what chatwire's legacy run sends.
const std::string& run_body() {
    static const std::string body =
        std::string(R"({"input":")") + message_text + R"(","chatbot_id":")" + chatbot_id + R"("})";
    return body;
}

// ---------------------------------------------------------------- budget

/// How many requests may still start in this phase, and until when.
struct budget {
    std::size_t remaining = 0;
    clock_type::time_point deadline;
    std::size_t done = 0;
    std::size_t errors = 0;
    bool take() {
        if (remaining == 0) return false;
        if ((remaining & 63) == 0 && clock_type::now() >= deadline) {
            remaining = 0;
            return false;
        }
        --remaining;
        return true;
    }
    void fail(const std::string& what) {
        if (++errors <= 3) std::cerr << "bench_request: " << what << "\n";
        remaining = 0;  // stop this phase: an error means the setting is broken
    }
};

/// A client: opens its connections, then runs phases of requests.
class driver {
public:
    virtual ~driver() = default;
    virtual void phase(budget& b) = 0;
    virtual std::size_t connections() const = 0;
    /// TLS handshakes that resumed a session (chatwire's pool counts them).
    virtual std::size_t resumed() const { return 0; }
};

// ---------------------------------------------------------------- beast_bare

template <class Stream>
asio::awaitable<void> beast_loop(Stream& stream, beast::flat_buffer& buffer, const target& t, budget& b) {
    while (b.take()) {
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, run_path, 11};
        req.set(bhttp::field::host, t.host_header);
        req.set(bhttp::field::user_agent, "beast_bare");
        req.set(bhttp::field::content_type, "application/json");
        req.set("Api-Key", api_key);
        req.body() = run_body();
        req.prepare_payload();
        auto [wec, wn] = co_await bhttp::async_write(stream, req, tuple_awaitable);
        if (wec) {
            b.fail("beast_bare write: " + wec.message());
            co_return;
        }
        bhttp::response<bhttp::string_body> res;
        auto [rec, rn] = co_await bhttp::async_read(stream, buffer, res, tuple_awaitable);
        if (rec || res.result_int() != 200 || res.body().empty() || !res.keep_alive()) {
            b.fail("beast_bare read: " + (rec ? rec.message() : "status " + std::to_string(res.result_int())));
            co_return;
        }
        ++b.done;
    }
}

class beast_driver final : public driver {
public:
    beast_driver(asio::io_context& io, const settings& s, target t) : io_(io), t_(std::move(t)) {
        if (t_.tls) {
            ssl_.emplace(asio::ssl::context::tls_client);
            ssl_->set_verify_mode(asio::ssl::verify_peer);
            ssl_->load_verify_file(s.ca_file);
        }
        asio::ip::tcp::resolver resolver(io_);
        auto endpoints = resolver.resolve(t_.host, t_.port);
        for (std::size_t i = 0; i < s.conc; ++i) {
            auto c = std::make_unique<conn>();
            if (t_.tls) {
                c->tls.emplace(io_, *ssl_);
                SSL* ssl = c->tls->native_handle();
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t_.host.c_str());
            } else {
                c->plain.emplace(io_);
            }
            asio::co_spawn(io_, open(*c, endpoints), asio::detached);
            conns_.push_back(std::move(c));
        }
        io_.run();
        io_.restart();
        for (auto& c : conns_)
            if (!c->ok) throw std::runtime_error("beast_bare: could not connect");
    }

    void phase(budget& b) override {
        for (auto& c : conns_) {
            if (c->tls) asio::co_spawn(io_, beast_loop(*c->tls, c->buffer, t_, b), asio::detached);
            else asio::co_spawn(io_, beast_loop(*c->plain, c->buffer, t_, b), asio::detached);
        }
        io_.run();
        io_.restart();
    }

    std::size_t connections() const override { return conns_.size(); }

private:
    struct conn {
        std::optional<beast::tcp_stream> plain;
        std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
        beast::flat_buffer buffer;
        bool ok = false;
    };

    asio::awaitable<void> open(conn& c, asio::ip::tcp::resolver::results_type endpoints) {
        auto& layer = c.tls ? beast::get_lowest_layer(*c.tls) : *c.plain;
        auto [ec, ep] = co_await layer.async_connect(endpoints, tuple_awaitable);
        if (ec) co_return;
        layer.socket().set_option(asio::ip::tcp::no_delay(true));
        if (c.tls) {
            auto [hec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
            if (hec) {
                std::cerr << "beast_bare handshake: " << hec.message() << "\n";
                co_return;
            }
        }
        c.ok = true;
    }

    asio::io_context& io_;
    target t_;
    std::optional<asio::ssl::context> ssl_;
    std::vector<std::unique_ptr<conn>> conns_;
};

// ---------------------------------------------------------------- chatwire

chatwire::http::client_options chatwire_http_options(const settings& s) {
    chatwire::http::client_options o;
    o.tls.extra_ca_file = s.ca_file;
    o.tls.use_system_ca = false;  // start-up only; the request path is the same
    o.max_connections_per_origin = s.conc;
    if (s.http2) o.protocol = chatwire::http::protocol::http2;  // the --conc streams share one connection
    return o;
}

class transport_driver final : public driver {
public:
    transport_driver(asio::io_context& io, const settings& s, target t)
        : io_(io), s_(s), t_(std::move(t)), client_(io.get_executor(), chatwire_http_options(s)) {}

    void phase(budget& b) override {
        for (std::size_t i = 0; i < s_.conc; ++i) asio::co_spawn(io_, loop(b), asio::detached);
        io_.run();
        io_.restart();
    }

    std::size_t connections() const override { return client_.stats().connections_opened; }
    std::size_t resumed() const override { return client_.stats().tls_sessions_resumed; }

private:
    asio::awaitable<void> loop(budget& b) {
        chatwire::diagnostics diag;
        while (b.take()) {
            chatwire::http::request req{chatwire::http::verb::post, t_.url, {}, run_body()};
            req.headers.set(chatwire::http::field::content_type, "application/json");
            req.headers.set("Api-Key", api_key);
            auto [ec, res] = co_await client_.async_request(std::move(req), diag, tuple_awaitable);
            if (ec || res.status != 200 || res.body.empty()) {
                b.fail("chatwire_transport: " + (ec ? ec.message() : "status " + std::to_string(res.status)) +
                       " " + diag.to_string());
                co_return;
            }
            ++b.done;
            if (s_.reconnect) client_.close_idle();
        }
    }

    asio::io_context& io_;
    const settings& s_;
    target t_;
    chatwire::http::client client_;
};

class vectorshift_driver final : public driver {
public:
    vectorshift_driver(asio::io_context& io, const settings& s, const target& t, bool handler_path)
        : io_(io), s_(s), handler_path_(handler_path), client_(io.get_executor(), options(s, t)) {}

    void phase(budget& b) override {
        for (std::size_t i = 0; i < s_.conc; ++i) asio::co_spawn(io_, loop(b), asio::detached);
        io_.run();
        io_.restart();
    }

    std::size_t connections() const override { return client_.transport().stats().connections_opened; }
    std::size_t resumed() const override { return client_.transport().stats().tls_sessions_resumed; }

private:
    static chatwire::vectorshift::options options(const settings& s, const target&) {
        chatwire::vectorshift::options o;
        o.base_url = s.url;
        o.api_key = api_key;
        o.http = chatwire_http_options(s);
        return o;
    }

    asio::awaitable<void> loop(budget& b) {
        chatwire::diagnostics diag;
        while (b.take()) {
            chatwire::vectorshift::run_request req;
            req.input = message_text;
            req.chatbot_id = chatbot_id;
            // One co_await a statement: GCC 12 destroys a result awaited in a
            // conditional expression twice.
            std::tuple<chatwire::error_code, chatwire::vectorshift::run_reply> r;
            if (handler_path_) r = co_await through_handler(std::move(req), diag);
            else r = co_await client_.async_run(std::move(req), diag, tuple_awaitable);
            auto& [ec, reply] = r;
            if (ec || reply.output.empty()) {
                b.fail("chatwire: " + (ec ? ec.message() : "empty output") + " " + diag.to_string());
                co_return;
            }
            ++b.done;
        }
    }

    // The call completes a plain handler: the one that resumes this coroutine.
    asio::awaitable<std::tuple<chatwire::error_code, chatwire::vectorshift::run_reply>>
    through_handler(chatwire::vectorshift::run_request req, chatwire::diagnostics& diag) {
        return asio::async_initiate<decltype(tuple_awaitable),
                                    void(chatwire::error_code, chatwire::vectorshift::run_reply)>(
            [this, &diag](auto handler, chatwire::vectorshift::run_request r) {
                client_.async_run(std::move(r), diag, std::move(handler));
            },
            tuple_awaitable, std::move(req));
    }

    asio::io_context& io_;
    const settings& s_;
    const bool handler_path_;
    mutable chatwire::vectorshift::client client_;
};

// ---------------------------------------------------------------- libcurl

#if CHATWIRE_BENCH_HAVE_CURL
size_t curl_write(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

class curl_driver final : public driver {
public:
    curl_driver(const settings& s, target t) : t_(std::move(t)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        headers_ = curl_slist_append(headers_, "Content-Type: application/json");
        headers_ = curl_slist_append(headers_, (std::string("Api-Key: ") + api_key).c_str());
        headers_ = curl_slist_append(headers_, "Expect:");
        multi_ = curl_multi_init();
        curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(s.conc));
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(s.conc));
        curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(s.http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING));
        xfers_.resize(s.conc);
        for (auto& x : xfers_) {
            x.h = curl_easy_init();
            CURL* h = x.h;
            curl_easy_setopt(h, CURLOPT_URL, t_.url.c_str());
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, run_body().c_str());
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(run_body().size()));
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_);
            curl_easy_setopt(h, CURLOPT_USERAGENT, "libcurl");
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_write);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &x.body);
            curl_easy_setopt(h, CURLOPT_PRIVATE, &x);
            curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
            if (s.http2) {
                // HTTP/2 over TLS only, and a transfer waits to share the
                // connection rather than open one of its own.
                curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
                curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
            } else {
                curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
            }
            if (t_.tls) {
                curl_easy_setopt(h, CURLOPT_CAINFO, s.ca_file.c_str());
                curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
            }
        }
    }
    ~curl_driver() override {
        for (auto& x : xfers_) {
            if (x.active) curl_multi_remove_handle(multi_, x.h);
            curl_easy_cleanup(x.h);
        }
        curl_multi_cleanup(multi_);
        curl_slist_free_all(headers_);
    }

    void phase(budget& b) override {
        std::size_t active = 0;
        auto start = [&](xfer& x) {
            x.body.clear();
            curl_multi_add_handle(multi_, x.h);
            x.active = true;
            ++active;
        };
        for (auto& x : xfers_)
            if (b.take()) start(x);
        while (active > 0) {
            int running = 0;
            curl_multi_perform(multi_, &running);
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
                if (msg->msg != CURLMSG_DONE) continue;
                xfer* x = nullptr;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
                const CURLcode rc = msg->data.result;
                long status = 0;
                curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
                long connects = 0;
                curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &connects);
                connections_ += static_cast<std::size_t>(connects);
                curl_multi_remove_handle(multi_, x->h);
                x->active = false;
                --active;
                if (rc != CURLE_OK || status != 200 || x->body.empty()) {
                    b.fail(std::string("libcurl: ") + curl_easy_strerror(rc) + " status " + std::to_string(status));
                } else {
                    ++b.done;
                }
                if (b.take()) start(*x);
            }
            if (active > 0 && running > 0) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
        }
    }

    std::size_t connections() const override { return connections_; }

private:
    struct xfer {
        CURL* h = nullptr;
        std::string body;
        bool active = false;
    };
    target t_;
    curl_slist* headers_ = nullptr;
    CURLM* multi_ = nullptr;
    std::vector<xfer> xfers_;
    std::size_t connections_ = 0;
};
#endif

// ---------------------------------------------------------------- measuring

struct cpu_times {
    double user = 0, sys = 0;
};

cpu_times self_cpu() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
    return {sec(ru.ru_utime), sec(ru.ru_stime)};
}

/// utime + stime of a process in seconds, from /proc/<pid>/stat; -1 when unknown.
double process_cpu(long pid) {
    if (pid <= 0) return -1;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    double utime = 0, stime = 0;
    // Fields after the command: state is field 3; utime and stime are 14 and 15.
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stod(f);
        if (i == 15) stime = std::stod(f);
    }
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void callgrind_mark(const char* what) {
#if CHATWIRE_BENCH_HAVE_CALLGRIND
    CALLGRIND_DUMP_STATS_AT(what);
#else
    (void)what;
#endif
}

budget make_budget(std::size_t n, double seconds) {
    budget b;
    b.remaining = n;
    b.deadline = clock_type::now() + std::chrono::microseconds(static_cast<long long>(seconds * 1e6));
    return b;
}

} // namespace

int main(int argc, char** argv) try {
    const settings s = parse_args(argc, argv);
    const target t = parse_target(s.url);
    if (t.tls && s.ca_file.empty()) throw std::invalid_argument("an https URL needs --ca");
    if (s.http2 && (!t.tls || s.client == "beast_bare"))
        throw std::invalid_argument("--http2 needs an https URL and a client that speaks it (not beast_bare)");

    asio::io_context io(1);
    std::unique_ptr<driver> d;
    if (s.client == "beast_bare") d = std::make_unique<beast_driver>(io, s, t);
    else if (s.client == "chatwire_transport") d = std::make_unique<transport_driver>(io, s, t);
    else if (s.client == "chatwire") d = std::make_unique<vectorshift_driver>(io, s, t, false);
    else if (s.client == "chatwire_handler") d = std::make_unique<vectorshift_driver>(io, s, t, true);
#if CHATWIRE_BENCH_HAVE_CURL
    else if (s.client == "libcurl") d = std::make_unique<curl_driver>(s, t);
#endif
    else throw std::invalid_argument("unknown or unavailable client " + s.client);

    budget warm = make_budget(s.warmup, s.max_seconds);
    d->phase(warm);
    if (warm.errors) return 1;

    callgrind_mark("setup");
    budget run = make_budget(s.requests, s.max_seconds);
    const double server0 = process_cpu(s.server_pid);
    const cpu_times c0 = self_cpu();
    const auto t0 = clock_type::now();
    d->phase(run);
    const auto t1 = clock_type::now();
    const cpu_times c1 = self_cpu();
    const double server1 = process_cpu(s.server_pid);
    callgrind_mark("window");

    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    std::printf("RESULT client=%s transport=%s requests=%zu errors=%zu seconds=%.6f user_s=%.6f sys_s=%.6f "
                "server_cpu_s=%.4f connections=%zu resumed=%zu\n",
                s.client.c_str(), s.http2 ? "h2" : t.tls ? "tls" : "plain", run.done, run.errors, seconds, c1.user - c0.user,
                c1.sys - c0.sys, server0 >= 0 && server1 >= 0 ? server1 - server0 : -1.0, d->connections(), d->resumed());
    return run.errors ? 1 : 0;
} catch (const std::exception& e) {
    std::cerr << "bench_request: " << e.what() << "\n";
    return 2;
}
