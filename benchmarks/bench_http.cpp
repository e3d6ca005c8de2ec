// End-to-end benchmarks against a live emulator: chatwire's http::client and
// chat_client versus libcurl doing the same requests, in the same run, over
// plain HTTP and TLS on 127.0.0.1. Reports throughput, latency percentiles
// and client CPU per operation, and the ratio chatwire / libcurl. Nothing here
// asserts a speed; every phase is bounded in count and time.
//
//   bench_http [--plain-url URL] [--tls-url URL --ca PEMFILE] [--rounds N]
//              [--seconds S] [--requests N] [--streams N] [--conc LIST]
//              [--stream-conc N] [--only http|stream|whole] [--csv FILE] [--quick]
//
// Without URLs an in-process emulator (plain and TLS) runs on its own thread;
// with them, CHATWIRE_EMULATOR_ADMIN_TOKEN is their admin token (for resets).
// Sections: http (PollyBot JSON chat over http::client vs libcurl easy/multi),
// stream (PollyBot SSE and ChatBotKit JSON lines drained by chat_client vs
// libcurl reading raw bytes), whole (ChatBotKit JSON completions parsed by
// chat_client vs libcurl reading raw bytes).
#include <chatwire/chat_client.hpp>
#include <chatwire/emulator/server.hpp>
#include <chatwire/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr const char* chatbot_id = "bench";
constexpr const char* message_text = "Where is my order? It was due on Tuesday.";

// ---------------------------------------------------------------- settings

struct settings {
    std::string plain_url;
    std::string tls_url;
    std::string ca_pem;
    int rounds = 3;
    double seconds = 1.5;           // per round and implementation
    std::size_t requests = 20000;   // per round and implementation (cap)
    std::size_t streams = 400;      // per round and implementation (cap)
    std::vector<std::size_t> conc{1, 32};
    std::size_t stream_conc = 8;
    std::string only;
    std::string csv;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::size_t> parse_list(const std::string& s) {
    std::vector<std::size_t> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(std::stoul(item));
    return out;
}

settings parse_args(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--plain-url") s.plain_url = value();
        else if (a == "--tls-url") s.tls_url = value();
        else if (a == "--ca") s.ca_pem = read_file(value());
        else if (a == "--rounds") s.rounds = std::max(1, std::stoi(value()));
        else if (a == "--seconds") s.seconds = std::stod(value());
        else if (a == "--requests") s.requests = std::stoul(value());
        else if (a == "--streams") s.streams = std::stoul(value());
        else if (a == "--conc") s.conc = parse_list(value());
        else if (a == "--stream-conc") s.stream_conc = std::max<std::size_t>(1, std::stoul(value()));
        else if (a == "--only") s.only = value();
        else if (a == "--csv") s.csv = value();
        else if (a == "--quick") {
            s.rounds = 1;
            s.seconds = 0.5;
            s.requests = 2000;
            s.streams = 100;
        } else throw std::invalid_argument("unknown argument " + a);
    }
    if (!s.tls_url.empty() && s.ca_pem.empty()) throw std::invalid_argument("--tls-url needs --ca");
    return s;
}

struct target {
    std::string name;  // "plain" or "tls"
    std::string base_url;
    std::string ca_pem;
    std::string admin_token;  // for /_emulator/reset
};

// ---------------------------------------------------------------- results

struct round_result {
    std::size_t ops = 0;
    std::size_t errors = 0;
    double seconds = 0;
    double cpu_seconds = 0;
    std::uint64_t bytes = 0;
    std::uint64_t tokens = 0;
    std::vector<double> latency_us;
};

