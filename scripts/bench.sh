#!/usr/bin/env bash
# The benchmark suite, run by `scripts/run.sh bench [--quick]` after the
# build. Every benchmark runs on this machine only (127.0.0.1 for anything
# networked) and is bounded in count and time.
#   1. bench_decode: the streaming decoders (Google Benchmark), and
#      bench_stream: client CPU per chat_stream event over loopback.
#   2. bench_request: the cost of one keep-alive request against nginx
#      (scripts/bench_request.sh; a bare Beast loop, chatwire, libcurl,
#      aiohttp, Node's fetch, wrk) and the TLS handshake figures.
#   3. bench_stream_memory: streams held at once over TLS, memory per stream.
#   4. bench_streams: tokens/s across 1 to 10,000 streams, token latency.
#   5. bench_retry: retry amplification under a 429 storm.
#   6. (full run only) bench_http, wrk and the ChatBotKit Node SDK against
#      `chatwire emulate`, chatwire vs each peer end to end.
# Then scripts/bench_results.py: bench-results/results.json (every figure,
# the machine and the recipe), the table with aims and flags, PNG plots.
#   scripts/bench.sh BUILD_DIR [--quick] [bench_decode arguments...]
# CHATWIRE_BENCH_QUICK=1 is the same as --quick (at most 5 minutes).
set -euo pipefail
build_dir="$(cd "$1" && pwd)"; shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick="${CHATWIRE_BENCH_QUICK:-0}"
decode_args=()
for a in "$@"; do
  case "$a" in --quick) quick=1 ;; *) decode_args+=("$a") ;; esac
done
set -- ${decode_args[@]+"${decode_args[@]}"}
results="${CHATWIRE_BENCH_RESULTS:-$here/bench-results}"
export CHATWIRE_BENCH_RESULTS="$results"
mkdir -p "$results"
echo '*' > "$results/.gitignore"
rm -f "$results"/{decode,stream_events,request_cost,tls_handshake,stream_memory,streams,retry,results}.json
suite_start="$(date +%s.%N)"
quick_arg=(); [ "$quick" = 1 ] && quick_arg=(--quick)
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# gnuplot draws the plots: installed from Debian when missing (as root).
if ! command -v gnuplot >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  echo "bench.sh: installing gnuplot-nox" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >&2 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >&2; } || true
fi

elapsed() { awk -v a="$suite_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f s", b - a }'; }
echo "== decoders and mappers (Google Benchmark) =="
if [ "$quick" = 1 ]; then
  "$build_dir/benchmarks/bench_decode" --benchmark_min_time=0.05 \
    --benchmark_out="$results/decode.json" --benchmark_out_format=json "$@"
else
  "$build_dir/benchmarks/bench_decode" --benchmark_min_time=0.2 \
    --benchmark_out="$results/decode.json" --benchmark_out_format=json "$@"
fi

echo
echo "== ($(elapsed)) token events through chat_stream (Google Benchmark; CPU is the client thread's) =="
if [ "$quick" = 1 ]; then
  # quick: the documented loop only (await_event_us), chunked and not
  "$build_dir/benchmarks/bench_stream" --benchmark_min_time=0.05 --benchmark_filter=next_awaitable \
    --benchmark_out="$results/stream_events.json" --benchmark_out_format=json
else
  "$build_dir/benchmarks/bench_stream" --benchmark_min_time=0.3 \
    --benchmark_out="$results/stream_events.json" --benchmark_out_format=json
fi

if [ -x "$build_dir/benchmarks/bench_request" ]; then
  echo
  echo "== ($(elapsed)) the cost of one keep-alive request against nginx (bench_request) =="
  "$here/scripts/bench_request.sh" "$build_dir" "${quick_arg[@]}" || echo "bench_request.sh failed ($?)" >&2
fi

