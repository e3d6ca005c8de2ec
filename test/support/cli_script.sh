# Sourced by the chatwire CLI's end-to-end scripts (bash), which set `cli`
# (the chatwire executable) first: a scratch directory, the servers a script
# starts (stopped by PID on exit), counted checks, and `chatwire emulate` on
# a free port of 127.0.0.1.
work="$(mktemp -d)"
pids=()  # servers this script started, stopped by PID on exit
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
failures=0; passes=0
check() {  # description, expected, actual
  if [ "$2" = "$3" ]; then passes=$((passes + 1)); else echo "FAIL: $1: expected '$2', got '$3'"; failures=$((failures + 1)); fi
}
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
# Waits (up to 10 s) for a line matching $2 in the file $1: a server's
# "listening on URL" (emulator) or "PORT" (responder).
wait_line() {
  for _ in $(seq 100); do [ -s "$1" ] && grep -q "$2" "$1" && return 0; sleep 0.1; done
  return 1
}
# start_emulator NAME [ARGS...]: `chatwire emulate --listen 127.0.0.1:0 ARGS...`
# in the background, its output in $work/NAME; once it listens, its URL is in
# `emulator_url`. Fails when it does not start. Its admin API (/_emulator/...)
# takes the header in `emulator_admin_header` (the token is random, given
# through the environment).
emulator_admin_token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
emulator_admin_header="X-Emulator-Admin-Token: $emulator_admin_token"
start_emulator() {
  local name="$1"; shift
  emulator_url=""
  CHATWIRE_EMULATOR_ADMIN_TOKEN="$emulator_admin_token" "$cli" emulate --listen 127.0.0.1:0 "$@" >"$work/$name" 2>&1 &
  pids+=($!)
  wait_line "$work/$name" '^listening on ' || return 1
  emulator_url="$(sed -n 's/^listening on //p' "$work/$name")"
}
