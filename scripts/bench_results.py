#!/usr/bin/python3
"""Gathers the suite's figures into one flat bench-results/results.json, prints
the table (each figure with its aim and whether it is met, and the flags of
figures that do not count), writes bench-results/table.md and the gnuplot PNGs.

    scripts/bench_results.py BUILD_DIR RESULTS_DIR [--quick] [--seconds S]
                             [--readme benchmarks/README.md]

Reads what the suite's scripts wrote into RESULTS_DIR: decode.json and
stream_events.json (Google Benchmark), request_cost.json, tls_handshake.json,
stream_memory.json, streams.json, retry.json. A missing file leaves its
figures out. --readme replaces the text between the README's
`<!-- bench-table:begin -->` and `<!-- bench-table:end -->` markers.
Standard library only (Debian's /usr/bin/python3).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys

REQUEST_CLIENTS = ["beast_bare", "chatwire_transport", "chatwire", "chatwire_handler", "libcurl", "aiohttp", "node", "wrk", "h2load"]
CXX_CLIENTS = ["beast_bare", "chatwire_transport", "chatwire", "chatwire_handler", "libcurl"]
APIS = {"chatbotkit": "BM_tokens_chatbotkit", "pollybot": "BM_tokens_pollybot", "vectorshift": "BM_tokens_vectorshift_v1"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def run(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def gbench(path):
    """Google Benchmark JSON: name -> its iteration entry (the first repetition)."""
    out = {}
    for b in load(path).get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = re.sub(r"/(min_time|real_time|repeats):.*$", "", b["name"])
        out.setdefault(name, b)
    return out


def machine(build_dir):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cache = {}
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(r"^(CMAKE_CXX_COMPILER|CMAKE_BUILD_TYPE|CMAKE_CXX_FLAGS_RELEASE):[^=]*=(.*)$", line)
                if m:
                    cache[m.group(1)] = m.group(2).strip()
    except OSError:
        pass
    boost = ""
    try:
        with open("/usr/include/boost/version.hpp") as f:
            m = re.search(r'#define BOOST_LIB_VERSION "([^"]+)"', f.read())
            boost = m.group(1).replace("_", ".") if m else ""
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": os.uname().release,
        "os": run(". /etc/os-release && echo \"$PRETTY_NAME\""),
        "compiler": run(f"'{cache.get('CMAKE_CXX_COMPILER', 'c++')}' --version | head -1"),
        "build_type": cache.get("CMAKE_BUILD_TYPE", ""),
        "cxx_flags_release": cache.get("CMAKE_CXX_FLAGS_RELEASE", ""),
        "boost": boost,
        "openssl": " ".join(run("openssl version").split()[:2]),
        "nginx": run("/usr/sbin/nginx -v 2>&1 || nginx -v 2>&1").replace("nginx version: ", ""),
        "libcurl": run("curl-config --version").replace("libcurl ", ""),
        "node": run("node --version"),
        "python": run("/usr/bin/python3 --version"),
        "aiohttp": run("/usr/bin/python3 -c 'import aiohttp; print(aiohttp.__version__)'"),
        "wrk": run("wrk -v 2>&1 | head -1"),
        "load_average": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else [],
        "commit": run(f"git -C '{os.path.dirname(os.path.abspath(__file__))}' rev-parse --short HEAD"),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
    }


def gather(results_dir):
    fig, flags = {}, {}
    req = load(os.path.join(results_dir, "request_cost.json"))
    for pre in ("", "tls_", "h2_"):
        for c in REQUEST_CLIENTS:
            for k in ("cpu_us_per_request_", "user_us_per_request_", "requests_per_s_", "client_cpu_percent_",
                      "nginx_cpu_percent_", "instructions_per_request_", "heap_allocations_per_request_"):
                if pre + k + c in req:
                    fig[pre + k + c] = req[pre + k + c]
            if pre + "flag_" + c in req:
                flags[pre + "cpu_us_per_request_" + c] = req[pre + "flag_" + c]
    for k, v in req.items():  # chatwire over HTTP/2 against its own TLS figure, libcurl and h2load
        if k.startswith("h2_cpu_ratio_to_") or k.startswith("h2_instructions_ratio_to_"):
            fig[k] = v
    for k in ("tls_full_handshake_us", "tls_resumed_handshake_us", "tls_resumption_rate", "tcp_connect_close_us",
              "tls_resumption_rate_without_tickets", "tls_resumption_rate_server_close"):
        v = load(os.path.join(results_dir, "tls_handshake.json")).get(k)
        if v is not None:
            fig[k] = v
    mem = load(os.path.join(results_dir, "stream_memory.json"))
    if "memory_kib_per_stream_tls" in mem:
        fig["rss_kib_per_stream"] = mem["memory_kib_per_stream_tls"]
        fig["rss_kib_per_stream_plain"] = mem.get("memory_kib_per_stream_plain")
        fig["heap_kib_per_stream"] = mem.get("heap_kib_per_stream_tls")
        fig["peak_rss_kib_per_stream"] = mem.get("peak_rss_kib_per_stream_tls")
        fig["concurrent_streams"] = mem.get("opened_tls")
        if mem.get("failed_tls"):
            flags["concurrent_streams"] = f"{mem['failed_tls']} streams failed"
    if mem.get("quick") and "concurrent_streams" in fig:
        flags["concurrent_streams"] = f"quick run: {mem.get('streams')} streams asked for"
    streams = load(os.path.join(results_dir, "streams.json"))
    for k, v in streams.items():
        if k.startswith("stream_flag_"):
            flags["stream_tokens_per_s_" + k[len("stream_flag_"):]] = v
        else:
            fig[k] = v
    fig.update(load(os.path.join(results_dir, "retry.json")))

    dec = gbench(os.path.join(results_dir, "decode.json"))

    def counter(name, key, scale=1.0):
        b = dec.get(name)
        return None if b is None or key not in b else b[key] * scale

    fig["sse_decode_gbps"] = counter("BM_sse_framing_64k_pieces", "bytes_per_second", 1e-9)
    fig["sse_ns_per_event"] = counter("BM_sse_framing_64k_pieces", "ns_per_event", 1e9)
    fig["jsonl_decode_gbps"] = counter("BM_jsonl_framing_64k_pieces", "bytes_per_second", 1e-9)
    fig["allocs_per_event"] = counter("BM_sse_framing_64k_pieces", "allocs_per_event")
    fig["sse_decode_gbps_256b_pieces"] = counter("BM_sse_framing_small_pieces/256", "bytes_per_second", 1e-9)
    fig["sse_decode_ns_per_event_1b_pieces"] = counter("BM_sse_framing_byte_by_byte", "ns_per_event", 1e9)
    for api, name in APIS.items():
        fig["token_extract_ns_per_token_" + api] = counter(name, "ns_per_event", 1e9)
    ev = gbench(os.path.join(results_dir, "stream_events.json"))
    b = ev.get("BM_next_awaitable_chunked/1000")
    if b and "ns_per_event" in b:
        fig["await_event_us"] = b["ns_per_event"] * 1e6
    return {k: v for k, v in fig.items() if v is not None}, flags


# (key, what, unit, aim) — aim: (op, value) or ("ratio", other key, factor) or None.
def rows(fig):
    out = []
    for pre, label in (("", "plain"), ("tls_", "TLS"), ("h2_", "HTTP/2, 10 streams on 1 connection")):
        for c in REQUEST_CLIENTS:
            out.append((pre + "cpu_us_per_request_" + c, f"request CPU, {c} ({label})", "µs", None))
        for c in CXX_CLIENTS:
            out.append((pre + "instructions_per_request_" + c, f"instructions/request, {c} ({label})", "", None))
    # HTTP/2's aims: no dearer than HTTP/1.1 over TLS, at most half of
    # libcurl's HTTP/2, within 1.5x of h2load.
    for c in ("chatwire_transport", "chatwire"):
        out += [
            (f"h2_cpu_ratio_to_own_tls_{c}", f"HTTP/2 request CPU / own TLS HTTP/1.1, {c}", "×", ("<=", 1.0)),
            (f"h2_cpu_ratio_to_libcurl_{c}", f"HTTP/2 request CPU / libcurl HTTP/2, {c}", "×", ("<=", 0.5)),
            (f"h2_cpu_ratio_to_h2load_{c}", f"HTTP/2 request CPU / h2load, {c}", "×", ("<=", 1.5)),
        ]
    for n in (1, 100, 1000, 10000):
        out.append((f"stream_tokens_per_s_{n}", f"tokens/s to user code, {n} stream{'s' if n > 1 else ''}", "/s", None))
    for n in (1, 100, 1000, 10000):
        out.append((f"stream_tokens_per_s_emulator_{n}",
                    f"tokens/s to user code, {n} stream{'s' if n > 1 else ''}, emulator paced 1 ms", "/s", None))
    for n in (1, 100, 1000, 10000):
        out.append((f"stream_tokens_per_s_emulator_h2_{n}",
                    f"tokens/s to user code, {n} stream{'s' if n > 1 else ''}, emulator paced 1 ms, HTTP/2", "/s", None))
    out += [
        ("concurrent_streams", "streams held by one thread (TLS)", "", (">=", 10000)),
        ("rss_kib_per_stream", "RSS per open TLS stream", "KiB", ("<=", 48)),
        ("peak_rss_kib_per_stream", "peak RSS per open TLS stream", "KiB", ("<=", 48)),
        ("heap_kib_per_stream", "heap per open TLS stream", "KiB", None),
        ("await_event_us", "CPU per awaited event", "µs", None),
        ("token_latency_p50_us_chatwire", "token latency p50, chatwire", "µs", None),
        ("token_latency_p50_us_raw", "token latency p50, raw socket", "µs", None),
        ("token_latency_p99_us_chatwire", "token latency p99, chatwire", "µs", ("ratio", "token_latency_p99_us_raw", 1.5)),
        ("token_latency_p99_us_raw", "token latency p99, raw socket", "µs", None),
        ("token_latency_p50_us_chatwire_h2_nginx", "token latency p50 through nginx, chatwire HTTP/2", "µs", None),
        ("token_latency_p50_us_chatwire_h1_nginx", "token latency p50 through nginx, chatwire HTTP/1.1", "µs", None),
        ("token_latency_p50_us_raw_nginx", "token latency p50 through nginx, raw socket", "µs", None),
        ("token_latency_p99_us_chatwire_h2_nginx", "token latency p99 through nginx, chatwire HTTP/2", "µs", None),
        ("token_latency_p99_us_chatwire_h1_nginx", "token latency p99 through nginx, chatwire HTTP/1.1", "µs", None),
        ("token_latency_p99_us_raw_nginx", "token latency p99 through nginx, raw socket", "µs", None),
        ("token_latency_p99_h2_ratio_to_raw_nginx", "token latency p99 through nginx, chatwire HTTP/2 / raw", "×", None),
        ("token_latency_p99_h2_ratio_to_h1_nginx", "token latency p99 through nginx, chatwire HTTP/2 / HTTP/1.1", "×", None),
        ("tls_full_handshake_us", "TLS full handshake, client CPU", "µs", None),
        ("tls_resumed_handshake_us", "TLS resumed handshake, client CPU", "µs", None),
        ("tls_resumption_rate", "TLS resumption on reconnects", "", (">=", 0.95)),
        ("sse_decode_gbps", "SSE decode, 64 KiB pieces", "GB/s", None),
        ("sse_ns_per_event", "SSE decode per event", "ns", None),
        ("sse_decode_gbps_256b_pieces", "SSE decode, 256 B pieces", "GB/s", None),
        ("sse_decode_ns_per_event_1b_pieces", "SSE decode per event, 1 B pieces", "ns", None),
        ("jsonl_decode_gbps", "JSONL decode, 64 KiB pieces", "GB/s", None),
        ("allocs_per_event", "heap allocations per SSE event", "", None),
    ]
    for api in APIS:
        out.append((f"token_extract_ns_per_token_{api}", f"token extraction, {api}", "ns", None))
    out.append(("retry_amplification", "attempts per call, 100% 429 storm", "×", ("<=", 1.1)))
    return [r for r in out if r[0] in fig]


def fmt(v):
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def judge(fig, aim):
    if aim is None:
        return "–", ""
    if aim[0] == "ratio":
        other = fig.get(aim[1])
        text = f"≤ {aim[2]}× {aim[1].replace('token_latency_p99_us_', '')}"
        if other is None:
            return text, "?"
        return text, aim  # decided by the caller
    op, val = aim
    return f"{'≥' if op == '>=' else '≤'} {fmt(val)}", ""


def table(fig, flags):
    lines = ["| figure | key | value | aim | met | flag |", "|---|---|---|---|---|---|"]
    plain = []
    for key, what, unit, aim in rows(fig):
        v = fig[key]
        aim_text, met = judge(fig, aim)
        if aim is not None:
            if aim[0] == "ratio":
                other = fig.get(aim[1])
                met = "?" if other in (None, 0) else ("yes" if v <= aim[2] * other else "**no**")
                if other:
                    aim_text += f" ({fmt(aim[2] * other)})"
            elif aim[0] == ">=":
                met = "yes" if v >= aim[1] else "**no**"
            else:
                met = "yes" if v <= aim[1] else "**no**"
        flag = flags.get(key, "")
        value = fmt(v) + (f" {unit}" if unit and unit != "×" else "")
        lines.append(f"| {what} | `{key}` | {value} | {aim_text} | {met} | {flag} |")
        plain.append((what, value, aim_text, met.replace("*", ""), flag))
    return lines, plain


def print_table(plain):
    w = [max(len(r[i]) for r in plain + [("figure", "value", "aim", "met", "flag")]) for i in range(4)]
    print(f"{'figure':<{w[0]}}  {'value':>{w[1]}}  {'aim':<{w[2]}}  {'met':<{w[3]}}  flag")
    for r in plain:
        print(f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:<{w[2]}}  {r[3]:<{w[3]}}  {r[4]}")


def plots(fig, results_dir, mach):
    gp = shutil.which("gnuplot")
    if not gp:
        print("bench_results.py: gnuplot missing, no plots", file=sys.stderr)
        return []
    made = []
    note = f"{mach['cpu']}, {mach['cores']} cores, {mach['date_utc']} UTC"
    term = "set terminal pngcairo size 900,480 font 'sans,10' noenhanced"
    # 1. Request CPU per client, plain, TLS and HTTP/2.
    data = os.path.join(results_dir, "plot_request_cpu.dat")
    req_rows = [(c, fig.get("cpu_us_per_request_" + c), fig.get("tls_cpu_us_per_request_" + c),
                 fig.get("h2_cpu_us_per_request_" + c)) for c in REQUEST_CLIENTS]
    req_rows = [r for r in req_rows if any(v is not None for v in r[1:])]
    with open(data, "w") as f:
        for c, *vs in req_rows:
            f.write(c + "".join(f" {v if v is not None else 'NaN'}" for v in vs) + "\n")
    script = f"""{term}
