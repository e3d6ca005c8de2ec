#!/usr/bin/env bash
# chatwire chat's inputs: --api-key-file bounded and checked, keys refused
# before anything is sent, JSON output without raw controls, the process
# closed to core dumps and to other processes, and the exit code of a
# malformed answer.
set -uo pipefail
cli="$1"
source "$(dirname "$0")/../../support/cli_script.sh"

py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: no $py for the scripted servers"; exit 0; }

# Scripted servers on 127.0.0.1 (standard library only, two minutes at most):
# "count" notes each connection it accepts in a file and closes it; the others
# answer every request with one malformed response.
cat >"$work/server.py" <<'PY'
import signal, socket, sys, threading
signal.alarm(120)  # never outlives a stuck test
mode, log = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)
answers = {
    "bad-status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}",
    "bad-length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}",
    "not-json": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 6\r\n\r\n<html>",
    "big-header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100000 + b"\r\nContent-Length: 2\r\n\r\n{}",
}

def serve(conn):
    with conn:
        with open(log, "a") as f:
            f.write("accepted\n")
        if mode == "count":
            return
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        conn.sendall(answers[mode])

while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
start_server() {  # mode; sets port
  : >"$work/$1.log"
  "$py" "$work/server.py" "$1" "$work/$1.log" >"$work/$1.port" 2>"$work/$1.err" &
  pids+=($!)
  wait_line "$work/$1.port" '^[0-9]' || fail "server $1 did not start: $(cat "$work/$1.err")"
  port="$(head -n1 "$work/$1.port")"
}

# ---- key files ----------------------------------------------------------------------
unset POLLYBOT_API_KEY CHATBOTKIT_SECRET VECTORSHIFT_API_KEY
start_server count
counter="http://127.0.0.1:$port"
# refused DESCRIPTION REASON ARGS...: exit 2, REASON on stderr, soon, and not a
# byte to the server (it counts connections).
refused() {
  local what="$1" reason="$2"; shift 2
  local t0 ms rc
  t0="$(date +%s%N)"
  # The address-space bound keeps a regression from eating the machine; the
  # sanitizers reserve terabytes of shadow address space and cannot run under it.
  ( [ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ] || ulimit -v 2000000
    exec timeout 60 "$cli" chat --api pollybot --base-url "$counter" --chatbot b "$@" hi ) \
    >/dev/null 2>"$work/refused.err"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  cat "$work/refused.err" >>"$work/all-refused.err"
  check "$what: exit code" 2 "$rc"
  grep -qF -- "$reason" "$work/refused.err" && pass || fail "$what: no '$reason' in: $(cat -v "$work/refused.err")"
  [ "$ms" -lt 20000 ] && pass || fail "$what: took $ms ms"
  check "$what: connections to the server" 0 "$(wc -l <"$work/count.log")"
}
mkdir "$work/keydir"
mkfifo "$work/fifo"
head -c 1048576 /dev/zero | tr '\0' k >"$work/mib"
printf 'sk-\0nul\n' >"$work/nul"
printf 'sk-\033[31m\n' >"$work/esc"
printf 'sk-\177\n' >"$work/del"
printf 'sk-\302\233c1\n' >"$work/c1"
printf 'sk-\377\376\n' >"$work/latin1"
printf '  \t \n\n' >"$work/blank"
: >"$work/empty"
printf 'sk-one\nsk-two\n' >"$work/two"

refused "/dev/zero" "is a character device" --api-key-file /dev/zero
refused "a directory" "is a directory" --api-key-file "$work/keydir"
refused "a FIFO without a writer" "is a FIFO" --api-key-file "$work/fifo"
refused "a 1 MiB file" "larger than 64 KiB" --api-key-file "$work/mib"
refused "NUL" "the key in --api-key-file holds a control character (0x00)" --api-key-file "$work/nul"
refused "ESC" "holds a control character (0x1b)" --api-key-file "$work/esc"
refused "DEL" "holds a control character (0x7f)" --api-key-file "$work/del"
refused "a C1 control" "holds a control character (U+009b)" --api-key-file "$work/c1"
refused "invalid UTF-8" "is not valid UTF-8" --api-key-file "$work/latin1"
refused "only whitespace" "holds only whitespace" --api-key-file "$work/blank"
refused "an empty file" "is empty" --api-key-file "$work/empty"
refused "two lines" "more than one line" --api-key-file "$work/two"
refused "a missing file" "No such file" --api-key-file "$work/missing"
export POLLYBOT_API_KEY=$'sk-\t1'
refused "a control in the environment" "POLLYBOT_API_KEY holds a control character (0x09)"
export POLLYBOT_API_KEY='   '
refused "spaces in the environment" "POLLYBOT_API_KEY holds only spaces"
unset POLLYBOT_API_KEY
grep -q 'sk-' "$work/all-refused.err" && fail "a key was printed" || pass

# The bound holds in memory too: /dev/zero is refused by its type, never read.
# Under the sanitizers (scripts/sanitize.sh sets their options) the process
# starts far higher (shadow memory, allocator pools: about 100 MiB under
# ASan), so the bound is 400 MiB there; a read of /dev/zero has no bound at all.
rss_limit_kib=102400
[ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ] && rss_limit_kib=409600
if /usr/bin/time -f '%M' true 2>/dev/null; then
  /usr/bin/time -o "$work/rss" -f '%M' "$cli" chat --api pollybot --base-url "$counter" --chatbot b \
    --api-key-file /dev/zero hi >/dev/null 2>&1
  rss_kb="$(tail -n1 "$work/rss")"
  echo "note: chatwire chat --api-key-file /dev/zero: max RSS $rss_kb KiB"
  [ "$rss_kb" -lt "$rss_limit_kib" ] && pass || fail "max RSS $rss_kb KiB for /dev/zero (bound $rss_limit_kib KiB)"
