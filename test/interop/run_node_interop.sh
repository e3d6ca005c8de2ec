#!/usr/bin/env bash
# Runs the official ChatBotKit Node SDK against `chatwire emulate`, over TLS
# (trusting the emulator's certificate) and over plain HTTP.
# Usage: run_node_interop.sh CHATWIRE_BINARY WORK_DIR SCRIPT_DIR
# Exit 77 (skipped) only when node or npm is absent.
set -euo pipefail
cli="$1"; work="$2"; here="$3"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node/npm not found; the ChatBotKit SDK interop test needs Node.js" >&2
  exit 77
fi

mkdir -p "$work"
if [ ! -d "$work/node_modules/@chatbotkit/sdk" ]; then
  [ -f "$work/package.json" ] || echo '{"name":"chatwire-interop","private":true}' > "$work/package.json"
  (cd "$work" && npm install --no-audit --no-fund --loglevel=error "@chatbotkit/sdk@^1") >&2
fi

key="sk-interop-$$"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

run_once() {  # $1: tls|plain
  local mode="$1" out="$work/emulate.out" cert="$work/emulator-cert.pem"
  local flags=(--plain)
  [ "$mode" = tls ] && flags=(--cert-out "$cert")
  : > "$out"
  CHATWIRE_EMULATOR_API_KEY="$key" "$cli" emulate --listen 127.0.0.1:0 "${flags[@]}" > "$out" &
  pid=$!
  local url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "emulator did not start" >&2; return 1; }
  echo "$mode: $url" >&2
  if [ "$mode" = tls ]; then
    NODE_EXTRA_CA_CERTS="$cert" NODE_PATH="$work/node_modules" node "$here/cbk_sdk_interop.cjs" "$url" "$key"
  else
    NODE_PATH="$work/node_modules" node "$here/cbk_sdk_interop.cjs" "$url" "$key"
  fi
  kill -TERM "$pid"
  wait "$pid"
  pid=""
}

run_once tls
run_once plain