set output '{results_dir}/request_cpu.png'
set title "Client CPU per keep-alive request against nginx (10 connections, or 10 streams on one HTTP/2 connection; one client thread)\\n{note}"
set ylabel 'CPU µs per request (user+system), log scale'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [1:*]
set key top left
plot '{data}' using 2:xtic(1) title 'plain HTTP', '' using 3 title 'TLS', '' using 4 title 'HTTP/2 (TLS, 1 connection)', \\
     '' using ($0 - 0.3):2:(sprintf('%.0f', $2)) with labels offset 0,0.6 notitle, \\
     '' using ($0):3:(sprintf('%.0f', $3)) with labels offset 0,0.6 notitle, \\
     '' using ($0 + 0.3):4:(sprintf('%.0f', $4)) with labels offset 0,0.6 notitle
"""
    if req_rows and run_gnuplot(gp, script):
        made.append("request_cpu.png")
    # 2. Tokens per second by concurrent streams.
    pts = [(n, fig.get(f"stream_tokens_per_s_{n}")) for n in (1, 100, 1000, 10000)]
    pts = [(n, v) for n, v in pts if v is not None]
    emu = [(n, fig.get(f"stream_tokens_per_s_emulator_{n}")) for n in (1, 100, 1000, 10000)]
    emu = [(n, v) for n, v in emu if v is not None]
    if pts:
        data = os.path.join(results_dir, "plot_stream_tokens.dat")
        with open(data, "w") as f:
            for n, v in pts:
                f.write(f"{n} {v}\n")
        emu_data = os.path.join(results_dir, "plot_stream_tokens_emulator.dat")
        with open(emu_data, "w") as f:
            for n, v in emu:
                f.write(f"{n} {v}\n")
        emu_plot = (f", '{emu_data}' using 1:2 with linespoints lw 2 pt 5 title 'chatwire, emulator paced 1 ms/token'"
                    if emu else "")
        script = f"""{term}
