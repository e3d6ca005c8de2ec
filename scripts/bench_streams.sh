#!/usr/bin/env bash
# Streams from one client thread against bench_token_server, the minimal
# streaming server written for the suite (127.0.0.1, a process of its own):
#   - tokens/s delivered to user code across 1, 100, 1,000 and 10,000
#     concurrent chat_client streams (PollyBot SSE, 200-token replies written
#     at once, each stream asking for its next reply when one ends);
#   - the same against `chatwire emulate` with paced tokens (one event a
#     millisecond per stream, `--token-delay-ms 1`), 1, 100 and 1,000 streams
#     (and 10,000 in the full run), over HTTP/1.1 (one connection a stream)
#     and over HTTP/2 (h2c by prior knowledge on the same emulator, streams
#     sharing connections up to its 100-stream limit): keys
#     stream_tokens_per_s_emulator_<n> and stream_tokens_per_s_emulator_h2_<n>;
#   - the latency a token gains between the server's write and user code,
#     p50, p90 and p99, for chatwire (`co_await stream.next()`) and for a raw
#     blocking-socket reader (paced: one token a millisecond, one stream),
#     straight from the token server (keys ..._chatwire, ..._raw) and through
#     Debian's nginx as a reverse proxy (proxy_buffering off, keep-alive
#     upstream): chatwire over HTTP/2 (h2c, prior knowledge), chatwire over
#     HTTP/1.1 and the raw reader over HTTP/1.1 (keys ..._chatwire_h2_nginx,
#     ..._chatwire_h1_nginx, ..._raw_nginx, and token_latency_p99_h2_ratio_to_
#     raw_nginx / _to_h1_nginx). nginx is installed from Debian when missing
#     (as root or with sudo); without it, the nginx runs are skipped.
#   scripts/bench_streams.sh BUILD_DIR [--quick]
# Writes bench-results/streams.json (CHATWIRE_BENCH_RESULTS overrides the
# directory) and prints a table. Builds nothing. Every process it starts
# (nginx from a generated config in a temporary directory too) is stopped by
# its PID on exit; every run is bounded in time.
set -euo pipefail
build_dir="$(cd "$1" && pwd)"; shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
for a in "$@"; do
  case "$a" in --quick) quick=1 ;; *) echo "usage: $0 BUILD_DIR [--quick]" >&2; exit 2 ;; esac
done
server="$build_dir/benchmarks/bench_token_server"
client="$build_dir/benchmarks/bench_stream_fanout"
cli="$build_dir/src/cli/chatwire"
for f in "$server" "$client" "$cli"; do
  [ -x "$f" ] || { echo "bench_streams.sh: $f is not built" >&2; exit 1; }
done
results="${CHATWIRE_BENCH_RESULTS:-$here/bench-results}"
mkdir -p "$results"
echo '*' > "$results/.gitignore"

levels=(1 100 1000 10000)
tokens_per_reply=200
interval_us=1000       # paced: one token a millisecond
latency_tokens=100     # tokens per paced reply
# CHATWIRE_BENCH_H2_WINDOWS="16384 65536 262144": token latency through nginx
# over HTTP/2 again at each of these stream windows (http2_stream_window),
# keys ..._chatwire_h2_nginx_window_<bytes>.
h2_windows="${CHATWIRE_BENCH_H2_WINDOWS:-}"
if [ "$quick" = 1 ]; then rounds=1; seconds=1; lat_seconds=1; else rounds=3; seconds=2; lat_seconds=2; fi
emulator_levels=(1 100 1000)
[ "$quick" = 1 ] || emulator_levels+=(10000)
emulator_delay_ms=1   # the emulator's pause between events of a stream

tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench_streams.XXXXXX")"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

