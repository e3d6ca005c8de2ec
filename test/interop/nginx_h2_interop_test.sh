#!/usr/bin/env bash
# `chatwire chat` against Debian's nginx, a server nobody here wrote, over TLS
# with HTTP/2 (and HTTP/1.1): nginx answers PollyBot's chat path with canned
# bodies, a whole JSON reply, an SSE stream and an error, picked by chatbot id.
# nginx's own access log confirms the protocol the CLI claims. Everything on
# 127.0.0.1; the nginx this script starts is stopped by PID.
set -u
cli="$1"
. "$(dirname "$0")/../support/cli_script.sh"
# Debian puts nginx in /usr/sbin, which is not on every user's PATH.
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx" ] || { echo "nginx not installed: skipped"; exit 77; }
"$nginx" -V 2>&1 | grep -q -- --with-http_v2_module || { echo "this nginx has no HTTP/2: skipped"; exit 77; }
command -v openssl >/dev/null || { echo "openssl not installed: skipped"; exit 77; }

# A throwaway self-signed certificate for 127.0.0.1, trusted through --ca-file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>"$work/openssl.err" ||
  { echo "openssl could not make a certificate: $(tail -1 "$work/openssl.err")"; exit 1; }

# The canned answers in PollyBot's shapes: its documented JSON reply and error,
# and the SSE events the emulator sends too (docs/emulator.md), ending in done, [DONE].
whole_text='Your order #12345 ships on Friday. Grüße!'
whole_body='{"success":true,"data":{"response":"'"$whole_text"'","conversationId":"cnv_nginx1","messageId":"msg_1"}}'
tokens=('Hello' ', from' ' nginx over h2.')
stream_body='data: {"type":"start","conversationId":"cnv_nginx2"}\n\n'
for t in "${tokens[@]}"; do stream_body+='data: {"type":"token","content":"'"$t"'"}\n\n'; done
stream_text="$(printf '%s' "${tokens[@]}")"
stream_body+='data: {"type":"done","data":{"response":"'"$stream_text"'","conversationId":"cnv_nginx2","messageId":"msg_2"}}\n\n'
stream_body+='data: [DONE]\n\n'
# The same stream cut before its terminal event: a clean end of body, not a reply.
cut_body="${stream_body%%data: {\"type\":\"done\"*}"
error_message='Insufficient credits to generate AI response. Please upgrade your plan.'
error_body='{"success":false,"error":"'"$error_message"'","code":"INSUFFICIENT_CREDITS"}'

# nginx as whoever runs this; as root its workers need a user that exists.
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user $(id -un nobody 2>/dev/null || echo root) $(id -gn nobody 2>/dev/null || echo root);"
write_conf() {  # port
  cat >"$work/nginx.conf" <<EOF
$user_line
worker_processes 1;
events { worker_connections 64; }
http {
  log_format proto '\$request_uri \$server_protocol \$status \$http_authorization';
  access_log $work/access.log proto;
  client_body_temp_path $work/client_body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$1 ssl http2;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    location = /api/v1/chatbots/whole/chat { default_type application/json; return 200 '$whole_body'; }
    location = /api/v1/chatbots/stream/chat { default_type text/event-stream; return 200 '$stream_body'; }
    location = /api/v1/chatbots/cut/chat { default_type text/event-stream; return 200 '$cut_body'; }
    location = /api/v1/chatbots/broke/chat { default_type application/json; return 402 '$error_body'; }
    location / { return 404; }
  }
}
EOF
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A random free port; another try when something takes it first (nginx then exits).
port=""
for _ in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 40000))
  listening "$p" && continue
  write_conf "$p"
  "$nginx" -p "$work" -e "$work/error.log" -c "$work/nginx.conf" -g "daemon off; pid $work/nginx.pid;" \
    >"$work/nginx.out" 2>&1 &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 100); do
    kill -0 "$nginx_pid" 2>/dev/null || break
    listening "$p" && { port="$p"; break; }
    sleep 0.1
  done
  [ -n "$port" ] && break
  kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null
  unset 'pids[-1]'  # reaped: its PID may be reused, never signal it again
