#!/usr/bin/env bash
# chatwire chat ends a streamed reply at the API's terminal event: against a
# server that sends more events after it and then leaves the body open, it
# prints none of them and exits at once, not at its deadline. The server is
# the system's Python (standard library only) on 127.0.0.1 and stops by itself.
set -uo pipefail
cli="$1"
source "$(dirname "$0")/../../support/cli_script.sh"

py=/usr/bin/python3
if [ ! -x "$py" ]; then
  echo "note: no $py, skipped"
  exit 77
fi
cat >"$work/responder.py" <<'PY'
import signal, socket, sys, threading
signal.alarm(120)  # never outlives a stuck test
api = sys.argv[1]
sse = lambda d: b"data: " + d + b"\n\n"
if api == "pollybot":
    kind = b"text/event-stream"
    reply = (sse(b'{"type":"start","conversationId":"conv-1"}') + sse(b'{"type":"token","content":"Hi"}')
             + sse(b'{"type":"done","data":{"response":"Hi","conversationId":"conv-1","messageId":"m1"}}'))
    after = sse(b"[DONE]") + sse(b'{"type":"token","content":"EXTRA"}')
elif api == "chatbotkit":
    kind = b"application/jsonl"
    reply = b'{"type":"token","data":{"token":"Hi"}}\n{"type":"result","data":{"id":"m1","text":"Hi"}}\n'
    after = b'{"type":"token","data":{"token":"EXTRA"}}\n'
else:
    kind = b"text/event-stream"
    reply = sse(b'{"output":"Hi","conversation_id":"conv-1"}') + sse(b"[DONE]")
    after = sse(b'{"output":"EXTRA","conversation_id":"conv-1"}')
body = reply + after
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)
held = []

def answer(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    # One chunk with the reply and what follows it, then no last chunk: the
    # body stays open until the client closes the connection.
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + b"%x\r\n" % len(body) + body + b"\r\n")
    held.append(conn)

while True:
    conn, _ = srv.accept()
    threading.Thread(target=answer, args=(conn,), daemon=True).start()
PY

for api in pollybot chatbotkit vectorshift; do
  "$py" "$work/responder.py" "$api" >"$work/$api.port" 2>"$work/$api.err" &
  pids+=($!)
  wait_line "$work/$api.port" '^[0-9]' || { fail "responder $api did not start: $(cat "$work/$api.err")"; continue; }
  port="$(head -n1 "$work/$api.port")"
  base="http://127.0.0.1:$port"
  [ "$api" = chatbotkit ] && base="$base/api/v1"
  for mode in --json ""; do
    # --timeout 30: the whole reply's deadline, which the reply must end well before.
    t0="$(date +%s)"
    CHATBOTKIT_SECRET=k POLLYBOT_API_KEY=k VECTORSHIFT_API_KEY=k timeout 60 "$cli" chat --api "$api" \
      --base-url "$base" --chatbot b --conversation conv-1 --timeout 30 $mode hi >"$work/out" 2>"$work/err"
    rc=$?
    took=$(($(date +%s) - t0))
    check "$api $mode: exit code ($(cat "$work/err"))" 0 "$rc"
    [ "$took" -lt 15 ] && pass || fail "$api $mode: took $took s, the body's open end was waited for"
    grep -q EXTRA "$work/out" && fail "$api $mode: printed an event after the terminal one: $(cat "$work/out")" || pass
    if [ -n "$mode" ]; then
      last="$(tail -n1 "$work/out")"
      case "$last" in
        *'"kind":"result"'* | *'"kind":"done"'*) pass ;;
        *) fail "$api: the last event is not the terminal one: $last" ;;
      esac
    else
      check "$api: the reply text" Hi "$(cat "$work/out")"
    fi
  done
done

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