start_server() {  # $1 name, then the server's arguments; sets port_<name> and pid_<name>
  local name="$1"; shift
  "$server" --max-seconds 1200 "$@" > "$tmp/$name.out" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local port=""
  for _ in $(seq 100); do
    port="$(sed -n 's/^listening on //p' "$tmp/$name.out")"
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "bench_streams.sh: the $name server did not start" >&2; exit 1; }
  printf -v "port_$name" '%s' "$port"
  printf -v "pid_$name" '%s' "$pid"
}
start_server whole --tokens "$tokens_per_reply"
start_server paced --tokens "$latency_tokens" --interval-us "$interval_us"
. "$here/scripts/lib/emulator.sh"
. "$here/scripts/lib/nginx.sh"
# One emulator for both protocols: on its plain listener it tells HTTP/2 (h2c,
# prior knowledge) from HTTP/1.1 by the connection preface.
emulator_start "$cli" "$tmp/emulate.out" --plain --http2 on --token-delay-ms "$emulator_delay_ms" \
  --max-connections $(( ${emulator_levels[-1]} + 100 )) --max-conversations $(( ${emulator_levels[-1]} * 2 )) || exit 1

# nginx in front of the paced token server, for token latency through a
# reverse proxy: one listener speaking HTTP/2 by prior knowledge (h2c), one
# HTTP/1.1, both proxying to the token server unbuffered over kept-alive
# HTTP/1.1 connections. Skipped, with a message, when nginx cannot be had.
nginx_answers() {  # $1 port, $2 h1|h2: one request through nginx to the token server
  local proto=()
  [ "$2" = h2 ] && proto=(--http2-prior-knowledge)
  if command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 5 "${proto[@]}" -X POST -H 'Content-Type: application/json' -d '{"message":"hi"}' \
      "http://127.0.0.1:$1/api/v1/chatbots/bench/chat" -o /dev/null 2>/dev/null
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
nginx_h2_port="" nginx_h1_port=""  # nginx_start picks them
nginx_proxy() {  # the http block's own part of the config (lib/nginx.sh writes the rest)
  cat <<EOF
  http2_max_requests 100000000;
  upstream token_server {
    server 127.0.0.1:$port_paced;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$nginx_h2_port http2;
    listen 127.0.0.1:$nginx_h1_port;
    location / {
      proxy_pass http://token_server;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      postpone_output 0;
    }
  }
EOF
}
nginx_ready() { nginx_answers "$nginx_h1_port" h1 && nginx_answers "$nginx_h2_port" h2; }
nginx_up=0
nginx_locate
if [ -z "$nginx_bin" ]; then
  install_missing nginx
  nginx_locate
fi
if [ ! -x "$nginx_bin" ]; then
  echo "bench_streams.sh: nginx is not installed: token latency through nginx skipped" >&2
elif nginx_start "$tmp/nginx" "nginx_h2_port nginx_h1_port" nginx_proxy nginx_ready; then
  nginx_up=1
else
  echo "bench_streams.sh: nginx did not start: token latency through nginx skipped" >&2
  cat "$tmp/nginx/logs/"*.log >&2 2>/dev/null || true
fi

raw_out="$tmp/results.txt"
: > "$raw_out"
echo "== streams from one thread: bench_token_server on 127.0.0.1 (a process of its own), $rounds round(s) =="
[ "$nginx_up" = 1 ] && echo "   nginx $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //') (pid $nginx_pid): h2c on 127.0.0.1:$nginx_h2_port, HTTP/1.1 on 127.0.0.1:$nginx_h1_port, both to the paced token server (127.0.0.1:$port_paced)"
for r in $(seq "$rounds"); do
  order=("${levels[@]}")
  [ $((r % 2)) = 0 ] && order=(10000 1000 100 1)
  for n in "${order[@]}"; do
    line="$(timeout $((120 + n / 50)) "$client" --mode throughput --url "http://127.0.0.1:$port_whole" --streams "$n" \
              --seconds "$seconds" --server-pid "$pid_whole" | grep '^RESULT ' || true)"
    [ -n "$line" ] || { echo "   throughput $n streams: no result" >&2; continue; }
    echo "round=$r $line" >> "$raw_out"
    echo "   $line"
  done
  proto_order=(h1 h2)
  [ $((r % 2)) = 0 ] && proto_order=(h2 h1)
  for proto in "${proto_order[@]}"; do
    for n in "${emulator_levels[@]}"; do
      line="$(timeout $((120 + n / 50)) "$client" --mode throughput --protocol "$proto" --url "$emulator_url" \
                --streams "$n" --seconds "$seconds" --server-pid "$emulator_pid" | grep '^RESULT ' || true)"
      [ -n "$line" ] || { echo "   emulator $proto throughput $n streams: no result" >&2; continue; }
      echo "round=$r peer=emulator proto=$proto $line" >> "$raw_out"
      echo "   emulator $proto: $line"
    done
  done
  # Token latency: "MODE PROTOCOL VIA", straight from the token server and
  # through nginx (raw is HTTP/1.1 only).
  lat_runs=("latency h1 direct" "raw h1 direct")
  [ "$nginx_up" = 1 ] && lat_runs+=("latency h2 nginx" "latency h1 nginx" "raw h1 nginx")
  if [ "$nginx_up" = 1 ]; then
    for w in $h2_windows; do lat_runs+=("latency h2 nginx $w"); done
  fi
  if [ $((r % 2)) = 0 ]; then
    rev=(); for ((i = ${#lat_runs[@]} - 1; i >= 0; i--)); do rev+=("${lat_runs[$i]}"); done
    lat_runs=("${rev[@]}")
  fi
  for run in "${lat_runs[@]}"; do
    read -r m proto via window <<< "$run"
    case "$via" in
      nginx) [ "$proto" = h2 ] && url="http://127.0.0.1:$nginx_h2_port" || url="http://127.0.0.1:$nginx_h1_port" ;;
      *) url="http://127.0.0.1:$port_paced" ;;
    esac
    pflag=(); [ "$m" = raw ] || pflag=(--protocol "$proto")
    [ -z "$window" ] || pflag+=(--h2-stream-window "$window")
    line="$(timeout 60 "$client" --mode "$m" "${pflag[@]}" --url "$url" --seconds "$lat_seconds" \
              | grep '^RESULT ' || true)"
    [ -n "$line" ] || { echo "   $m $proto via $via: no result" >&2; continue; }
    echo "round=$r via=$via proto=$proto window=${window:-default} $line" >> "$raw_out"
    echo "   $via $proto${window:+ window $window}: $line"
  done
done

json="$results/streams.json"
awk -v json="$json" -v edelay="$emulator_delay_ms" -v tpr="$tokens_per_reply" -v iv="$interval_us" -v rounds="$rounds" '
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  if (n == 0) return -1
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key] = (key in vals) ? vals[key] " " v : v }
function put(name, v, fmt) { if (v == "" || v < 0) return; out[++m] = sprintf("  \"%s\": " fmt, name, v) }
{
  delete f
  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  if (f["errors"] > 0) next
  if (f["mode"] == "throughput" && f["tokens"] > 0) {
    n = (f["peer"] == "emulator" ? (f["proto"] == "h2" ? "emulator_h2_" : "emulator_") : "") f["streams"]; seen[n] = 1
    add(n SUBSEP "rate", f["tokens"] / f["seconds"])
    add(n SUBSEP "cpu", (f["user_s"] + f["sys_s"]) * 1e6 / f["tokens"])
    add(n SUBSEP "client", (f["user_s"] + f["sys_s"]) / f["seconds"] * 100)
    if (f["server_cpu_s"] >= 0) add(n SUBSEP "server", f["server_cpu_s"] / f["seconds"] * 100)
  } else if (f["tokens"] > 0) {
    w = (f["mode"] == "raw") ? "raw" : "chatwire"
    if (f["via"] == "nginx") w = (w == "raw") ? "raw_nginx" : w "_" f["proto"] "_nginx"
    if (f["window"] != "default" && f["window"] != "") { w = w "_window_" f["window"]; windowed[w] = 1 }
    add(w SUBSEP "p50", f["p50_us"]); add(w SUBSEP "p90", f["p90_us"]); add(w SUBSEP "p99", f["p99_us"])
  }
}
END {
  put("stream_tokens_per_reply", tpr, "%d"); put("stream_rounds", rounds, "%d"); put("token_interval_us", iv, "%d")
  put("stream_emulator_token_delay_ms", edelay, "%d")
  printf "\n   %-18s %14s %12s %8s %8s  %s\n", "streams", "tokens/s", "cpu ns/token", "client%", "server%", "flags"
  nl = split("1 100 1000 10000 emulator_1 emulator_100 emulator_1000 emulator_10000 " \
             "emulator_h2_1 emulator_h2_100 emulator_h2_1000 emulator_h2_10000", lv, " ")
  for (i = 1; i <= nl; i++) {
    n = lv[i]; if (!(n in seen)) continue
    rate = median(vals[n SUBSEP "rate"]); cpu = median(vals[n SUBSEP "cpu"])
    cl = median(vals[n SUBSEP "client"]); sv = median(vals[n SUBSEP "server"])
    flags = ""
    # Paced by the emulator, the client waits by design: only a saturated server flags those.
    if (cl < 90 && n !~ /^emulator_/) flags = flags sprintf("client %.0f%% of a core; ", cl)
    if (sv > 90) flags = flags sprintf("server saturated (%.0f%%); ", sv)
    sub(/; $/, "", flags)
    put("stream_tokens_per_s_" n, rate, "%.0f"); put("stream_cpu_ns_per_token_" n, cpu * 1000, "%.1f")
    put("stream_client_cpu_percent_" n, cl, "%.1f"); put("stream_server_cpu_percent_" n, sv, "%.1f")
    if (flags != "") out[++m] = sprintf("  \"stream_flag_%s\": \"%s\"", n, flags)
    printf "   %-18s %14.0f %12.1f %8.0f %8.0f  %s\n", n, rate, cpu * 1000, cl, sv, flags
  }
  nw = split("chatwire raw chatwire_h2_nginx chatwire_h1_nginx raw_nginx", whos, " ")
  for (k in windowed) whos[++nw] = k
  for (w = 1; w <= nw; w++) {
    who = whos[w]
    p50 = median(vals[who SUBSEP "p50"]); p90 = median(vals[who SUBSEP "p90"]); p99 = median(vals[who SUBSEP "p99"])
    lat[who] = p99
    put("token_latency_p50_us_" who, p50, "%.1f"); put("token_latency_p90_us_" who, p90, "%.1f")
    put("token_latency_p99_us_" who, p99, "%.1f")
    if (p50 >= 0) printf "   token latency %-17s p50 %7.1f us  p90 %7.1f us  p99 %7.1f us\n", who, p50, p90, p99
  }
  if (lat["chatwire"] > 0 && lat["raw"] > 0) put("token_latency_p99_ratio_to_raw", lat["chatwire"] / lat["raw"], "%.3f")
  h2 = lat["chatwire_h2_nginx"]
  if (h2 > 0 && lat["raw_nginx"] > 0) {
    put("token_latency_p99_h2_ratio_to_raw_nginx", h2 / lat["raw_nginx"], "%.3f")
    printf "   token latency p99 through nginx, chatwire h2 / raw: %.3f\n", h2 / lat["raw_nginx"]
  }
  if (h2 > 0 && lat["chatwire_h1_nginx"] > 0) {
    put("token_latency_p99_h2_ratio_to_h1_nginx", h2 / lat["chatwire_h1_nginx"], "%.3f")
    printf "   token latency p99 through nginx, chatwire h2 / chatwire h1: %.3f\n", h2 / lat["chatwire_h1_nginx"]
  }
  printf "{\n" > json
  for (i = 1; i <= m; i++) printf "%s%s\n", out[i], (i < m ? "," : "") > json
  printf "}\n" > json
}' "$raw_out"
echo "   JSON: $json"
