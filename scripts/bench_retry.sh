#!/usr/bin/env bash
# Retry amplification under a 100% 429 storm: `chatwire emulate` (plain,
# 127.0.0.1) with one fault rule answering every PollyBot request 429 with
# "Retry-After: 0" (the worst storm: the server says to retry at once), and
# bench_retry making N calls through one chat_client (default retry policy and
# budget; backoff capped at 2 ms so the run is short). The attempts are
# counted by the emulator (the rule's hits) and by the client's attempt
# observer; retry_amplification = the emulator's count ÷ calls.
#   scripts/bench_retry.sh BUILD_DIR [--quick]
# Writes bench-results/retry.json (CHATWIRE_BENCH_RESULTS overrides the
# directory). Builds nothing; stops the emulator by its PID on exit.
set -euo pipefail
build_dir="$(cd "$1" && pwd)"; shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
calls=10000
for a in "$@"; do
  case "$a" in --quick) calls=2000 ;; *) echo "usage: $0 BUILD_DIR [--quick]" >&2; exit 2 ;; esac
done
bench="$build_dir/benchmarks/bench_retry"
cli="$build_dir/src/cli/chatwire"
for f in "$bench" "$cli"; do
  [ -x "$f" ] || { echo "bench_retry.sh: $f is not built" >&2; exit 1; }
done
results="${CHATWIRE_BENCH_RESULTS:-$here/bench-results}"
mkdir -p "$results"
echo '*' > "$results/.gitignore"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench_retry.XXXXXX")"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo '[{"api":"pollybot","kind":"status","status":429,"retry_after":0}]' > "$tmp/storm.json"
. "$here/scripts/lib/emulator.sh"
emulator_start "$cli" "$tmp/emulate.out" --plain --faults "$tmp/storm.json" || exit 1
url="$emulator_url"

echo "== retry amplification: $calls calls, 10 at a time, every request answered 429 ($url) =="
line="$(timeout 180 "$bench" --url "$url" --calls "$calls" --conc 10 --delay-ms 2 --timeout-s 150 | grep '^RESULT ' || true)"
[ -n "$line" ] || { echo "bench_retry.sh: no result" >&2; exit 1; }
hits="$(curl -sf -H "$emulator_admin_header" "$url/_emulator/faults" | /usr/bin/python3 -c 'import json,sys; print(sum(r["hits"] for r in json.load(sys.stdin)))')"
echo "   $line emulator_hits=$hits"
awk -v json="$results/retry.json" -v hits="$hits" '{
  for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  printf "{\n  \"retry_amplification\": %.4f,\n  \"retry_amplification_client_count\": %.4f,\n", hits / f["calls"], f["attempts"] / f["calls"] > json
  printf "  \"retry_calls\": %d,\n  \"retry_attempts_emulator\": %d,\n  \"retry_attempts_client\": %d,\n", f["calls"], hits, f["attempts"] > json
  printf "  \"retry_budget_refusals\": %d,\n  \"retry_seconds\": %.3f\n}\n", f["budget_refusals"], f["seconds"] > json
  printf "   retry_amplification %.3f (attempts the emulator saw / calls; the client counted %.3f)\n", hits / f["calls"], f["attempts"] / f["calls"]
}' <<< "$line"
echo "   JSON: $results/retry.json"
