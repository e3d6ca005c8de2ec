#!/usr/bin/env bash
# The main job, run by `scripts/run.sh demo` after the build.
set -euo pipefail
build_dir="$1"
echo "demo: a verified TLS round trip through chatwire's transport against a local HTTPS server"
exec "$build_dir/examples/tls_round_trip"