struct summary {
    std::string section, transport, impl;
    std::size_t conc = 0;
    std::size_t ops = 0, errors = 0;
    double ops_per_s = 0;  // median over rounds
    double p50_us = 0, p99_us = 0;
    double cpu_us_per_op = 0;
    double mb_per_s = 0;
    double tokens_per_s = 0;  // 0 when the implementation does not parse
    std::string round_rates;  // ops/s of each round, to show the spread
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

summary summarize(const std::string& section, const std::string& transport, const std::string& impl,
                  std::size_t conc, std::vector<round_result>& rounds) {
    summary s;
    s.section = section;
    s.transport = transport;
    s.impl = impl;
    s.conc = conc;
    std::vector<double> rates, mbs, toks, lat;
    double cpu = 0;
    for (auto& r : rounds) {
        s.ops += r.ops;
        s.errors += r.errors;
        cpu += r.cpu_seconds;
        double secs = r.seconds > 0 ? r.seconds : 1e-9;
        rates.push_back(static_cast<double>(r.ops) / secs);
        if (!s.round_rates.empty()) s.round_rates += '/';
        s.round_rates += std::to_string(static_cast<long>(rates.back()));
        mbs.push_back(static_cast<double>(r.bytes) / secs / 1e6);
        toks.push_back(static_cast<double>(r.tokens) / secs);
        lat.insert(lat.end(), r.latency_us.begin(), r.latency_us.end());
    }
    s.ops_per_s = median(rates);
    s.mb_per_s = median(mbs);
    s.tokens_per_s = median(toks);
    s.p50_us = percentile(lat, 0.50);
    s.p99_us = percentile(lat, 0.99);
    s.cpu_us_per_op = s.ops ? cpu * 1e6 / static_cast<double>(s.ops) : 0;
    return s;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double elapsed_us(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// A phase: how many operations may still start, and until when.
struct budget {
    std::size_t remaining = 0;
    clock_type::time_point deadline;
    bool take() {
        if (remaining == 0 || clock_type::now() >= deadline) return false;
        --remaining;
        return true;
    }
};

budget make_budget(std::size_t count, double seconds) {
    return budget{count, clock_type::now() + std::chrono::microseconds(static_cast<long long>(seconds * 1e6))};
}

// ---------------------------------------------------------------- request shapes

std::string pollybot_url(const std::string& base) { return base + "/api/v1/chatbots/" + chatbot_id + "/chat"; }

std::string pollybot_body(bool stream) {
    json::object o;
    o["message"] = message_text;
    if (stream) o["stream"] = true;
    return json::serialize(o);
}

std::string chatbotkit_complete_url(const std::string& base, const std::string& conversation) {
    return base + "/v1/conversation/" + conversation + "/complete";
}

std::string chatbotkit_body() {
    json::object o;
    o["text"] = message_text;
    return json::serialize(o);
}

chatwire::http::request make_chat_request(const std::string& url, const std::string& body) {
    chatwire::http::request r;
    r.method = chatwire::http::verb::post;
    r.url = url;
    r.headers.set(chatwire::http::field::content_type, "application/json");
    r.headers.set(chatwire::http::field::accept, "application/json");
    r.headers.set(chatwire::http::field::authorization, "Bearer x");
    r.body = body;
    return r;
}

chatwire::http::client_options http_options(const target& t, std::size_t conc) {
    chatwire::http::client_options o;
    o.tls.extra_ca_pem = t.ca_pem;
    o.max_connections_per_origin = std::max<std::size_t>(conc, 1);
    return o;
}

chatwire::chat_options chat_opts(const target& t, chatwire::api_kind which, std::size_t conc) {
    chatwire::chat_options o;
    o.api = which;
    o.base_url = which == chatwire::api_kind::chatbotkit ? t.base_url + "/v1" : t.base_url;
    o.api_key = "x";
    o.chatbot_id = which == chatwire::api_kind::pollybot ? chatbot_id : "";
    o.http = http_options(t, conc);
    return o;
}

// ---------------------------------------------------------------- libcurl helpers

struct curl_headers {
    curl_slist* list = nullptr;
    explicit curl_headers(const char* accept, const std::string& extra = {}) {
        if (!extra.empty()) list = curl_slist_append(list, extra.c_str());
        list = curl_slist_append(list, "Content-Type: application/json");
        list = curl_slist_append(list, "Authorization: Bearer x");
        list = curl_slist_append(list, "Expect:");
        list = curl_slist_append(list, (std::string("Accept: ") + accept).c_str());
    }
    ~curl_headers() { curl_slist_free_all(list); }
    curl_headers(const curl_headers&) = delete;
    curl_headers& operator=(const curl_headers&) = delete;
};

// The whole body into a string (non-streamed), or only its size (streamed).
struct curl_sink {
    std::string body;
    std::uint64_t bytes = 0;
    bool keep = true;
};

size_t curl_write(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<curl_sink*>(user);
    const size_t len = size * n;
    sink->bytes += len;
    if (sink->keep) sink->body.append(data, len);
    return len;
}

void curl_configure(CURL* h, const target& t, const std::string& url, const std::string& body,
                    const curl_headers& hdr, curl_sink& sink) {
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr.list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    if (!t.ca_pem.empty()) {
        curl_blob blob{const_cast<char*>(t.ca_pem.data()), t.ca_pem.size(), CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    }
}

/// A blocking POST with libcurl; returns the status and fills `out`.
long curl_post(const target& t, const std::string& url, const std::string& body, std::string& out,
               const std::string& extra_header = {}) {
    CURL* h = curl_easy_init();
    curl_headers hdr("application/json", extra_header);
    curl_sink sink;
    curl_configure(h, t, url, body, hdr, sink);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    out = std::move(sink.body);
    return status;
}

/// Forgets the emulator's conversations and counters between phases.
void reset_emulator(const target& t) {
    std::string out;
    curl_post(t, t.base_url + "/_emulator/reset", "{}", out, "X-Emulator-Admin-Token: " + t.admin_token);
}

std::vector<std::string> create_conversations(const target& t, std::size_t n) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < n; ++i) {
        std::string out;
        long status = curl_post(t, t.base_url + "/v1/conversation/create", "{}", out);
        if (status != 200) throw std::runtime_error("conversation/create: HTTP " + std::to_string(status));
        ids.emplace_back(json::parse(out).at("id").as_string());
    }
    return ids;
}

// ---------------------------------------------------------------- chatwire: request/response

struct cw_phase {
    budget b;
    round_result* out = nullptr;
    bool record = true;
};

asio::awaitable<void> cw_request_worker(chatwire::http::client& cl, std::string url, std::string body,
                                        cw_phase& ph) {
    chatwire::diagnostics diag;
    while (ph.b.take()) {
        auto req = make_chat_request(url, body);
        auto t0 = clock_type::now();
        auto [ec, res] = co_await cl.async_request(std::move(req), diag, tuple_awaitable);
        auto t1 = clock_type::now();
        if (ec || res.status != 200) {
            ++ph.out->errors;
            if (ph.out->errors == 1) std::cerr << "chatwire: " << ec.message() << " status " << res.status << "\n";
            continue;
        }
        if (ph.record) {
            ++ph.out->ops;
            ph.out->bytes += res.body.size();
            ph.out->latency_us.push_back(elapsed_us(t0, t1));
        }
    }
}

void run_cw_phase(asio::io_context& io, chatwire::http::client& cl, const std::string& url, const std::string& body,
                  std::size_t conc, cw_phase& ph) {
    for (std::size_t i = 0; i < conc; ++i)
        asio::co_spawn(io, cw_request_worker(cl, url, body, ph), asio::detached);
    io.restart();
    io.run();
}

round_result chatwire_requests(const target& t, std::size_t conc, const settings& s) {
    asio::io_context io;
    chatwire::http::client cl(io.get_executor(), http_options(t, conc));
    const auto url = pollybot_url(t.base_url);
    const auto body = pollybot_body(false);
    round_result r;
    round_result warm;
    cw_phase w{make_budget(conc * 4, 10.0), &warm, false};
    run_cw_phase(io, cl, url, body, conc, w);  // connections and TLS handshakes
    cw_phase ph{make_budget(s.requests, s.seconds), &r, true};
    r.latency_us.reserve(std::min<std::size_t>(s.requests, 1u << 20));
    const double c0 = thread_cpu_seconds();
    const auto t0 = clock_type::now();
    run_cw_phase(io, cl, url, body, conc, ph);
    r.seconds = elapsed_us(t0, clock_type::now()) * 1e-6;
    r.cpu_seconds = thread_cpu_seconds() - c0;
    r.errors += warm.errors;
    return r;
}

// ---------------------------------------------------------------- libcurl: request/response

round_result curl_requests_easy(const target& t, const settings& s) {
    const auto url = pollybot_url(t.base_url);
    const auto body = pollybot_body(false);
    curl_headers hdr("application/json");
    curl_sink sink;
    CURL* h = curl_easy_init();
    curl_configure(h, t, url, body, hdr, sink);
    round_result r;
    auto once = [&](bool record) {
        sink.body.clear();
        auto t0 = clock_type::now();
        CURLcode rc = curl_easy_perform(h);
        auto t1 = clock_type::now();
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            if (++r.errors == 1) std::cerr << "libcurl: " << curl_easy_strerror(rc) << " status " << status << "\n";
            return;
        }
        if (record) {
            ++r.ops;
            r.bytes += sink.body.size();
            r.latency_us.push_back(elapsed_us(t0, t1));
        }
    };
    for (int i = 0; i < 4; ++i) once(false);
    budget b = make_budget(s.requests, s.seconds);
    r.latency_us.reserve(std::min<std::size_t>(s.requests, 1u << 20));
    const double c0 = thread_cpu_seconds();
    const auto t0 = clock_type::now();
    while (b.take()) once(true);
    r.seconds = elapsed_us(t0, clock_type::now()) * 1e-6;
    r.cpu_seconds = thread_cpu_seconds() - c0;
    curl_easy_cleanup(h);
    return r;
}

struct curl_xfer {
    CURL* h = nullptr;
    curl_sink sink;
    clock_type::time_point started;
    std::string url;
};

/// `conc` transfers kept in flight on one multi handle until the budget runs out.
void curl_multi_phase(CURLM* m, std::vector<curl_xfer>& xfers, budget b, round_result& r, bool record) {
    std::size_t active = 0;
    auto start = [&](curl_xfer& x) {
        x.sink.body.clear();
        x.sink.bytes = 0;
        x.started = clock_type::now();
        curl_multi_add_handle(m, x.h);
        ++active;
    };
    for (auto& x : xfers)
        if (b.take()) start(x);
    while (active > 0) {
        int running = 0;
        curl_multi_perform(m, &running);
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            curl_xfer* x = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
            const auto t1 = clock_type::now();
            const CURLcode rc = msg->data.result;
            long status = 0;
            curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
            curl_multi_remove_handle(m, x->h);
            --active;
            if (rc != CURLE_OK || status != 200) {
                if (++r.errors == 1) std::cerr << "libcurl: " << curl_easy_strerror(rc) << " status " << status << "\n";
            } else if (record) {
                ++r.ops;
                r.bytes += x->sink.bytes;
                r.latency_us.push_back(elapsed_us(x->started, t1));
            }
            if (b.take()) start(*x);
        }
        if (active > 0 && running > 0) curl_multi_poll(m, nullptr, 0, 100, nullptr);
    }
}

