#!/usr/bin/env bash
# The benchmark suite, run by `scripts/run.sh bench` after the build. Every
# benchmark runs on this machine only (127.0.0.1 for anything networked).
set -euo pipefail
build_dir="$1"; shift || true
echo "== decoders and mappers (Google Benchmark) =="
"$build_dir/benchmarks/bench_decode" --benchmark_min_time=0.2 "$@"