set output '{results_dir}/stream_tokens.png'
set title "Tokens per second one thread delivers to user code (chat_client, PollyBot SSE)\\n{note}"
set xlabel 'concurrent streams'
set ylabel 'tokens/s'
set logscale x{'y' if emu else ''}
set xrange [0.5:20000]
set yrange [{'100' if emu else '0'}:*]
set grid
set format y '%.1s%c'
plot '{data}' using 1:2 with linespoints lw 2 pt 7 title 'chatwire, suite token server (whole replies)', '' using 1:2:(sprintf('%.0fk', $2/1000)) with labels offset 0,1 notitle{emu_plot}
"""
        if run_gnuplot(gp, script):
            made.append("stream_tokens.png")
    # 3. Token latency, chatwire against a raw blocking reader.
    lat = [(w, fig.get(f"token_latency_p50_us_{w}"), fig.get(f"token_latency_p99_us_{w}")) for w in ("chatwire", "raw")]
    if all(p is not None and q is not None for _, p, q in lat):
        data = os.path.join(results_dir, "plot_token_latency.dat")
        with open(data, "w") as f:
            for w, p, q in lat:
                f.write(f"{w} {p} {q}\n")
        script = f"""{term}
set output '{results_dir}/token_latency.png'
set title "Latency a token gains between the server's write and user code (one paced stream)\\n{note}"
set logscale y
set ylabel 'µs'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set yrange [1:*]
set key top left
plot '{data}' using 2:xtic(1) title 'p50', '' using 3 title 'p99', \\
     '' using ($0 - 0.2):2:(sprintf('%.0f', $2)) with labels offset 0,0.6 notitle, \\
     '' using ($0 + 0.2):3:(sprintf('%.0f', $3)) with labels offset 0,0.6 notitle
