#!/usr/bin/env bash
# chatwire list end to end: items on stdout, the cursor on stderr, resuming
# with --after, every list, and the exit codes of chatwire chat.
set -uo pipefail
cli="$1"
source "$(dirname "$0")/../../support/cli_script.sh"
ids() { sed -n "s/^{\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }  # key, file: the key's value on each line

# The embedded emulator starts empty: nothing listed, exit 0.
timeout 60 "$cli" list conversations >"$work/empty" 2>"$work/empty.err"; check "embedded list exit code" 0 "$?"
check "embedded list is empty" 0 "$(wc -l <"$work/empty")"
grep -q '^items: 0$' "$work/empty.err" && pass || fail "no item count: $(cat "$work/empty.err")"

# A standalone emulator that checks keys, filled through its own API.
start_emulator emu --cert-out "$work/ca.pem" --api-key right-key || fail "emulator did not start: $(cat "$work/emu")"
base="$emulator_url"
post() {  # path, body: the answer
  curl -sS --cacert "$work/ca.pem" -H 'Authorization: Bearer right-key' -H 'Content-Type: application/json' \
    -X POST -d "$2" "$base/api/v1$1"
}
created=()
for i in $(seq 0 29); do
  created+=("$(post /conversation/create "{\"name\":\"conversation $i\"}" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')")
done
check "conversations created" 30 "${#created[@]}"
for i in $(seq 0 6); do post "/conversation/${created[0]}/message/create" "{\"type\":\"user\",\"text\":\"note $i\"}" >/dev/null; done
for i in 0 1 2 3 4; do
  curl -sS --cacert "$work/ca.pem" -H 'Authorization: Bearer right-key' "$base/v1/chatbot?id=bot$i" >/dev/null
done
cbk=(env CHATBOTKIT_SECRET=right-key timeout 60 "$cli" list --base-url "$base/api/v1" --ca-file "$work/ca.pem")
vs=(env VECTORSHIFT_API_KEY=right-key timeout 60 "$cli" list --base-url "$base" --ca-file "$work/ca.pem")
want="$(printf '%s\n' "${created[@]}")"

# Pages of 7, oldest first: every conversation once, in order; the last id is the cursor.
"${cbk[@]}" conversations --take 7 --order asc >"$work/pages" 2>"$work/pages.err"; check "pages exit code" 0 "$?"
check "pages list every conversation in order" "$want" "$(ids id "$work/pages")"
check "pages cursor" "cursor: ${created[29]}" "$(grep '^cursor: ' "$work/pages.err")"
"${cbk[@]}" conversations --take 7 --order asc --prefetch >"$work/ahead" 2>/dev/null; check "prefetch exit code" 0 "$?"
check "prefetch lists the same" "$want" "$(ids id "$work/ahead")"
"${cbk[@]}" conversations --stream --order asc >"$work/stream" 2>"$work/stream.err"; check "stream exit code" 0 "$?"
check "the stream lists the same" "$want" "$(ids id "$work/stream")"
"${cbk[@]}" conversations --take 100 >"$work/desc" 2>/dev/null
check "newest first by default" "$(printf '%s\n' "${created[@]}" | tac)" "$(ids id "$work/desc")"

# Resume after the 12th, in pages and in the stream.
"${cbk[@]}" conversations --take 5 --order asc --after "${created[11]}" >"$work/rest" 2>"$work/rest.err"
check "resumed exit code" 0 "$?"
check "resumed after the 12th" "$(printf '%s\n' "${created[@]:12}")" "$(ids id "$work/rest")"
"${cbk[@]}" conversations --stream --order asc --after "${created[11]}" >"$work/rest2" 2>/dev/null
check "stream resumed after the 12th" "$(printf '%s\n' "${created[@]:12}")" "$(ids id "$work/rest2")"

# Messages, bots, VectorShift's chatbots.
"${cbk[@]}" messages --conversation "${created[0]}" --take 3 >"$work/messages" 2>/dev/null; check "messages exit code" 0 "$?"
check "messages listed" 7 "$(wc -l <"$work/messages")"
"${cbk[@]}" bots >"$work/bots" 2>/dev/null; check "bots exit code" 0 "$?"
"${vs[@]}" chatbots >"$work/chatbots" 2>"$work/chatbots.err"; check "chatbots exit code" 0 "$?"
check "chatbots listed" "$(printf 'bot%s\n' 0 1 2 3 4)" "$(ids _id "$work/chatbots")"
check "chatbots cursor" "cursor: bot4" "$(grep '^cursor: ' "$work/chatbots.err")"
"${vs[@]}" chatbots --after bot1 >"$work/chatbots2" 2>/dev/null; check "chatbots resumed exit code" 0 "$?"
check "chatbots resumed" "$(printf 'bot%s\n' 2 3 4)" "$(ids _id "$work/chatbots2")"

# Usage errors: exit 2.
"$cli" list >/dev/null 2>&1; check "no list named" 2 "$?"
"$cli" list nosuch >/dev/null 2>&1; check "unknown list" 2 "$?"
"$cli" list messages >/dev/null 2>&1; check "messages without --conversation" 2 "$?"
"$cli" list conversations --api vectorshift >/dev/null 2>&1; check "a list the api does not have" 2 "$?"
"$cli" list conversations --take 5000 >/dev/null 2>&1; check "--take too large" 2 "$?"
"$cli" list conversations --order sideways >/dev/null 2>&1; check "bad --order" 2 "$?"
env -u CHATBOTKIT_SECRET "$cli" list conversations --base-url "$base/api/v1" >/dev/null 2>&1
check "missing key for a real service" 2 "$?"

# The service's errors: 3, key never printed; an unknown cursor is the service's 400.
CHATBOTKIT_SECRET=wrong-key timeout 60 "$cli" list conversations --base-url "$base/api/v1" --ca-file "$work/ca.pem" \
  >/dev/null 2>"$work/wrong"; check "wrong key" 3 "$?"
grep -q 'wrong-key' "$work/wrong" && fail "the key was printed" || pass
"${cbk[@]}" conversations --after no-such-item >/dev/null 2>&1; check "unknown cursor" 3 "$?"
# Network errors: 4 (untrusted certificate, closed port).
CHATBOTKIT_SECRET=right-key timeout 60 "$cli" list conversations --base-url "$base/api/v1" >/dev/null 2>&1
check "untrusted certificate" 4 "$?"
CHATBOTKIT_SECRET=k timeout 60 "$cli" list conversations --base-url https://127.0.0.1:1/api/v1 >/dev/null 2>&1
check "closed port" 4 "$?"

# A service that keeps answering 503: retried, then exit 3 with the cursor to resume from.
echo '[{"api":"chatbotkit","kind":"status","status":503}]' >"$work/down.json"
start_emulator emu2 --plain --faults "$work/down.json" || fail "emulator always 503 did not start"
base2="$emulator_url"
CHATBOTKIT_SECRET=k timeout 60 "$cli" list conversations --base-url "$base2/api/v1" --max-retries 1 --after cnv_x \
  >/dev/null 2>"$work/e503"; check "503 throughout" 3 "$?"
grep -q 'retrying in' "$work/e503" && pass || fail "no retry line: $(cat "$work/e503")"
grep -q '^cursor: cnv_x$' "$work/e503" && pass || fail "no resume cursor: $(cat "$work/e503")"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