/// One multi handle for warm-up and measurement, so its connection cache carries over.
CURLM* make_multi(std::size_t conc) {
    CURLM* m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(conc));
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(conc));
    return m;
}

/// Warm-up, then the measured round, then cleanup of the multi handle and its transfers.
round_result curl_multi_measure(CURLM* m, std::vector<curl_xfer>& xfers, budget warm_budget, budget run_budget,
                                round_result r) {
    round_result warm;
    curl_multi_phase(m, xfers, warm_budget, warm, false);
    const double c0 = thread_cpu_seconds();
    const auto t0 = clock_type::now();
    curl_multi_phase(m, xfers, run_budget, r, true);
    r.seconds = elapsed_us(t0, clock_type::now()) * 1e-6;
    r.cpu_seconds = thread_cpu_seconds() - c0;
    r.errors += warm.errors;
    curl_multi_cleanup(m);
    for (auto& x : xfers) curl_easy_cleanup(x.h);
    return r;
}

round_result curl_requests_multi(const target& t, std::size_t conc, const settings& s) {
    const auto body = pollybot_body(false);
    curl_headers hdr("application/json");
    std::vector<curl_xfer> xfers(conc);
    for (auto& x : xfers) {
        x.h = curl_easy_init();
        x.url = pollybot_url(t.base_url);
    }
    round_result r;
    r.latency_us.reserve(std::min<std::size_t>(s.requests, 1u << 20));
    CURLM* m = make_multi(conc);
    for (auto& x : xfers) {
        curl_configure(x.h, t, x.url, body, hdr, x.sink);
        curl_easy_setopt(x.h, CURLOPT_PRIVATE, &x);
    }
    return curl_multi_measure(m, xfers, make_budget(conc * 4, 10.0), make_budget(s.requests, s.seconds),
                              std::move(r));
}