if [ -x "$build_dir/benchmarks/bench_stream_memory" ] && [ -x "$build_dir/src/cli/chatwire" ]; then
  echo
  echo "== ($(elapsed)) memory per open stream (bench_stream_memory) =="
  memory_args=(--streams 10000)  # the aim: 10,000 streams held by one thread over TLS
  [ "$quick" = 1 ] && memory_args=(--quick)
  "$here/scripts/bench_stream_memory.sh" "$build_dir" "${memory_args[@]}" || echo "bench_stream_memory.sh failed ($?)" >&2
fi

if [ -x "$build_dir/benchmarks/bench_stream_fanout" ] && [ -x "$build_dir/benchmarks/bench_token_server" ]; then
  echo
  echo "   ($(elapsed) into the suite)"
  "$here/scripts/bench_streams.sh" "$build_dir" "${quick_arg[@]}" || echo "bench_streams.sh failed ($?)" >&2
fi

if [ -x "$build_dir/benchmarks/bench_retry" ] && [ -x "$build_dir/src/cli/chatwire" ]; then
  echo
  echo "   ($(elapsed) into the suite)"
  "$here/scripts/bench_retry.sh" "$build_dir" "${quick_arg[@]}" || echo "bench_retry.sh failed ($?)" >&2
fi

results_table() {
  local now; now="$(date +%s.%N)"
  "$python" "$here/scripts/bench_results.py" "$build_dir" "$results" "${quick_arg[@]}" \
    --seconds "$(awk -v a="$suite_start" -v b="$now" 'BEGIN { print b - a }')"
}
if [ "$quick" = 1 ]; then  # the end-to-end comparison against the emulator is for the full run
  results_table
  exit 0
fi

bench_http="$build_dir/benchmarks/bench_http"
cli="$build_dir/src/cli/chatwire"
if [ ! -x "$bench_http" ] || [ ! -x "$cli" ]; then
  echo "== end to end: skipped (bench_http needs libcurl; the chatwire CLI must be built) =="
  results_table
  exit 0
fi

work="$build_dir/bench-e2e"
mkdir -p "$work"
csv="$work/results.csv"
rm -f "$csv"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

. "$here/scripts/lib/emulator.sh"
emulator_start "$cli" "$work/emulate-plain.out" --plain || exit 1
plain_url="$emulator_url"
emulator_start "$cli" "$work/emulate-tls.out" --cert-out "$work/emulator-cert.pem" || exit 1
tls_url="$emulator_url"
cert="$work/emulator-cert.pem"
reset() {
  curl -sf -X POST --cacert "$cert" -H "$emulator_admin_header" -H 'Content-Type: application/json' -d '{}' \
    "$1/_emulator/reset" -o /dev/null || true
}

echo
echo "== end to end: chatwire vs libcurl (emulator: $plain_url, $tls_url) =="
http_args=(--plain-url "$plain_url" --tls-url "$tls_url" --ca "$cert" --csv "$csv")
[ "$quick" = 1 ] && http_args+=(--quick)
CHATWIRE_EMULATOR_ADMIN_TOKEN="$emulator_admin_token" "$bench_http" "${http_args[@]}"

wrk_seconds=3; node_count=400; node_seconds=1.5
[ "$quick" = 1 ] && { wrk_seconds=1; node_count=100; node_seconds=0.5; }

if command -v wrk >/dev/null 2>&1; then
  echo
  echo "== wrk (one thread, same request): the ceiling of the emulator =="
  for t in plain tls; do
    base="$plain_url"; [ "$t" = tls ] && base="$tls_url"
    for c in 1 32; do
      reset "$base"
      line=$(wrk -t1 -c"$c" -d"${wrk_seconds}s" -s "$here/benchmarks/wrk_pollybot.lua" \
               "$base/api/v1/chatbots/bench/chat" | grep '^WRK ' || true)
      [ -n "$line" ] || { echo "wrk $t c=$c: no result"; continue; }
      read -r _ reqs dur errs p50 p99 <<< "$line"
      awk -v t="$t" -v c="$c" -v n="$reqs" -v d="$dur" -v e="$errs" -v p50="$p50" -v p99="$p99" 'BEGIN {
        s = d / 1e6; printf "http,%s,%d,wrk,%d,%d,%.1f,%d,%d,0,0,0\n", t, c, n, e, n / s, p50, p99 }' >> "$csv"
      echo "wrk $t c=$c: $line"
    done
  done
  reset "$plain_url"; reset "$tls_url"
