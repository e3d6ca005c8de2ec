#!/usr/bin/env bash
# Runs a command on a deliberately slowed machine: N busy loops (default one
# per core) burn the CPU while it runs. The loops are this script's own
# children; each stops by itself after a hard time bound, and the script
# kills exactly those PIDs when the command ends or the script is stopped.
#   scripts/busy.sh [--loops N] [--seconds S] COMMAND [ARGS...]
# Defaults: N = nproc (CHATWIRE_BUSY_LOOPS), S = 3600 (CHATWIRE_BUSY_SECONDS).
# The command's exit code is the script's.
set -euo pipefail

loops="${CHATWIRE_BUSY_LOOPS:-$(nproc)}"
seconds="${CHATWIRE_BUSY_SECONDS:-3600}"
while [ $# -gt 0 ]; do
  case "$1" in
    --loops) loops="$2"; shift 2 ;;
    --loops=*) loops="${1#--loops=}"; shift ;;
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ] || ! [[ "$loops" =~ ^[0-9]+$ ]] || ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/busy.sh [--loops N] [--seconds S] COMMAND [ARGS...]" >&2
  exit 2
fi

pids=()
stop_loops() {
  local p
  for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_loops EXIT
trap 'stop_loops; exit 130' INT
trap 'stop_loops; exit 143' TERM

for ((i = 0; i < loops; ++i)); do
  # A subshell spinning on the clock: no other program, and it ends by itself.
  ( trap - EXIT INT TERM; end=$((SECONDS + seconds)); while [ "$SECONDS" -lt "$end" ]; do :; done ) &
  pids+=("$!")
done
echo "busy.sh: $loops busy loop(s) for at most ${seconds} s (PIDs ${pids[*]:-none})" >&2

rc=0
"$@" || rc=$?
stop_loops
exit "$rc"
