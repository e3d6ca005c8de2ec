#!/usr/bin/env bash
# HTTP/2 between parts nobody here wrote and chatwire: curl (libcurl on
# nghttp2) and nghttp against `chatwire emulate`, over TLS by ALPN and in
# clear by prior knowledge; then `chatwire chat` against the same server,
# naming the protocol it used. Everything on 127.0.0.1; every server this
# script starts is stopped by PID.
set -u
cli="$1"
. "$(dirname "$0")/../support/cli_script.sh"
command -v curl >/dev/null || { echo "curl not installed: skipped"; exit 77; }
curl -V | grep -q HTTP2 || { echo "this curl speaks no HTTP/2: skipped"; exit 77; }

start_emulator tls --cert-out "$work/ca.pem" --api-key k || { echo "emulator did not start"; exit 1; }
tls_url="$emulator_url"
start_emulator plain --plain --api-key k || { echo "plain emulator did not start"; exit 1; }
plain_url="$emulator_url"
chat_body='{"message":"hello","stream":false}'

# curl over TLS: ALPN picks h2; the PollyBot reply arrives whole.
out="$(curl -sS --http2 --cacert "$work/ca.pem" -o "$work/reply.json" -w '%{http_version} %{http_code}' \
  -H 'Authorization: Bearer k' -H 'Content-Type: application/json' -d "$chat_body" \
  "$tls_url/api/v1/chatbots/bot/chat")"
check "curl --http2 over TLS: version and status" "2 200" "$out"
grep -q '"response"' "$work/reply.json" && pass || fail "curl --http2: no reply text in $(head -c 200 "$work/reply.json")"

# The same streamed (SSE): every event arrives and the stream ends with [DONE].
out="$(curl -sS --http2 --cacert "$work/ca.pem" -N -o "$work/stream.txt" -w '%{http_version}' \
  -H 'Authorization: Bearer k' -H 'Content-Type: application/json' \
  -d '{"message":"hello","stream":true}' "$tls_url/api/v1/chatbots/bot/chat")"
check "curl --http2 stream: version" "2" "$out"
grep -q '^data: \[DONE\]' "$work/stream.txt" && pass || fail "curl --http2 stream did not end with [DONE]"

# Prior knowledge in clear (h2c).
out="$(curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' \
  -H 'Authorization: Bearer k' -H 'Content-Type: application/json' -d "$chat_body" \
  "$plain_url/api/v1/chatbots/bot/chat")"
check "curl --http2-prior-knowledge: version and status" "2 200" "$out"

# A client that offers only HTTP/1.1 gets it.
out="$(curl -sS --http1.1 --cacert "$work/ca.pem" -o /dev/null -w '%{http_version} %{http_code}' \
  -H 'Authorization: Bearer k' -H 'Content-Type: application/json' -d "$chat_body" \
  "$tls_url/api/v1/chatbots/bot/chat")"
check "curl --http1.1 against the h2 emulator" "1.1 200" "$out"

# nghttp (nghttp2's own client), when installed: the answer's status over h2.
if command -v nghttp >/dev/null; then
  printf '%s' "$chat_body" >"$work/body.json"
  if nghttp -v -H 'authorization: Bearer k' -H 'content-type: application/json' -d "$work/body.json" \
      "$tls_url/api/v1/chatbots/bot/chat" >"$work/nghttp.txt" 2>&1; then
    grep -q ':status: 200' "$work/nghttp.txt" && pass || fail "nghttp: no 200 in $(grep status "$work/nghttp.txt")"
  else
    fail "nghttp failed: $(tail -3 "$work/nghttp.txt")"
  fi
else
  echo "nghttp not installed: its checks skipped"
fi

# chatwire chat takes h2 without being asked, and says so; --http1.1 keeps to HTTP/1.1.
export POLLYBOT_API_KEY=k
"$cli" chat --api pollybot --base-url "$tls_url" --ca-file "$work/ca.pem" --chatbot bot hello >/dev/null 2>"$work/chat.err"
grep -q 'HTTP/2$' "$work/chat.err" && pass || fail "chatwire chat did not use HTTP/2: $(tail -1 "$work/chat.err")"
"$cli" chat --api pollybot --base-url "$tls_url" --ca-file "$work/ca.pem" --chatbot bot --http1.1 hello \
  >/dev/null 2>"$work/chat1.err"
grep -q 'HTTP/1.1$' "$work/chat1.err" && pass || fail "chatwire chat --http1.1: $(tail -1 "$work/chat1.err")"
"$cli" chat --api pollybot --base-url "$plain_url" --chatbot bot --http2 hello >/dev/null 2>"$work/chat2.err"
grep -q 'HTTP/2$' "$work/chat2.err" && pass || fail "chatwire chat --http2 in clear: $(tail -1 "$work/chat2.err")"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