// ---------------------------------------------------------------- streamed replies

struct stream_phase {
    budget b;
    round_result* out = nullptr;
};

asio::awaitable<void> cw_stream_worker(chatwire::chat_client& bot, std::string conversation, stream_phase& ph) {
    chatwire::diagnostics diag;
    while (ph.b.take()) {
        const auto t0 = clock_type::now();
        auto [ec, s] = co_await bot.async_send(message_text, conversation, diag, tuple_awaitable);
        if (ec) {
            if (++ph.out->errors == 1) std::cerr << "chatwire stream: " << ec.message() << " " << diag.to_string() << "\n";
            continue;
        }
        bool ok = true;
        std::uint64_t tokens = 0, bytes = 0;
        for (;;) {
            chatwire::error_code ec2;
            chatwire::event ev;
            if (!s.try_next(ec2, ev)) std::tie(ec2, ev) = co_await s.async_next(tuple_awaitable);
            if (ec2 == chatwire::errc::end_of_stream) break;
            if (ec2) {
                ok = false;
                if (++ph.out->errors == 1) std::cerr << "chatwire stream: " << ec2.message() << "\n";
                break;
            }
            if (ev.kind == chatwire::event_kind::token) {
                ++tokens;
                bytes += ev.text.size();
            }
        }
        if (!ok) continue;
        ++ph.out->ops;
        ph.out->tokens += tokens;
        ph.out->bytes += bytes;
        ph.out->latency_us.push_back(elapsed_us(t0, clock_type::now()));
    }
}

