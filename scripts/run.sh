#!/usr/bin/env bash
# One entry point: installs what is missing, builds (Release, Ninja, build/),
# then runs the chosen job.
#   scripts/run.sh demo    the main job: builds only the library and the CLI
#   scripts/run.sh test    builds the rest (tests, examples, benchmarks) and
#                          runs the whole test suite (ctest)
#   scripts/run.sh test --sanitize=address,undefined|thread
#                          the suite under sanitizers, in build-asan/ or build-tsan/
#   scripts/run.sh test --busy[=N]
#                          the tests on a deliberately slowed machine: N busy
#                          loops (default one per core) run beside them
#                          (scripts/busy.sh); combines with --sanitize
#   scripts/run.sh bench   the benchmark suite
#   scripts/run.sh docs    the API reference (Doxygen) in build/docs/html; a
#                          public name without documentation fails it
#   scripts/run.sh build   install and build only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

job="${1:-demo}"
shift || true
build_dir="${CHATWIRE_BUILD_DIR:-build}"
cmake_args=(-DCMAKE_BUILD_TYPE=Release)

# test --sanitize=...: an instrumented build of its own (scripts/sanitize.sh).
# test --busy[=N]: ctest runs under scripts/busy.sh (the build does not).
sanitize=""
test_runner=()
# Most tests spend their time waiting on sockets and timers, not on a core:
# ctest runs two per core (CHATWIRE_TEST_JOBS overrides; the sanitizer pass
# runs one per core, scripts/sanitize.sh).
test_jobs="${CHATWIRE_TEST_JOBS:-$(( $(nproc) * 2 ))}"
if [ "$job" = test ]; then
  rest=()
  for a in "$@"; do
    case "$a" in
      --sanitize=*) sanitize="${a#--sanitize=}" ;;
      --busy) test_runner=(scripts/busy.sh) ;;
      --busy=*) test_runner=(scripts/busy.sh --loops "${a#--busy=}") ;;
      *) rest+=("$a") ;;
    esac
  done
  set -- ${rest[@]+"${rest[@]}"}
  if [ -n "$sanitize" ]; then
    . scripts/sanitize.sh
    sanitize_setup "$sanitize"
  fi
fi

# What the library and the CLI need (all a first demo installs); the test
# suite and the benchmarks add theirs.
packages=(
  cmake ninja-build g++ pkg-config ca-certificates openssl libssl-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-program-options1.81-dev libc-ares-dev libnghttp2-dev
)
case "$job" in
  demo) ;;
  docs) packages=(doxygen) ;;
  *) packages+=(libboost-test1.81-dev libbenchmark-dev curl nghttp2-client nginx) ;;
esac
case "$job" in
  bench) packages+=(wrk libcurl4-openssl-dev curl nodejs nginx valgrind python3-aiohttp gnuplot-nox) ;;
esac

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "run.sh: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# demo: a fresh build directory is configured without the tests, examples
# and benchmarks, and only the CLI (and the library under it) is built. Any
# other job configures everything (turning the parts a demo left out back on)
# and builds it all.
configure_and_build() {
  local jobs="${CHATWIRE_JOBS:-$(nproc)}"
  if [ "$job" = demo ]; then
    [ -f "$build_dir/build.ninja" ] ||
      cmake -S . -B "$build_dir" -G Ninja -DCHATWIRE_BUILD_TESTS=OFF -DCHATWIRE_BUILD_EXAMPLES=OFF \
        -DCHATWIRE_BUILD_BENCHMARKS=OFF "${cmake_args[@]}"
    cmake --build "$build_dir" -j "$jobs" --target chatwire_cli
    return
  fi
  if [ ! -f "$build_dir/build.ninja" ] || grep -q '^CHATWIRE_BUILD_TESTS:BOOL=OFF' "$build_dir/CMakeCache.txt"; then
    cmake -S . -B "$build_dir" -G Ninja -DCHATWIRE_BUILD_TESTS=ON -DCHATWIRE_BUILD_EXAMPLES=ON \
      -DCHATWIRE_BUILD_BENCHMARKS=ON "${cmake_args[@]}"
  fi
  cmake --build "$build_dir" -j "$jobs"
}

install_missing "${packages[@]}"
# scripts/run.sh fuzz [SECONDS]: the libFuzzer targets, in their own Clang
# build (build-fuzz/); scripts/fuzz.sh installs Clang and libFuzzer if needed.
[ "$job" = fuzz ] && exec scripts/fuzz.sh "$@"
# scripts/run.sh docs: no build, only the headers through Doxygen.
if [ "$job" = docs ]; then
  out="$build_dir/docs"
  mkdir -p "$out"
  version="$(sed -n 's/^project(chatwire VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
  rc=0
  CHATWIRE_DOCS_OUT="$out" CHATWIRE_VERSION="$version" doxygen docs/Doxyfile || rc=$?
  if [ -s "$out/warnings.log" ]; then
    cat "$out/warnings.log" >&2
    echo "run.sh: docs: $(wc -l <"$out/warnings.log") warning line(s), see above" >&2
    exit 1
  fi
  [ "$rc" -eq 0 ] || exit "$rc"
  echo "run.sh: API reference in $out/html/index.html"
  exit 0
fi
configure_and_build

case "$job" in
  build) ;;
  test)
    [ -z "$sanitize" ] || { sanitize_test "$@"; exit; }
    ${test_runner[@]+"${test_runner[@]}"} ctest --test-dir "$build_dir" --output-on-failure -j "$test_jobs" "$@"
    ;;
  demo)
    exec scripts/demo.sh "$build_dir"
    ;;
  bench)
    exec scripts/bench.sh "$build_dir" "$@"
    ;;
  *)
    echo "usage: scripts/run.sh demo|test|bench|build|docs|fuzz" >&2
    exit 2
    ;;
esac