else
  echo "== wrk: not installed, skipped =="
fi

sdk="$build_dir/interop/node_modules"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if [ ! -d "$sdk/@chatbotkit/sdk" ]; then  # the same install as the interop test
    mkdir -p "$build_dir/interop"
    [ -f "$build_dir/interop/package.json" ] || echo '{"name":"chatwire-interop","private":true}' > "$build_dir/interop/package.json"
    (cd "$build_dir/interop" && npm install --no-audit --no-fund --loglevel=error "@chatbotkit/sdk@^1") >&2 || true
  fi
fi
if [ -d "$sdk/@chatbotkit/sdk" ]; then
  echo
  echo "== the official ChatBotKit Node SDK (8 at a time, one conversation each) =="
  for t in plain tls; do
    base="$plain_url"; [ "$t" = tls ] && base="$tls_url"
    out=$(NODE_EXTRA_CA_CERTS="$cert" CBK_NODE_MODULES="$sdk" CHATWIRE_EMULATOR_ADMIN_TOKEN="$emulator_admin_token" \
          node "$here/benchmarks/node_sdk_bench.mjs" "$base" "$node_count" 8 "$node_seconds" || true)
    echo "$out" | sed "s/^/$t: /"
    echo "$out" | awk -v t="$t" '$1 == "NODE" {
      section = ($2 == "json") ? "whole" : "stream"; name = ($2 == "json") ? "cbk-json-" t : "cbk-jsonl-" t
      printf "%s,%s,8,node-sdk,%d,%d,%.1f,%d,%d,0,0,%.1f\n", section, name, $3, $5, $3 / $4, $6, $7, $8 / $4 }' >> "$csv"
  done
else
  echo "== ChatBotKit Node SDK: node/npm or the package missing, skipped =="
fi

echo
echo "== summary: chatwire vs each peer, this run (loopback; figures depend on this machine's load) =="
echo "   ratio = chatwire ops/s / peer ops/s (>1: chatwire faster); p50 in microseconds"
awk -F, 'NR > 1 {
  key = $1 "," $2 "," $3
  if (!(key in seen)) { seen[key] = 1; order[++n] = key }
  rate[key "," $4] = $7; p50[key "," $4] = $8; cpu[key "," $4] = $10
  if ($4 != "chatwire") peers[key] = peers[key] " " $4
}
END {
  printf "%-7s %-16s %4s %11s %8s %-9s %11s %8s %7s %9s\n", "section", "case", "conc", "chatwire/s", "p50", "peer", "peer/s", "p50", "ratio", "cpu ratio"
  for (i = 1; i <= n; i++) {
    key = order[i]; split(key, k, ",")
    np = split(peers[key], list, " ")
    for (j = 1; j <= np; j++) {
      pk = key "," list[j]; ck = key ",chatwire"
      ratio = rate[pk] > 0 ? rate[ck] / rate[pk] : 0
      cr = (cpu[ck] > 0 && cpu[pk] > 0) ? sprintf("%.2f", cpu[pk] / cpu[ck]) : "-"
      printf "%-7s %-16s %4s %11.0f %8.0f %-9s %11.0f %8.0f %7.2f %9s\n", k[1], k[2], k[3], rate[ck], p50[ck], list[j], rate[pk], p50[pk], ratio, cr
    }
  }
}' "$csv"
echo "   cpu ratio = peer client CPU per op / chatwire's (libcurl only; >1: chatwire cheaper)."
echo "   stream/whole: libcurl reads raw bytes without parsing; chatwire and the Node SDK parse every event."
echo "   wrk is the emulator's ceiling: chatwire/wrk is the share of it that chatwire reaches."
echo "   CSV: $csv"

results_table