round_result chatwire_streams(const target& t, chatwire::api_kind which, std::size_t conc,
                              const std::vector<std::string>& conversations, const settings& s) {
    asio::io_context io;
    chatwire::chat_client bot(io.get_executor(), chat_opts(t, which, conc));
    round_result warm, r;
    stream_phase w{make_budget(conc, 10.0), &warm};
    for (std::size_t i = 0; i < conc; ++i)
        asio::co_spawn(io, cw_stream_worker(bot, conversations.empty() ? "" : conversations[i], w), asio::detached);
    io.run();
    stream_phase ph{make_budget(s.streams, s.seconds), &r};
    for (std::size_t i = 0; i < conc; ++i)
        asio::co_spawn(io, cw_stream_worker(bot, conversations.empty() ? "" : conversations[i], ph), asio::detached);
    io.restart();
    const double c0 = thread_cpu_seconds();
    const auto t0 = clock_type::now();
    io.run();
    r.seconds = elapsed_us(t0, clock_type::now()) * 1e-6;
    r.cpu_seconds = thread_cpu_seconds() - c0;
    r.errors += warm.errors;
    return r;
}

asio::awaitable<void> cw_whole_worker(chatwire::chat_client& bot, std::string conversation, stream_phase& ph) {
    chatwire::diagnostics diag;
    while (ph.b.take()) {
        const auto t0 = clock_type::now();
        auto [ec, reply] = co_await bot.async_send_whole(message_text, conversation, diag, tuple_awaitable);
        if (ec) {
            if (++ph.out->errors == 1) std::cerr << "chatwire whole: " << ec.message() << " " << diag.to_string() << "\n";
            continue;
        }
        ++ph.out->ops;
        ph.out->bytes += reply.text.size();
        ph.out->latency_us.push_back(elapsed_us(t0, clock_type::now()));
    }
}

/// ChatBotKit completions in one conversation per worker, parsed by chat_client.
round_result chatwire_whole(const target& t, std::size_t conc, const std::vector<std::string>& conversations,
                            const settings& s) {
    asio::io_context io;
    chatwire::chat_client bot(io.get_executor(), chat_opts(t, chatwire::api_kind::chatbotkit, conc));
    round_result warm, r;
    stream_phase w{make_budget(conc, 10.0), &warm};
    for (std::size_t i = 0; i < conc; ++i) asio::co_spawn(io, cw_whole_worker(bot, conversations[i], w), asio::detached);
    io.run();
    stream_phase ph{make_budget(s.streams, s.seconds), &r};
    for (std::size_t i = 0; i < conc; ++i) asio::co_spawn(io, cw_whole_worker(bot, conversations[i], ph), asio::detached);
    io.restart();
    const double c0 = thread_cpu_seconds();
    const auto t0 = clock_type::now();
    io.run();
    r.seconds = elapsed_us(t0, clock_type::now()) * 1e-6;
    r.cpu_seconds = thread_cpu_seconds() - c0;
    r.errors += warm.errors;
    return r;
}

