#!/usr/bin/env bash
# Memory per open stream: bench_stream_memory against `chatwire emulate`, plain
# HTTP, TLS and HTTP/2 over TLS, N PollyBot streams held open at once on one
# client thread.
#   scripts/bench_stream_memory.sh BUILD_DIR [--quick] [--streams N] [-- BENCH_ARGS...]
# BENCH_ARGS go to bench_stream_memory as they are (e.g. --max-opening 2000).
# Writes bench-results/stream_memory.json (flat) and prints a table. Builds
# nothing: needs BUILD_DIR/benchmarks/bench_stream_memory and
# BUILD_DIR/src/cli/chatwire. 127.0.0.1 only; every process it starts is
# stopped by its PID on exit; each run is bounded by --timeout-s.
set -euo pipefail
build_dir="$(cd "$1" && pwd)"; shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
streams=2000; quick=0; bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; streams=500 ;;
    --streams) streams="$2"; shift ;;
    --) shift; bench_args=("$@"); break ;;
    *) echo "usage: $0 BUILD_DIR [--quick] [--streams N] [-- BENCH_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done
bench="$build_dir/benchmarks/bench_stream_memory"
cli="$build_dir/src/cli/chatwire"
for f in "$bench" "$cli"; do
  [ -x "$f" ] || { echo "bench_stream_memory.sh: $f is not built" >&2; exit 1; }
done
delay_ms=200   # the streams stay mid-reply while they are held
timeout_s=$(( 60 + streams / 20 ))

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # the emulator holds a socket per stream too

. "$here/scripts/lib/emulator.sh"

declare -A fig
# plain and tls: HTTP/1.1, a connection per stream; h2: HTTP/2 over TLS,
# streams multiplexed (100 a connection).
modes=(plain tls h2)
for mode in "${modes[@]}"; do
  case "$mode" in
    plain) flags=(--plain --http2 off) ;;
    tls) flags=(--cert-out "$work/cert.pem" --http2 off) ;;
    h2) flags=(--cert-out "$work/cert.pem" --http2 on) ;;
  esac
  emulator_start "$cli" "$work/emulate-$mode.out" "${flags[@]}" --token-delay-ms "$delay_ms" \
    --max-connections $(( streams + 100 )) || exit 1
  args=(--url "$emulator_url" --streams "$streams" --timeout-s "$timeout_s")
  [ "$mode" != plain ] && args+=(--ca "$work/cert.pem")
  args+=("${bench_args[@]}")
  if ! "$bench" "${args[@]}" > "$work/$mode.txt"; then
    # Keep what it measured (the streams it opened) and go on to the next mode.
    echo "bench_stream_memory.sh: the $mode run failed" >&2
    failed_modes="${failed_modes:-}$mode "
  fi
  while read -r k v; do fig["${mode}_$k"]="$v"; done < "$work/$mode.txt"
  emulator_stop
done

results="${CHATWIRE_BENCH_RESULTS:-$here/bench-results}"
mkdir -p "$results"
json="$results/stream_memory.json"
{
  printf '{\n'
  printf '  "streams": %s,\n' "$streams"
  printf '  "token_delay_ms": %s,\n' "$delay_ms"
  printf '  "memory_kib_per_stream_plain": %s,\n' "${fig[plain_rss_kib_per_stream]:-null}"
  printf '  "memory_kib_per_stream_tls": %s,\n' "${fig[tls_rss_kib_per_stream]:-null}"
  printf '  "memory_kib_per_stream_h2": %s,\n' "${fig[h2_rss_kib_per_stream]:-null}"
  for mode in "${modes[@]}"; do
    for k in heap_kib_per_stream peak_rss_kib_per_stream baseline_rss_kib held_rss_kib peak_rss_kib \
             baseline_heap_kib held_heap_kib opened finished failed open_ms total_ms connections_opened; do
      printf '  "%s_%s": %s,\n' "$k" "$mode" "${fig[${mode}_$k]:-null}"
    done
  done
  printf '  "failed_modes": "%s",\n' "${failed_modes:-}"
  printf '  "commit": "%s",\n' "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf '  "quick": %s\n' "$([ "$quick" = 1 ] && echo true || echo false)"
  printf '}\n'
} > "$json"

echo "memory per open stream: $streams PollyBot streams held open at once (one client thread, 127.0.0.1)"
printf '%-6s %14s %15s %15s %12s %12s %9s %7s\n' mode "RSS KiB/strm" "heap KiB/strm" "peak RSS/strm" "base RSS KiB" "held RSS KiB" "open ms" "conns"
for mode in "${modes[@]}"; do
  printf '%-6s %14s %15s %15s %12s %12s %9s %7s\n' "$mode" "${fig[${mode}_rss_kib_per_stream]}" \
    "${fig[${mode}_heap_kib_per_stream]}" "${fig[${mode}_peak_rss_kib_per_stream]}" \
    "${fig[${mode}_baseline_rss_kib]}" "${fig[${mode}_held_rss_kib]}" "${fig[${mode}_open_ms]}" \
    "${fig[${mode}_connections_opened]:-?}"
done
echo "JSON: $json"