"""
        if run_gnuplot(gp, script):
            made.append("token_latency.png")
    return made


def run_gnuplot(gp, script):
    r = subprocess.run([gp], input=script, text=True, capture_output=True, timeout=60)
    if r.returncode != 0:
        print("bench_results.py: gnuplot: " + r.stderr.strip(), file=sys.stderr)
    return r.returncode == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build_dir")
    p.add_argument("results_dir")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seconds", type=float, default=None, help="the suite's wall time")
    p.add_argument("--readme", default=None)
    a = p.parse_args()
    fig, flags = gather(a.results_dir)
    mach = machine(a.build_dir)
    q = " --quick" if a.quick else ""
    recipe = [
        "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build",
        f"scripts/bench.sh build{q}   # what scripts/run.sh bench{q} runs after building; it runs:",
        "build/benchmarks/bench_decode --benchmark_min_time=" + ("0.05" if a.quick else "0.2")
        + " --benchmark_out=bench-results/decode.json --benchmark_out_format=json",
        "build/benchmarks/bench_stream --benchmark_min_time=" + ("0.05" if a.quick else "0.3")
        + " --benchmark_out=bench-results/stream_events.json --benchmark_out_format=json",
        f"scripts/bench_request.sh build{q}   # request_cost.json, tls_handshake.json",
        f"scripts/bench_stream_memory.sh build {'--quick' if a.quick else '--streams 10000'}   # stream_memory.json",
        f"scripts/bench_streams.sh build{q}   # streams.json",
        f"scripts/bench_retry.sh build{q}   # retry.json",
        f"scripts/bench_results.py build bench-results{q}   # results.json, table.md, *.png",
    ]
    result = dict(sorted(fig.items()))
    result["flags"] = flags
    result["machine"] = mach
    result["recipe"] = recipe
    result["quick"] = a.quick
    if a.seconds is not None:
        result["suite_seconds"] = round(a.seconds, 1)
    with open(os.path.join(a.results_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    md, plain = table(fig, flags)
    made = plots(fig, a.results_dir, mach)
    header = (f"Machine: {mach['cpu']}, {mach['cores']} cores, Linux {mach['kernel']}, {mach['os']}; "
              f"{mach['compiler']} ({mach['build_type']}), Boost {mach['boost']}, {mach['openssl']}, "
              f"{mach['nginx']}, libcurl {mach['libcurl']}, Node {mach['node']}, aiohttp {mach['aiohttp']}. "
              f"Commit {mach['commit']}, {mach['date_utc']} UTC, load average {' '.join(mach['load_average'])}"
              f"{', quick run' if a.quick else ''}"
              f"{', suite %.0f s' % a.seconds if a.seconds else ''}.")
    with open(os.path.join(a.results_dir, "table.md"), "w") as f:
        f.write(header + "\n\n" + "\n".join(md) + "\n")
    print()
    print("== the figures (" + ("quick run" if a.quick else "full run") + "; flags: the figure does not count) ==")
    print_table(plain)
    print()
    print(header)
    print(f"JSON: {os.path.join(a.results_dir, 'results.json')}; table: table.md; plots: {', '.join(made) or 'none'}")
    if a.readme:
        with open(a.readme) as f:
            text = f.read()
        begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
        if begin in text and end in text:
            pre, rest = text.split(begin, 1)
            _, post = rest.split(end, 1)
            with open(a.readme, "w") as f:
                f.write(pre + begin + "\n" + header + "\n\n" + "\n".join(md) + "\n" + end + post)
            print(f"README table updated: {a.readme}")


if __name__ == "__main__":
    main()
