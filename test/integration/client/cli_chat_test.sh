#!/usr/bin/env bash
# chatwire chat end to end: output, conversation continuity and exit codes.
set -uo pipefail
cli="$1"
source "$(dirname "$0")/../../support/cli_script.sh"

# Embedded emulator: streamed text, conversation id on stderr, exit 0.
out="$(timeout 60 "$cli" chat --api pollybot hello there 2>"$work/err")"; rc=$?
check "embedded chat exit code" 0 "$rc"
[ -n "$out" ] && passes=$((passes + 1)) || { echo "FAIL: no reply text"; failures=$((failures + 1)); }
grep -q '^conversation: cm' "$work/err" && passes=$((passes + 1)) || { echo "FAIL: no conversation id"; failures=$((failures + 1)); }

# --json: one JSON object per line, tokens joined equal the plain output.
timeout 60 "$cli" chat --api chatbotkit --json hello there >"$work/json" 2>/dev/null; rc=$?
check "json exit code" 0 "$rc"
joined="$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  let t = ""; for (const l of lines) { const e = JSON.parse(l); if (e.kind === "token") t += e.text; }
  process.stdout.write(t);' "$work/json" 2>/dev/null || python3 -c '
import json,sys
print("".join(e.get("text","") for e in map(json.loads, open(sys.argv[1])) if e["kind"]=="token"), end="")' "$work/json")"
[ -n "$joined" ] && passes=$((passes + 1)) || { echo "FAIL: no tokens in --json output"; failures=$((failures + 1)); }

# Usage errors: exit 2.
"$cli" chat --api pollybot >/dev/null 2>&1; check "no message" 2 "$?"
"$cli" chat --api nosuch hi >/dev/null 2>&1; check "unknown api" 2 "$?"
env -u POLLYBOT_API_KEY "$cli" chat --api pollybot --base-url https://127.0.0.1:1 --chatbot b hi >/dev/null 2>&1
check "missing key for a real service" 2 "$?"

# A standalone emulator that checks keys: multi-turn, API error (3).
start_emulator emu --cert-out "$work/ca.pem" --api-key right-key || fail "emulator did not start: $(cat "$work/emu")"
base="$emulator_url"
POLLYBOT_API_KEY=right-key timeout 60 "$cli" chat --api pollybot --base-url "$base" --ca-file "$work/ca.pem" \
  --chatbot support first turn >"$work/t1" 2>"$work/e1"; check "turn 1" 0 "$?"
conv="$(sed -n 's/^conversation: //p' "$work/e1")"
POLLYBOT_API_KEY=right-key timeout 60 "$cli" chat --api pollybot --base-url "$base" --ca-file "$work/ca.pem" \
  --chatbot support --conversation "$conv" --no-stream first turn >"$work/t2" 2>"$work/e2"; check "turn 2" 0 "$?"
check "conversation continued" "$conv" "$(sed -n 's/^conversation: //p' "$work/e2")"
[ "$(cat "$work/t1")" != "$(cat "$work/t2")" ] && passes=$((passes + 1)) || { echo "FAIL: history did not change the reply"; failures=$((failures + 1)); }
POLLYBOT_API_KEY=wrong-key "$cli" chat --api pollybot --base-url "$base" --ca-file "$work/ca.pem" \
  --chatbot support hi >/dev/null 2>"$work/e3"; check "wrong key" 3 "$?"
grep -q 'INVALID_API_KEY' "$work/e3" && passes=$((passes + 1)) || { echo "FAIL: provider code not shown"; failures=$((failures + 1)); }
grep -q 'wrong-key' "$work/e3" && { echo "FAIL: the key was printed"; failures=$((failures + 1)); } || passes=$((passes + 1))
# Untrusted certificate (no --ca-file) and a closed port: network errors (4).
POLLYBOT_API_KEY=right-key "$cli" chat --api pollybot --base-url "$base" --chatbot support hi >/dev/null 2>&1
check "untrusted certificate" 4 "$?"
POLLYBOT_API_KEY=k "$cli" chat --api pollybot --base-url https://127.0.0.1:1 --chatbot b hi >/dev/null 2>&1
check "closed port" 4 "$?"

# A host that only starts like 127.0.0.1 is a name: looked up (not found), no
# connection to 127.0.0.1, and plain http to it draws the warning.
POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url "http://127.0.0.1.attacker.invalid:1" \
  --chatbot b hi >/dev/null 2>"$work/e4"; check "a dotted-quad prefix is part of the name" 4 "$?"