fi
# An empty key file is an error even with the embedded emulator (which takes any key).
timeout 60 "$cli" chat --api pollybot --api-key-file "$work/empty" hi >/dev/null 2>&1
check "an empty key file, embedded emulator" 2 "$?"

# A key file's trailing newline and blanks are trimmed: the emulator takes it.
start_emulator keys --plain --api-key right-key || fail "emulator did not start: $(cat "$work/keys")"
printf '  right-key \r\n\n' >"$work/good"
timeout 60 "$cli" chat --api pollybot --base-url "$emulator_url" --chatbot b --api-key-file "$work/good" hi \
  >/dev/null 2>"$work/good.err"
check "a key file with a newline" 0 "$?"
# The control: the counting server does see a key that passes.
POLLYBOT_API_KEY=sk-good timeout 60 "$cli" chat --api pollybot --base-url "$counter" --chatbot b --max-retries 0 \
  hi >/dev/null 2>&1
[ "$(wc -l <"$work/count.log")" -ge 1 ] && pass || fail "the counting server saw no connection for a good key"

# ---- --json never writes a raw control (the emulator echoes the message) -------------
msg=$'x\302\2332J\177 \302\205end'
for mode in --no-stream ""; do
  timeout 60 "$cli" chat --api pollybot --json $mode "$msg" >"$work/json" 2>/dev/null
  check "--json $mode exit code" 0 "$?"
  LC_ALL=C grep -q $'\302[\200-\237]' "$work/json" && fail "--json $mode: raw C1 control: $(cat -v "$work/json")" || pass
  LC_ALL=C grep -q $'\177' "$work/json" && fail "--json $mode: raw DEL" || pass
done
grep -qF 'x\u009b2J\u007f \u0085end' "$work/json" && pass || fail "--no-stream --json: escapes missing"
"$py" -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$work/json" && pass || fail "--json output is not JSON"
if command -v script >/dev/null; then
  CLI="$cli" MSG="$msg" timeout 60 script -qec '"$CLI" chat --api pollybot --json --no-stream "$MSG"' /dev/null \
    </dev/null >"$work/tty" 2>&1
  check "--json on a terminal: exit code" 0 "$?"
  LC_ALL=C grep -q $'\302\233' "$work/tty" && fail "--json on a terminal: raw CSI" || pass
  grep -qF '\u009b' "$work/tty" && pass || fail "--json on a terminal: CSI not escaped: $(cat -v "$work/tty")"
fi

# ---- no core file, and other processes of the user cannot look inside -----------------
# Started with core files allowed; run as nobody when the test is root, so that
# the owner of /proc/PID/* (the user's while dumpable, root once not) tells.
as_other=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
( ulimit -S -c unlimited 2>/dev/null; exec "${as_other[@]}" "$cli" emulate --listen 127.0.0.1:0 --plain ) \
  >"$work/dump" 2>&1 &
dpid=$!
pids+=("$dpid")
if wait_line "$work/dump" '^listening on '; then
  check "core file size limit" "0 0" "$(awk '/^Max core file size/ {print $5, $6}' "/proc/$dpid/limits")"
  runs_as="$(awk '/^Uid:/ {print $3}' "/proc/$dpid/status")"
  if [ "$runs_as" != 0 ]; then
    check "/proc/PID owned by root (not dumpable)" 0 "$(stat -c %u "/proc/$dpid/environ")"
    if [ "$(id -u)" != 0 ]; then
      cat "/proc/$dpid/environ" >/dev/null 2>&1 && fail "the environment of the CLI was readable" || pass
    fi
  else
    echo "note: running as root without setpriv: dumpability left to the core limit"
  fi
else
  fail "emulator for the dump checks did not start: $(cat "$work/dump")"
fi
kill "$dpid" 2>/dev/null

# ---- a malformed answer is the service's fault: exit 3 -------------------------------
for mode in bad-status bad-length not-json big-header; do
  start_server "$mode"
  POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url "http://127.0.0.1:$port" --chatbot b \
    --max-retries 0 --no-stream hi >/dev/null 2>"$work/$mode.out"
  check "$mode: exit code" 3 "$?"
done

# ---- ChatBotKit without its version prefix: a hint; with it, nothing changes ---------
start_emulator cbk --plain || fail "emulator did not start: $(cat "$work/cbk")"
CHATBOTKIT_SECRET=k timeout 60 "$cli" chat --api chatbotkit --base-url "$emulator_url" hi >/dev/null 2>"$work/nov1"
check "ChatBotKit without /v1: exit code" 3 "$?"
grep -qF 'lacks ChatBotKit'"'"'s version prefix /v1' "$work/nov1" && pass || fail "no /v1 hint: $(cat "$work/nov1")"
CHATBOTKIT_SECRET=k timeout 60 "$cli" chat --api chatbotkit --base-url "$emulator_url/api/v1" hi >/dev/null \
  2>"$work/v1"
check "ChatBotKit with /api/v1: exit code" 0 "$?"
CHATBOTKIT_SECRET=k timeout 60 "$cli" chat --api chatbotkit --base-url "$emulator_url/api/v1" \
  --conversation cnv_missing hi >/dev/null 2>"$work/v1missing"
check "ChatBotKit with /api/v1, a missing conversation: exit code" 3 "$?"
grep -q 'version prefix' "$work/v1missing" && fail "a /v1 hint for a right base URL" || pass

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
