#!/usr/bin/env bash
# Streams from one client thread against bench_token_server, the minimal
# streaming server written for the suite (127.0.0.1, a process of its own):
#   - tokens/s delivered to user code across 1, 100, 1,000 and 10,000
#     concurrent chat_client streams (PollyBot SSE, 200-token replies written
#     at once, each stream asking for its next reply when one ends);
#   - the same against `chatwire emulate` with paced tokens (one event a
#     millisecond per stream, `--token-delay-ms 1`), 1, 100 and 1,000 streams
#     (and 10,000 in the full run): keys stream_tokens_per_s_emulator_<n>;
#   - the latency a token gains between the server's write and user code,
#     p50 and p99, for chatwire (`co_await stream.next()`) and for a raw
#     blocking-socket reader (paced: one token a millisecond, one stream).
#   scripts/bench_streams.sh BUILD_DIR [--quick]
# Writes bench-results/streams.json (CHATWIRE_BENCH_RESULTS overrides the
# directory) and prints a table. Builds nothing. Every process it starts is
# stopped by its PID on exit; every run is bounded in time.
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
emulator_start "$cli" "$tmp/emulate.out" --plain --token-delay-ms "$emulator_delay_ms" \
  --max-connections $(( ${emulator_levels[-1]} + 100 )) --max-conversations $(( ${emulator_levels[-1]} * 2 )) || exit 1

raw_out="$tmp/results.txt"
: > "$raw_out"
echo "== streams from one thread: bench_token_server on 127.0.0.1 (a process of its own), $rounds round(s) =="
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
  for n in "${emulator_levels[@]}"; do
    line="$(timeout $((120 + n / 50)) "$client" --mode throughput --url "$emulator_url" --streams "$n" \
              --seconds "$seconds" --server-pid "$emulator_pid" | grep '^RESULT ' || true)"
    [ -n "$line" ] || { echo "   emulator throughput $n streams: no result" >&2; continue; }
    echo "round=$r peer=emulator $line" >> "$raw_out"
    echo "   emulator: $line"
  done
  lat_order=(latency raw)
  [ $((r % 2)) = 0 ] && lat_order=(raw latency)
  for m in "${lat_order[@]}"; do
    line="$(timeout 60 "$client" --mode "$m" --url "http://127.0.0.1:$port_paced" --seconds "$lat_seconds" \
              | grep '^RESULT ' || true)"
    [ -n "$line" ] || { echo "   $m: no result" >&2; continue; }
    echo "round=$r $line" >> "$raw_out"
    echo "   $line"
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
    n = (f["peer"] == "emulator" ? "emulator_" : "") f["streams"]; seen[n] = 1
    add(n SUBSEP "rate", f["tokens"] / f["seconds"])
    add(n SUBSEP "cpu", (f["user_s"] + f["sys_s"]) * 1e6 / f["tokens"])
    add(n SUBSEP "client", (f["user_s"] + f["sys_s"]) / f["seconds"] * 100)
    if (f["server_cpu_s"] >= 0) add(n SUBSEP "server", f["server_cpu_s"] / f["seconds"] * 100)
  } else if (f["tokens"] > 0) {
    w = (f["mode"] == "raw") ? "raw" : "chatwire"
    add(w SUBSEP "p50", f["p50_us"]); add(w SUBSEP "p90", f["p90_us"]); add(w SUBSEP "p99", f["p99_us"])
  }
}
END {
  put("stream_tokens_per_reply", tpr, "%d"); put("stream_rounds", rounds, "%d"); put("token_interval_us", iv, "%d")
  put("stream_emulator_token_delay_ms", edelay, "%d")
  printf "\n   %-15s %14s %12s %8s %8s  %s\n", "streams", "tokens/s", "cpu ns/token", "client%", "server%", "flags"
  nl = split("1 100 1000 10000 emulator_1 emulator_100 emulator_1000 emulator_10000", lv, " ")
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
    printf "   %-15s %14.0f %12.1f %8.0f %8.0f  %s\n", n, rate, cpu * 1000, cl, sv, flags
  }
  for (w = 1; w <= 2; w++) {
    who = (w == 1) ? "chatwire" : "raw"
    p50 = median(vals[who SUBSEP "p50"]); p90 = median(vals[who SUBSEP "p90"]); p99 = median(vals[who SUBSEP "p99"])
    lat[who] = p99
    put("token_latency_p50_us_" who, p50, "%.1f"); put("token_latency_p90_us_" who, p90, "%.1f")
    put("token_latency_p99_us_" who, p99, "%.1f")
    if (p50 >= 0) printf "   token latency %-8s p50 %7.1f us  p90 %7.1f us  p99 %7.1f us\n", who, p50, p90, p99
  }
  if (lat["chatwire"] > 0 && lat["raw"] > 0) put("token_latency_p99_ratio_to_raw", lat["chatwire"] / lat["raw"], "%.3f")
  printf "{\n" > json
  for (i = 1; i <= m; i++) printf "%s%s\n", out[i], (i < m ? "," : "") > json
  printf "}\n" > json
}' "$raw_out"
echo "   JSON: $json"