grep -q 'cannot resolve 127.0.0.1.attacker.invalid' "$work/e4" && passes=$((passes + 1)) || { echo "FAIL: not resolved as a name: $(cat "$work/e4")"; failures=$((failures + 1)); }
grep -q 'plain http:// sends the key unencrypted' "$work/e4" && passes=$((passes + 1)) || { echo "FAIL: no plain-http warning for a non-loopback name"; failures=$((failures + 1)); }
for u in http://localhost.attacker.invalid:1 http://127.attacker.invalid:1; do
  POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url "$u" --chatbot b hi >/dev/null 2>"$work/e5"
  grep -q 'plain http:// sends the key unencrypted' "$work/e5" && passes=$((passes + 1)) || { echo "FAIL: no warning for $u"; failures=$((failures + 1)); }
done
POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url http://127.0.0.1:1 --chatbot b hi >/dev/null 2>"$work/e6"
grep -q 'plain http://' "$work/e6" && { echo "FAIL: warned for loopback"; failures=$((failures + 1)); } || passes=$((passes + 1))

# Server text is data, not terminal input: a provider error message with an OSC
# title sequence, BEL and a newline is shown escaped, on the CLI's one line.
cat >"$work/faults.json" <<'JSON'
[{"api":"pollybot","kind":"status","status":400,"code":"BAD_\u001b[31mINPUT",
  "message":"\u001b]0;pwned\u0007\nforged line \u009b2J\u007f"}]
JSON
start_emulator emu2 --plain --faults "$work/faults.json" || fail "faulty emulator did not start: $(cat "$work/emu2")"
base2="$emulator_url"
POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url "$base2" --chatbot b hi >/dev/null 2>"$work/e7"
check "provider error with controls" 3 "$?"
LC_ALL=C grep -q $'[\x1b\x07\x7f]' "$work/e7" && fail "raw ESC, BEL or DEL on stderr: $(cat -v "$work/e7")" || pass
LC_ALL=C grep -q $'\xc2\x9b' "$work/e7" && fail "raw C1 CSI on stderr" || pass
grep -q '^forged line' "$work/e7" && fail "the message forged a line of its own" || pass
grep -qF 'message=\x1b]0;pwned\x07\x0aforged line \u009b2J\x7f' "$work/e7" && pass || fail "escaped message not shown: $(cat -v "$work/e7")"
grep -qF 'code=BAD_\x1b[31mINPUT' "$work/e7" && pass || fail "escaped code not shown: $(cat -v "$work/e7")"

# Tokens: raw into a pipe, escaped on a terminal (the emulator echoes the message).
msg=$'\e]0;pwned\a tab\there'
timeout 60 "$cli" chat --api pollybot "$msg" >"$work/piped" 2>/dev/null; check "piped tokens exit code" 0 "$?"
grep -qF $'\e]0;pwned\a' "$work/piped" && pass || fail "piped tokens were altered: $(cat -v "$work/piped")"
timeout 60 "$cli" chat --api pollybot --no-stream --json "$msg" >"$work/json2" 2>/dev/null; check "json reply exit code" 0 "$?"
LC_ALL=C grep -q $'[\x1b\x07]' "$work/json2" && fail "raw controls in --json output" || pass
grep -qF '\u001b]0;pwned\u0007' "$work/json2" && pass || fail "--json did not escape controls: $(cat -v "$work/json2")"
if command -v script >/dev/null; then
  CLI="$cli" MSG="$msg" timeout 60 script -qec '"$CLI" chat --api pollybot "$MSG"' /dev/null </dev/null >"$work/tty" 2>&1
  check "tty tokens exit code" 0 "$?"
  LC_ALL=C grep -q $'[\x1b\x07]' "$work/tty" && fail "raw ESC or BEL on the terminal: $(cat -v "$work/tty")" || pass
  grep -qF '\x1b]0;pwned\x07' "$work/tty" && pass || fail "escaped tokens not shown: $(cat -v "$work/tty")"
  grep -qF $'tab\there' "$work/tty" && pass || fail "a tab in a reply was escaped on the terminal"
else
  echo "note: no script(1), tokens on a terminal left to unit_cli"
fi

# --timeout: the whole call's deadline. Bad values are usage errors.
for t in 0 -1 abc inf nan 1e9 0.0001; do
  "$cli" chat --api pollybot --timeout "$t" hi >/dev/null 2>&1; check "--timeout $t" 2 "$?"