/// libcurl reads the same streamed bodies as raw bytes: no SSE/JSONL parsing.
/// With `stream` false (ChatBotKit only) the same for whole JSON replies.
round_result curl_streams(const target& t, chatwire::api_kind which, std::size_t conc,
                          const std::vector<std::string>& conversations, const settings& s, bool stream = true) {
    const bool pb = which == chatwire::api_kind::pollybot;
    const auto body = pb ? pollybot_body(true) : chatbotkit_body();
    curl_headers hdr(pb ? "text/event-stream" : stream ? "application/jsonl" : "application/json");
    std::vector<curl_xfer> xfers(conc);
    for (std::size_t i = 0; i < conc; ++i) {
        xfers[i].h = curl_easy_init();
        xfers[i].sink.keep = false;
        xfers[i].url = pb ? pollybot_url(t.base_url) : chatbotkit_complete_url(t.base_url, conversations[i]);
    }
    CURLM* m = make_multi(conc);
    for (auto& x : xfers) {
        curl_configure(x.h, t, x.url, body, hdr, x.sink);
        curl_easy_setopt(x.h, CURLOPT_PRIVATE, &x);
    }
    return curl_multi_measure(m, xfers, make_budget(conc, 10.0), make_budget(s.streams, s.seconds), round_result{});
}

// ---------------------------------------------------------------- the in-process emulator

struct local_emulator {
    asio::io_context io;
    std::optional<chatwire::emulator::server> plain, tls;
    std::thread thread;

    local_emulator() {
        chatwire::emulator::options p;
        p.tls = false;
        plain.emplace(io.get_executor(), p);
        chatwire::emulator::options s;
        s.tls = true;
        tls.emplace(io.get_executor(), s);
        plain->start();
        tls->start();
        thread = std::thread([this] { io.run(); });
    }
    ~local_emulator() {
        io.stop();
        thread.join();
    }
};

// ---------------------------------------------------------------- report

void print_row(const summary& s) {
    std::printf("%-7s %-15s %4zu  %-9s %10.0f %9.0f %9.0f %9.1f %8.2f %10.0f %6zu  %s\n", s.section.c_str(),
                s.transport.c_str(), s.conc, s.impl.c_str(), s.ops_per_s, s.p50_us, s.p99_us, s.cpu_us_per_op,
                s.mb_per_s, s.tokens_per_s, s.errors, s.round_rates.c_str());
}

void print_ratio(const summary& cw, const summary& peer) {
    const double thr = peer.ops_per_s > 0 ? cw.ops_per_s / peer.ops_per_s : 0;
    const double p50 = cw.p50_us > 0 ? peer.p50_us / cw.p50_us : 0;
    const double cpu = cw.cpu_us_per_op > 0 ? peer.cpu_us_per_op / cw.cpu_us_per_op : 0;
    std::printf("        -> chatwire vs %s: throughput x%.2f, p50 latency x%.2f, client CPU x%.2f (>1: chatwire better)\n",
                peer.impl.c_str(), thr, p50, cpu);
}

void write_csv(const std::string& path, const std::vector<summary>& all) {
    std::ofstream out(path);
    out << "section,transport,conc,impl,ops,errors,ops_per_s,p50_us,p99_us,cpu_us_per_op,mb_per_s,tokens_per_s\n";
    for (const auto& s : all)
        out << s.section << ',' << s.transport << ',' << s.conc << ',' << s.impl << ',' << s.ops << ',' << s.errors
            << ',' << s.ops_per_s << ',' << s.p50_us << ',' << s.p99_us << ',' << s.cpu_us_per_op << ','
            << s.mb_per_s << ',' << s.tokens_per_s << '\n';
}