done
[ -n "$port" ] || { echo "nginx did not start: $(tail -3 "$work/error.log" "$work/nginx.out" 2>/dev/null)"; exit 1; }
url="https://127.0.0.1:$port"

export POLLYBOT_API_KEY=sk-workspace_nginx
chat() {  # NAME CHATBOT [FLAGS...]: stdout in $work/NAME.out, stderr in NAME.err, exit code in `rc`
  local name="$1" bot="$2"; shift 2
  timeout 30 "$cli" chat --api pollybot --base-url "$url" --ca-file "$work/cert.pem" --chatbot "$bot" \
    --timeout 20 "$@" hello >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
}
last_err() { tail -1 "$work/$1.err"; }
spoke() {  # NAME PROTOCOL: the timing line of call NAME names PROTOCOL
  [[ "$(last_err "$1")" == *", $2" ]] && pass || fail "$1: wanted $2, timing line: $(last_err "$1")"
}
logged() { grep -c "^/api/v1/chatbots/$1/chat $2 $3 Bearer $POLLYBOT_API_KEY\$" "$work/access.log"; }

# (1) The whole reply over HTTP/2, byte for byte.
chat whole2 whole --http2 --no-stream
check "--http2 --no-stream: exit" 0 "$rc"
check "--http2 --no-stream: reply" "$whole_text" "$(cat "$work/whole2.out")"
spoke whole2 HTTP/2

# (2) The stream over HTTP/2: the tokens printed are the events' text joined.
chat stream2 stream --http2
check "--http2 stream: exit" 0 "$rc"
check "--http2 stream: tokens" "$stream_text" "$(cat "$work/stream2.out")"
spoke stream2 HTTP/2

# (3) No protocol flag: ALPN picks h2, for the stream and the whole reply.
chat stream_alpn stream
check "default stream: tokens" "$stream_text" "$(cat "$work/stream_alpn.out")"
spoke stream_alpn HTTP/2
chat whole_alpn whole --no-stream
check "default --no-stream: reply" "$whole_text" "$(cat "$work/whole_alpn.out")"
spoke whole_alpn HTTP/2

# (4) --http1.1: the same texts over HTTP/1.1.
chat whole1 whole --http1.1 --no-stream
check "--http1.1 --no-stream: reply" "$whole_text" "$(cat "$work/whole1.out")"
spoke whole1 HTTP/1.1
chat stream1 stream --http1.1
check "--http1.1 stream: tokens" "$stream_text" "$(cat "$work/stream1.out")"
spoke stream1 HTTP/1.1

# (5) PollyBot's 402: the service's error (exit 3), its message on stderr, no retry.
chat broke broke --no-stream
check "402 INSUFFICIENT_CREDITS: exit" 3 "$rc"
grep -qF "$error_message" "$work/broke.err" && pass || fail "402: no provider message in $(cat "$work/broke.err")"
chat broke_stream broke
check "402 on a stream: exit" 3 "$rc"
grep -qF "$error_message" "$work/broke_stream.err" && pass || fail "402 stream: $(cat "$work/broke_stream.err")"

# (6) A stream that ends cleanly before its terminal event is no answer (exit 4),
# though every token before the cut was printed.
chat cut cut --http2
check "stream cut before done: exit ($(last_err cut))" 4 "$rc"
check "stream cut before done: tokens so far" "$stream_text" "$(cat "$work/cut.out")"

# nginx's side: each call arrived once, with the key, over the protocol the CLI named.
# The log is written when a request ends; give the last one a moment.
for _ in $(seq 20); do [ "$(wc -l <"$work/access.log")" -ge 9 ] && break; sleep 0.1; done
check "nginx saw HTTP/2 whole replies" 2 "$(logged whole HTTP/2.0 200)"
check "nginx saw HTTP/2 streams" 2 "$(logged stream HTTP/2.0 200)"
check "nginx saw HTTP/1.1 whole reply" 1 "$(logged whole HTTP/1.1 200)"
check "nginx saw HTTP/1.1 stream" 1 "$(logged stream HTTP/1.1 200)"
check "nginx saw each 402 once" 2 "$(logged broke HTTP/2.0 402)"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
