#!/usr/bin/env bash
# A smoke test of the suite's own programs (ctest: bench_smoke): each runs
# briefly and must report what it measured, without errors. It asserts no
# speed. 127.0.0.1 only; every process it starts is stopped by its PID.
#   - bench_stream_fanout against bench_token_server: throughput with 20
#     streams, latency (chatwire) and raw: tokens delivered, no errors;
#   - bench_retry against `chatwire emulate` with a 429 storm: every call
#     fails, the attempts the client counted equal the emulator's count, and
#     the budget held them between 1 and 1.5 a call;
#   - bench_results.py turns what they wrote into results.json with the keys.
#   scripts/bench_smoke.sh BUILD_DIR
set -euo pipefail
build_dir="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$build_dir/benchmarks"
cli="$build_dir/src/cli/chatwire"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench_smoke.XXXXXX")"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "bench_smoke: $*" >&2; exit 1; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }
wait_line() {  # $1 file, $2 sed expression: prints the match once it appears
  local v=""
  for _ in $(seq 100); do
    v="$(sed -n "$2" "$1")"
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.05
  done
  return 1
}

"$bin/bench_token_server" --tokens 50 --max-seconds 60 > "$tmp/whole.out" 2>&1 &
pids+=($!)
"$bin/bench_token_server" --tokens 20 --interval-us 2000 --max-seconds 60 > "$tmp/paced.out" 2>&1 &
pids+=($!)
whole="$(wait_line "$tmp/whole.out" 's/^listening on //p')" || fail "token server did not start"
paced="$(wait_line "$tmp/paced.out" 's/^listening on //p')" || fail "paced token server did not start"

line="$(timeout 60 "$bin/bench_stream_fanout" --mode throughput --url "http://127.0.0.1:$whole" --streams 20 --seconds 0.2 | grep '^RESULT ')"
echo "$line"
[ "$(field errors "$line")" = 0 ] || fail "throughput: errors"
[ "$(field tokens "$line")" -gt 0 ] || fail "throughput: no tokens"
[ $(( $(field tokens "$line") % 50 )) = 0 ] || fail "throughput: a reply lost tokens"
for m in latency raw; do
  line="$(timeout 60 "$bin/bench_stream_fanout" --mode "$m" --url "http://127.0.0.1:$paced" --seconds 0.3 | grep '^RESULT ')"
  echo "$line"
  [ "$(field errors "$line")" = 0 ] || fail "$m: errors"
  [ "$(field tokens "$line")" -gt 0 ] || fail "$m: no tokens"
  awk -v p="$(field p50_us "$line")" 'BEGIN { exit !(p > 0) }' || fail "$m: no latency"
done

echo '[{"api":"pollybot","kind":"status","status":429,"retry_after":0}]' > "$tmp/storm.json"
. "$here/scripts/lib/emulator.sh"
emulator_start "$cli" "$tmp/emulate.out" --plain --faults "$tmp/storm.json" || fail "emulator did not start"
url="$emulator_url"
line="$(timeout 60 "$bin/bench_retry" --url "$url" --calls 300 --conc 5 --delay-ms 1 --timeout-s 50 | grep '^RESULT ')"
echo "$line"
hits="$(curl -sf -H "$emulator_admin_header" "$url/_emulator/faults" | sed -n 's/.*"hits":\([0-9]*\).*/\1/p')"
[ "$(field calls "$line")" = 300 ] && [ "$(field failed "$line")" = 300 ] || fail "retry: every call must fail"
[ "$(field unexpected "$line")" = 0 ] || fail "retry: unexpected errors"
[ "$(field attempts "$line")" = "$hits" ] || fail "retry: the client counted $(field attempts "$line"), the emulator $hits"
[ "$hits" -gt 300 ] && [ "$hits" -le 450 ] || fail "retry: $hits attempts for 300 calls"

printf '{"retry_amplification": %s}\n' "$(awk -v h="$hits" 'BEGIN { print h / 300 }')" > "$tmp/retry.json"
/usr/bin/python3 "$here/scripts/bench_results.py" "$build_dir" "$tmp" > "$tmp/results.txt" ||
  fail "bench_results.py failed"
grep -q '"retry_amplification"' "$tmp/results.json" && grep -q '"machine"' "$tmp/results.json" &&
  grep -q '"recipe"' "$tmp/results.json" || fail "results.json lacks its keys"
echo "bench_smoke: ok"