template <class A, class B>
void compare(const std::string& section, const std::string& transport, std::size_t conc, const settings& s,
             std::vector<summary>& all, A run_chatwire, B run_curl, const target& t) {
    std::vector<round_result> cw, cu;
    for (int i = 0; i < s.rounds; ++i) {  // alternate so drift on a shared machine hits both
        reset_emulator(t);
        cw.push_back(run_chatwire());
        reset_emulator(t);
        cu.push_back(run_curl());
    }
    auto a = summarize(section, transport, "chatwire", conc, cw);
    auto b = summarize(section, transport, "libcurl", conc, cu);
    print_row(a);
    print_row(b);
    print_ratio(a, b);
    std::fflush(stdout);
    all.push_back(a);
    all.push_back(b);
}

} // namespace

int main(int argc, char** argv) try {
    settings s = parse_args(argc, argv);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    std::unique_ptr<local_emulator> local;
    std::vector<target> targets;
    if (s.plain_url.empty() && s.tls_url.empty()) {
        local = std::make_unique<local_emulator>();
        targets.push_back({"plain", local->plain->base_url(), "", local->plain->admin_token()});
        targets.push_back({"tls", local->tls->base_url(), local->tls->certificate_pem(), local->tls->admin_token()});
        std::cout << "in-process emulator (own thread): " << targets[0].base_url << " " << targets[1].base_url << "\n";
    } else {
        // The emulators' admin token comes from the script that started them.
        const char* env = std::getenv("CHATWIRE_EMULATOR_ADMIN_TOKEN");
        const std::string token = env ? env : "";
        if (!s.plain_url.empty()) targets.push_back({"plain", s.plain_url, "", token});
        if (!s.tls_url.empty()) targets.push_back({"tls", s.tls_url, s.ca_pem, token});
    }

    std::printf("%-7s %-15s %4s  %-9s %10s %9s %9s %9s %8s %10s %6s  %s\n", "section", "transport", "conc",
                "impl", "ops/s", "p50_us", "p99_us", "cpu_us/op", "MB/s", "tokens/s", "errors", "rounds ops/s");
    std::vector<summary> all;
    if (s.only.empty() || s.only == "http") {
        for (const auto& t : targets)
            for (std::size_t conc : s.conc) {
                auto cw = [&] { return chatwire_requests(t, conc, s); };
                auto cu = [&] { return conc == 1 ? curl_requests_easy(t, s) : curl_requests_multi(t, conc, s); };
                compare("http", t.name, conc, s, all, cw, cu, t);
            }
    }
    if (s.only.empty() || s.only == "stream") {
        for (const auto& t : targets)
            for (auto which : {chatwire::api_kind::pollybot, chatwire::api_kind::chatbotkit}) {
                const bool pb = which == chatwire::api_kind::pollybot;
                const std::string name = std::string(pb ? "pb-sse-" : "cbk-jsonl-") + t.name;
                auto cw = [&] {
                    auto convs = pb ? std::vector<std::string>{} : create_conversations(t, s.stream_conc);
                    return chatwire_streams(t, which, s.stream_conc, convs, s);
                };
                auto cu = [&] {
                    auto convs = pb ? std::vector<std::string>{} : create_conversations(t, s.stream_conc);
                    return curl_streams(t, which, s.stream_conc, convs, s);
                };
                compare("stream", name, s.stream_conc, s, all, cw, cu, t);
            }
        std::cout << "(stream: libcurl reads the SSE/JSONL bodies as raw bytes without parsing; chatwire decodes\n"
                     " and maps every event; MB/s is token text for chatwire, whole body bytes for libcurl)\n";
    }
    if (s.only.empty() || s.only == "whole") {
        for (const auto& t : targets) {
            auto cw = [&] { return chatwire_whole(t, s.stream_conc, create_conversations(t, s.stream_conc), s); };
            auto cu = [&] {
                return curl_streams(t, chatwire::api_kind::chatbotkit, s.stream_conc,
                                    create_conversations(t, s.stream_conc), s, false);
            };
            compare("whole", "cbk-json-" + t.name, s.stream_conc, s, all, cw, cu, t);
        }
    }
    if (!s.csv.empty()) write_csv(s.csv, all);
    curl_global_cleanup();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_http: " << e.what() << "\n";
    return 1;
}
