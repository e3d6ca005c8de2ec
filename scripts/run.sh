#!/usr/bin/env bash
# One entry point: installs what is missing, builds (Release, Ninja, build/),
# then runs the chosen job.
#   scripts/run.sh demo    the main job
#   scripts/run.sh test    the whole test suite (ctest)
#   scripts/run.sh test --sanitize=address,undefined|thread
#                          the suite under sanitizers, in build-asan/ or build-tsan/
#   scripts/run.sh bench   the benchmark suite
#   scripts/run.sh build   install and build only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

job="${1:-demo}"
shift || true
build_dir="${CHATWIRE_BUILD_DIR:-build}"
cmake_args=(-DCMAKE_BUILD_TYPE=Release)

# test --sanitize=...: an instrumented build of its own (scripts/sanitize.sh).
sanitize=""
if [ "$job" = test ]; then
  rest=()
  for a in "$@"; do
    case "$a" in --sanitize=*) sanitize="${a#--sanitize=}" ;; *) rest+=("$a") ;; esac
  done
  set -- ${rest[@]+"${rest[@]}"}
  if [ -n "$sanitize" ]; then
    . scripts/sanitize.sh
    sanitize_setup "$sanitize"
  fi
fi

packages=(
  cmake ninja-build g++ pkg-config ca-certificates openssl libssl-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-test1.81-dev libboost-program-options1.81-dev
  libbenchmark-dev
)
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

configure_and_build() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}"
  fi
  cmake --build "$build_dir" -j "${CHATWIRE_JOBS:-$(nproc)}"
}

install_missing "${packages[@]}"
# scripts/run.sh fuzz [SECONDS]: the libFuzzer targets, in their own Clang
# build (build-fuzz/); scripts/fuzz.sh installs Clang and libFuzzer if needed.
[ "$job" = fuzz ] && exec scripts/fuzz.sh "$@"
configure_and_build

case "$job" in
  build) ;;
  test)
    [ -z "$sanitize" ] || { sanitize_test "$@"; exit; }
    ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
    ;;
  demo)
    exec scripts/demo.sh "$build_dir"
    ;;
  bench)
    exec scripts/bench.sh "$build_dir" "$@"
    ;;
  *)
    echo "usage: scripts/run.sh demo|test|bench|build" >&2
    exit 2
    ;;
esac
