# Sourced by scripts/run.sh for `test --sanitize=MODE`: the whole suite, built
# with GCC and the sanitizers in a build directory of its own, so that the
# Release build/ is left as it is.
#   address,undefined  ASan + LSan + UBSan, in build-asan/
#   thread             TSan, in build-tsan/
# ASan, LSan and TSan reports go to files (every process of a test, the
# emulator a script starts included, writes its own); UBSan, which ignores
# log_path when it runs with ASan, reports on stderr, which ctest keeps. Any
# report fails the run even when the test that caused it did not look at the
# exit code, and a finding aborts the process rather than exit with a code a
# test might expect.

sanitize_setup() {  # MODE: sets build_dir and cmake_args
  sanitize_mode="$1"
  case "$sanitize_mode" in
    address,undefined|undefined,address|address|undefined) build_dir="${CHATWIRE_SANITIZE_BUILD_DIR:-build-asan}" ;;
    thread) build_dir="${CHATWIRE_SANITIZE_BUILD_DIR:-build-tsan}" ;;
    *) echo "run.sh: --sanitize must be address,undefined or thread" >&2; exit 2 ;;
  esac
  # -O1 with line tables: usable stack traces, and half the compile time of -O3.
  cmake_args=(-DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo
              "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
              "-DCHATWIRE_SANITIZE=$sanitize_mode" -DCHATWIRE_BUILD_BENCHMARKS=OFF)
}

sanitize_test() {  # extra ctest arguments
  local supp="$PWD/test/sanitizers" logs="$PWD/$build_dir/sanitizer-logs"
  local exclude=(-LE '^package$') runner=()
  rm -rf "$logs" && mkdir -p "$logs"
  # Not run under any sanitizer:
  # - consumer_package (label package) installs the library and builds another
  #   project against it without the sanitizer runtime: it tests packaging.
  # - stress_emulator_rss asserts on RSS, which the sanitizers' shadow memory
  #   and allocators (ASan's quarantine keeps freed blocks) make meaningless:
  #   its RSS checks fail under both, with no sanitizer report.
  exclude+=(-E '^stress_emulator_rss$')
  # The other stress tests run: their limits follow the pace they measure,
  # so TSan's slowdown makes them longer (minutes) but not flaky.
  case "$sanitize_mode" in
    thread)
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
      [ -f "$supp/tsan.supp" ] && TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$supp/tsan.supp"
      # GCC 12's TSan may fail to map its shadow memory under the mmap
      # randomisation of newer kernels: run without it (children inherit it).
      runner=(setarch "$(uname -m)" -R)
      ;;
    *)
      export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:check_initialization_order=1:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
      export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
      [ -f "$supp/lsan.supp" ] && export LSAN_OPTIONS="suppressions=$supp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
      [ -f "$supp/ubsan.supp" ] && UBSAN_OPTIONS="$UBSAN_OPTIONS:suppressions=$supp/ubsan.supp"
      ;;
  esac
  local rc=0
  # One test per core here, not two: instrumented code is CPU-bound where the
  # Release build waits, and the fault matrix's 1 s stage limits (scaled to
  # the pace it measures) were missed beside three other sanitized tests.
  ${test_runner[@]+"${test_runner[@]}"} ${runner[@]+"${runner[@]}"} ctest --test-dir "$build_dir" --output-on-failure \
    -j "${CHATWIRE_TEST_JOBS:-$(nproc)}" \
    "${exclude[@]}" "$@" || rc=$?
  if [ -n "$(ls -A "$logs")" ]; then
    echo "run.sh: sanitizer reports in $logs:" >&2
    cat "$logs"/* >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  local output="$build_dir/Testing/Temporary/LastTest.log"
  if grep -Eq 'runtime error:|ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer' "$output"; then
    echo "run.sh: sanitizer reports in the test output ($output)" >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  return "$rc"
}
