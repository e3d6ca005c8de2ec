#!/usr/bin/env bash
# The main job, run by `scripts/run.sh demo` after the build: a short
# multi-turn conversation with each of the three APIs, streamed live through
# `chatwire chat`, against `chatwire emulate` on 127.0.0.1 over verified TLS.
set -euo pipefail
build_dir="$1"
cli="$build_dir/src/cli/chatwire"
work="$(mktemp -d)"
trap 'kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$cli" emulate --listen 127.0.0.1:0 --cert-out "$work/emulator.pem" --token-delay-ms 25 >"$work/emulator.out" &
emu_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/emulator.out" 2>/dev/null && break
  sleep 0.1
done
base="$(sed -n 's/^listening on //p' "$work/emulator.out")"
[ -n "$base" ] || { echo "demo: the emulator did not start" >&2; exit 1; }
echo "demo: chatwire emulate is serving all three APIs at $base"

conversation=""
turn() {  # api base-url message...: continues $conversation, streams the reply live
  local api="$1" url="$2"; shift 2
  local args=(chat --api "$api" --base-url "$url" --ca-file "$work/emulator.pem")
  [ "$api" = chatbotkit ] || args+=(--chatbot support-bot)
  [ -z "$conversation" ] || args+=(--conversation "$conversation")
  printf '\n\033[1myou>\033[0m %s\n\033[1mbot>\033[0m ' "$*"
  "$cli" "${args[@]}" "$@" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  conversation="$(sed -n 's/^conversation: //p' "$work/stderr")"
  printf '\033[2m(%s)\033[0m\n' "$(grep '^first token' "$work/stderr")"
}

export VECTORSHIFT_API_KEY=demo-key CHATBOTKIT_SECRET=demo-key POLLYBOT_API_KEY=sk-workspace_demo
for api in vectorshift chatbotkit pollybot; do
  url="$base"
  [ "$api" = chatbotkit ] && url="$base/api/v1"
  printf '\n\033[1m== %s ==\033[0m\n' "$api"
  conversation=""
  turn "$api" "$url" "Where is my order #12345?"
  turn "$api" "$url" "Can I change the shipping address?"
  turn "$api" "$url" "Thanks, that is all."
  echo "conversation $conversation: three turns"
done
echo
echo "demo: done"
