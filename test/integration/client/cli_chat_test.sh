#!/usr/bin/env bash
# chatwire chat end to end: output, conversation continuity and exit codes.
set -uo pipefail
cli="$1"
work="$(mktemp -d)"
emu_pid=""
trap '[ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null; rm -rf "$work"' EXIT
failures=0; passes=0
check() {  # description, expected, actual
  if [ "$2" = "$3" ]; then passes=$((passes + 1)); else echo "FAIL: $1: expected '$2', got '$3'"; failures=$((failures + 1)); fi
}

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
"$cli" emulate --listen 127.0.0.1:0 --cert-out "$work/ca.pem" --api-key right-key >"$work/emu" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/emu" && break; sleep 0.1; done
base="$(sed -n 's/^listening on //p' "$work/emu")"
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

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