done
# Ends a call to a server that stalls (exit 4, soon after the deadline).
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
check_deadline() {  # description, rc, started (ns)
  local ms; ms="$(elapsed_ms "$3")"
  check "$1: exit code" 4 "$2"
  [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] && pass || fail "$1: ended after $ms ms, wanted about 1000"
}
echo '[{"kind":"stall","stall_ms":30000}]' >"$work/stall.json"
start_emulator emu3 --plain --faults "$work/stall.json" || fail "stalling emulator did not start"
base3="$emulator_url"
t0="$(date +%s%N)"
POLLYBOT_API_KEY=k timeout 30 "$cli" chat --api pollybot --base-url "$base3" --chatbot b --timeout 1 hi \
  >/dev/null 2>"$work/e8"
check_deadline "stalled reply with --timeout 1" "$?" "$t0"

# Retries: a 503 is sent again by default, and the wait is reported; with
# --max-retries 0 it is the answer.
echo '[{"api":"pollybot","times":1,"kind":"status","status":503}]' >"$work/unavailable.json"
start_emulator emu4 --plain --faults "$work/unavailable.json" || fail "emulator with a 503 did not start"
base4="$emulator_url"
POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url "$base4" --chatbot b hi >/dev/null 2>"$work/e9"
check "a 503 retried" 0 "$?"
grep -qE '^chatwire chat: retrying in [0-9]+\.[0-9] s after 503 \(unavailable\)$' "$work/e9" && pass || fail "no retry line: $(cat "$work/e9")"
echo '[{"api":"pollybot","kind":"status","status":503}]' >"$work/down.json"
start_emulator emu5 --plain --faults "$work/down.json" || fail "emulator always 503 did not start"
base5="$emulator_url"
POLLYBOT_API_KEY=k timeout 60 "$cli" chat --api pollybot --base-url "$base5" --chatbot b --max-retries 0 hi \
  >/dev/null 2>"$work/e10"
check "--max-retries 0" 3 "$?"
grep -q 'retrying in' "$work/e10" && fail "retried with --max-retries 0" || pass
grep -q 'attempts=1' "$work/e10" && pass || fail "not one attempt: $(cat "$work/e10")"
"$cli" chat --api pollybot --max-retries -1 hi >/dev/null 2>&1; check "--max-retries -1" 2 "$?"

# The rest needs a server the emulator cannot be: the system's Python, standard
# library only, on 127.0.0.1, stopping by itself after two minutes at most.
py=/usr/bin/python3
if [ -x "$py" ]; then
  cat >"$work/responder.py" <<'PY'
import json, signal, socket, sys, threading
signal.alarm(120)  # never outlives a stuck test
mode = sys.argv[1]  # "silent": accept and never answer; "chatbotkit": answer complete
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)
held = []
usage = {"neg": -1, "frac": 1.5, "huge": 1e300, "text": "many"}  # by conversation id

def answer(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        parts = path.split("/")  # ["", "api", "v1", "conversation", ID, "complete"]
        if method == "POST" and len(parts) == 6 and parts[1:4] == ["api", "v1", "conversation"] \
                and parts[5] == "complete":
            status, reply = 200, {"id": "m1", "text": "hi", "usage": {"token": usage.get(parts[4], 3)}}
        else:
            status, reply = 404, {"message": "no route " + path}
        out = json.dumps(reply).encode()
        conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % (status, len(out)) + out)

while True:
    conn, _ = srv.accept()
    if mode == "silent":
        held.append(conn)
    else:
        threading.Thread(target=answer, args=(conn,), daemon=True).start()
PY
  start_responder() {  # mode; sets port
    "$py" "$work/responder.py" "$1" >"$work/$1.port" 2>"$work/$1.err" &
    pids+=($!)
    wait_line "$work/$1.port" '^[0-9]' || fail "responder $1 did not start: $(cat "$work/$1.err")"
    port="$(head -n1 "$work/$1.port")"
  }

  # A listener that accepts and says nothing: no TLS handshake, no response.
  start_responder silent
  for scheme in https http; do
    t0="$(date +%s%N)"
    POLLYBOT_API_KEY=k timeout 30 "$cli" chat --api pollybot --base-url "$scheme://127.0.0.1:$port" --chatbot b \
      --timeout 1 hi >/dev/null 2>"$work/e9"
    check_deadline "silent $scheme server with --timeout 1" "$?" "$t0"
  done

  # ChatBotKit's usage.token is informational: a count that is negative, a
  # fraction, out of range or not a number leaves a good reply good.
  start_responder chatbotkit
  for conv in neg frac huge text; do
    out="$(CHATBOTKIT_SECRET=k timeout 30 "$cli" chat --api chatbotkit --base-url "http://127.0.0.1:$port/api/v1" \
      --conversation "$conv" --no-stream hello 2>"$work/e10")"
    check "usage.token $conv: exit code" 0 "$?"
    check "usage.token $conv: reply" hi "$out"
  done
else
  echo "note: no $py, the silent-server and usage.token cases were skipped"
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
