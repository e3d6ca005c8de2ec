# Starting and stopping `chatwire emulate` from the bench scripts (sourced).
#
#   pids=()                                  # the caller's list of processes to stop on exit
#   emulator_start CLI OUT_FILE [ARGS...]    # `CLI emulate --listen 127.0.0.1:0 ARGS...`
#   ... "$emulator_url" "$emulator_pid" ...
#   curl -H "$emulator_admin_header" ...     # the admin API (/_emulator/...)
#   emulator_stop                            # the last one started, by its PID
#
# Every emulator a script starts gets the same random admin token,
# emulator_admin_token, through the environment (never the command line);
# emulator_admin_header is the header that carries it.
# emulator_start runs the emulator in the background with its output in
# OUT_FILE, adds its PID to `pids`, and waits (at most 10 s) for its
# "listening on URL" line: then emulator_url and emulator_pid are set and it
# returns 0. If the emulator exits or does not report in time, it prints the
# output and returns 1 (the process, if still running, is stopped on exit with
# the rest of `pids`).

emulator_admin_token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
emulator_admin_header="X-Emulator-Admin-Token: $emulator_admin_token"

emulator_start() {
  local cli="$1" out="$2"
  shift 2
  : > "$out"
  CHATWIRE_EMULATOR_ADMIN_TOKEN="$emulator_admin_token" "$cli" emulate --listen 127.0.0.1:0 "$@" > "$out" 2>&1 &
  emulator_pid=$!
  pids+=("$emulator_pid")
  emulator_url=""
  local _
  for _ in $(seq 100); do
    emulator_url="$(sed -n 's/^listening on //p' "$out")"
    [ -n "$emulator_url" ] && return 0
    kill -0 "$emulator_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the emulator did not start ($cli emulate $*):" >&2
  cat "$out" >&2
  return 1
}

emulator_stop() {
  [ -n "${emulator_pid:-}" ] || return 0
  kill -TERM "$emulator_pid" 2>/dev/null || true
  wait "$emulator_pid" 2>/dev/null || true
  local kept=() p
  for p in "${pids[@]}"; do [ "$p" = "$emulator_pid" ] || kept+=("$p"); done
  pids=("${kept[@]+"${kept[@]}"}")
  emulator_pid=""
}
