#!/usr/bin/env bash
# Builds the libFuzzer targets with Clang in their own build directory and runs
# each one for a while from a fresh copy of its seed corpus.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# SECONDS per target (default 60); all targets unless some are named.
# Environment: CHATWIRE_FUZZ_BUILD_DIR (default build-fuzz), CHATWIRE_FUZZ_RUNS
# (stop each target after this many executions as well), CHATWIRE_FUZZ_RSS_MB
# (default 2048), CHATWIRE_FUZZ_WORK (where corpora and findings go; default a
# new directory under ${TMPDIR:-/tmp}), CHATWIRE_JOBS (build parallelism).
# Exits non-zero when a target finds something; its reproducer is kept in the
# work directory and the command to replay it is printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
shift || true
case "$seconds" in
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
all_targets=(fuzz_sse fuzz_jsonl fuzz_mappers fuzz_reply fuzz_url fuzz_http_response fuzz_h2_client)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

build_dir="${CHATWIRE_FUZZ_BUILD_DIR:-build-fuzz}"
rss_mb="${CHATWIRE_FUZZ_RSS_MB:-2048}"
work="${CHATWIRE_FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/chatwire-fuzz.XXXXXX")}"
mkdir -p "$work"

clang=clang++
if ! command -v "$clang" >/dev/null; then clang=clang++-14; fi
if ! command -v "$clang" >/dev/null || ! echo 'int main(){}' | "$clang" -x c++ -fsanitize=fuzzer-no-link -c -o /dev/null - 2>/dev/null ||
   [ -z "$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer-x86_64.a' -o -name 'libclang_rt.fuzzer-aarch64.a' 2>/dev/null | head -n1)" ]; then
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev
  command -v clang++ >/dev/null || clang=clang++-14
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$clang" \
    -DCHATWIRE_FUZZ=ON -DCHATWIRE_BUILD_BENCHMARKS=OFF -DCHATWIRE_BUILD_EXAMPLES=OFF
fi
cmake --build "$build_dir" -j "${CHATWIRE_JOBS:-$(nproc)}" --target "${targets[@]}"

extra=()
[ -z "${CHATWIRE_FUZZ_RUNS:-}" ] || extra+=("-runs=$CHATWIRE_FUZZ_RUNS")

failed=()
printf '%-20s %12s %10s %8s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
  seeds="test/fuzz/corpus/$t"
  corpus="$work/$t/corpus"
  artifacts="$work/$t/findings"
  rm -rf "${work:?}/$t"
  mkdir -p "$corpus" "$artifacts"
  [ -d "$seeds" ] && cp -r "$seeds/." "$corpus/"
  log="$work/$t/fuzz.log"
  status=0
  "$build_dir/test/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${extra[@]}" "$corpus" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  size=$(find "$corpus" -type f | wc -l)
  findings=$(find "$artifacts" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$findings" -gt 0 ]; then
    result="FINDING (exit $status): $(find "$artifacts" -type f | head -n1)"
    failed+=("$t")
  else
    result="ok"
  fi
  printf '%-20s %12s %10s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "$size" "$result"
  if [ "$status" -ne 0 ]; then
    grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|deadly signal|out-of-memory|timeout' "$log" >&2 || tail -n 20 "$log" >&2
    for f in "$artifacts"/*; do
      [ -f "$f" ] && echo "  replay: $build_dir/test/fuzz/$t $f" >&2
    done
  fi
done
echo "fuzz.sh: logs, corpora and findings in $work"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in ${failed[*]}" >&2
  exit 1
fi
