#!/usr/bin/env bash
# chatwire list end to end: items on stdout, the cursor on stderr, resuming
# with --after, every list, --max-pages and --timeout, a list that loops, and
# the exit codes of chatwire chat.
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

# --max-pages: two pages of 7, then exit 5 and the cursor after the 14th;
# resumed from it, the rest. A cap the list ends within changes nothing.
"${cbk[@]}" conversations --take 7 --order asc --max-pages 2 >"$work/capped" 2>"$work/capped.err"
check "--max-pages exit code" 5 "$?"
check "--max-pages lists two pages" "$(printf '%s\n' "${created[@]:0:14}")" "$(ids id "$work/capped")"
check "--max-pages cursor" "cursor: ${created[13]}" "$(grep '^cursor: ' "$work/capped.err")"
grep -q 'stopped after 2 pages (--max-pages)' "$work/capped.err" && pass || fail "no cap line: $(cat "$work/capped.err")"
"${cbk[@]}" conversations --take 7 --order asc --after "${created[13]}" >"$work/uncapped" 2>/dev/null
check "resumed after the cap" "$(printf '%s\n' "${created[@]:14}")" "$(ids id "$work/uncapped")"
"${cbk[@]}" conversations --take 7 --order asc --max-pages 10 >"$work/cap10" 2>/dev/null
check "a cap the list ends within: exit code" 0 "$?"
check "a cap the list ends within: every item" "$want" "$(ids id "$work/cap10")"
"${cbk[@]}" conversations --stream --order asc --max-pages 1 >"$work/cap-stream" 2>/dev/null
check "--max-pages 1 over the stream" 0 "$?"
check "--max-pages 1 over the stream: every item" "$want" "$(ids id "$work/cap-stream")"

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
for bad in 0 -1 abc 86401; do
  "$cli" list conversations --timeout "$bad" >/dev/null 2>&1; check "--timeout $bad" 2 "$?"
done
for bad in -1 abc 1.5 ""; do
  "$cli" list conversations --max-pages "$bad" >/dev/null 2>&1; check "--max-pages '$bad'" 2 "$?"
done
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

# Lists the emulator cannot be: the system's Python, standard library only, on
# 127.0.0.1, stopping by itself after two minutes at most. "loop": cursors
# k0 -> k1 -> k0; "endless": e1 -> e2 -> ... for ever; "slow": the same, a
# third of a second a page.
py=/usr/bin/python3
if [ -x "$py" ]; then
  cat >"$work/lists.py" <<'PY'
import json, signal, socket, sys, threading, time, urllib.parse
signal.alarm(120)  # never outlives a stuck test
mode = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)

def page(cursor):
    at = int(cursor[1:]) if cursor else -1
    if mode == "loop":
        item = "k%d" % ((at + 1) % 2)
    else:
        if mode == "slow":
            time.sleep(0.3)
        item = "e%d" % (at + 1 if cursor else 1)
    return {"items": [{"id": item}], "cursor": item}

def answer(conn):
    with conn:
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            target = head.decode("latin-1").split("\r\n")[0].split(" ")[1]
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
            out = json.dumps(page(query.get("cursor", [""])[0])).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % len(out) + out)

while True:
    conn, _ = srv.accept()
    threading.Thread(target=answer, args=(conn,), daemon=True).start()
PY
  start_lists() {  # mode; sets port
    "$py" "$work/lists.py" "$1" >"$work/$1.port" 2>"$work/$1.err" &
    pids+=($!)
    wait_line "$work/$1.port" '^[0-9]' || fail "list server $1 did not start: $(cat "$work/$1.err")"
    port="$(head -n1 "$work/$1.port")"
  }
  plain=(env CHATBOTKIT_SECRET=k timeout 20 "$cli" list conversations --take 1)

  # Cursors that come back: both items once, then exit 3, the loop named.
  start_lists loop
  "${plain[@]}" --base-url "http://127.0.0.1:$port/api/v1" >"$work/loop" 2>"$work/loop.err"
  check "a list that loops: exit code" 3 "$?"
  check "a list that loops: each item once" "$(printf 'k0\nk1')" "$(ids id "$work/loop")"
  grep -q 'returned a cursor it had returned before' "$work/loop.err" && pass || fail "no loop error: $(cat "$work/loop.err")"
  grep -q 'k0' "$work/loop.err" && pass || fail "the loop's cursor not named: $(cat "$work/loop.err")"
  check "a list that loops: cursor" "cursor: k1" "$(grep '^cursor: ' "$work/loop.err")"

  # A list that never ends: --max-pages stops it.
  start_lists endless
  "${plain[@]}" --base-url "http://127.0.0.1:$port/api/v1" --max-pages 3 >"$work/endless" 2>"$work/endless.err"
  check "an endless list with --max-pages 3: exit code" 5 "$?"
  check "an endless list with --max-pages 3: items" "$(printf 'e1\ne2\ne3')" "$(ids id "$work/endless")"
  check "an endless list with --max-pages 3: cursor" "cursor: e3" "$(grep '^cursor: ' "$work/endless.err")"

  # --timeout bounds the whole walk, not each page: a page every 0.3 s, for ever.
  start_lists slow
  t0="$(date +%s%N)"
  "${plain[@]}" --base-url "http://127.0.0.1:$port/api/v1" --timeout 1.5 >"$work/slow" 2>"$work/slow.err"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "a slow endless list with --timeout 1.5: exit code" 4 "$rc"
  [ "$ms" -ge 1400 ] && [ "$ms" -lt 15000 ] && pass || fail "--timeout 1.5 ended after $ms ms"
  [ "$(wc -l <"$work/slow")" -ge 1 ] && pass || fail "nothing listed before the timeout"
  grep -q -- '--timeout of 1.5 s' "$work/slow.err" && pass || fail "no timeout line: $(cat "$work/slow.err")"
  last="$(ids id "$work/slow" | tail -n1)"
  check "the cursor after a timeout is the last item printed" "cursor: $last" "$(grep '^cursor: ' "$work/slow.err")"
else
  echo "note: no $py, the looping, endless and slow list cases were skipped"
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
