#!/usr/bin/env bash
# The cost of one keep-alive request: a bare Beast loop, chatwire's transport,
# the whole VectorShift client and libcurl, side by side against nginx on
# 127.0.0.1 (plain HTTP and TLS), 10 keep-alive connections, one client thread;
# and over HTTP/2 (transport h2): 10 streams multiplexed on one TLS
# connection, chatwire and libcurl, with nghttp2's h2load as the ceiling.
#
#   scripts/bench_request.sh BUILD_DIR [--quick]
#
# Builds nothing: BUILD_DIR must hold a Release build of the bench_request
# target. Installs nginx and valgrind from Debian when missing (as root or with
# sudo), starts nginx itself from a generated config in a temporary directory
# and stops it by its PID on exit. Figures per client and transport:
#   - client CPU µs per request, user+system and user alone, from
#     getrusage(RUSAGE_SELF) over the timed window; requests/s; the client's
#     and nginx's CPU % over the window (nginx's from /proc/<pid>/stat);
#     medians of 3 rounds in alternating client order;
#   - user-space instructions per request from callgrind: the difference
#     between a short and a long run divided by the difference in requests,
#     so start-up and the warm-up cancel out.
# Prints a table with ratios against beast_bare from the same run and writes
# bench-results/request_cost.json (CHATWIRE_BENCH_RESULTS overrides the
# directory) plus callgrind profiles of the timed window of the long runs.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [--quick]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build_dir="$(cd "$1" && pwd)"; shift
quick=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    *) usage ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$build_dir/benchmarks/bench_request"
results="${CHATWIRE_BENCH_RESULTS:-$here/bench-results}"

if [ ! -x "$bin" ]; then
  echo "bench_request.sh: $bin is missing (build the bench_request target, Release)" >&2
  exit 1
fi

# ------------------------------------------------------------ settings
conc=10
rounds=3
if [ "$quick" = 1 ]; then
  requests=100000; warmup=300; max_seconds=0.5; peer_warmup=600
  cg_short=0; cg_long=1500  # one callgrind run per client: the window's own dump
else
  requests=400000; warmup=500; max_seconds=2; peer_warmup=2000
  cg_short=2000; cg_long=6000
fi
cg_timeout=300  # seconds per callgrind run, at most

script_start="$(date +%s)"
# ------------------------------------------------------------ tools
. "$here/scripts/lib/nginx.sh"
nginx_locate
if [ -z "$nginx_bin" ] || ! command -v valgrind >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
  install_missing nginx valgrind openssl
  nginx_locate
fi
if [ ! -x "$nginx_bin" ]; then
  echo "bench_request.sh: nginx is not installed, skipped" >&2
  exit 0
fi
have_valgrind=1
command -v valgrind >/dev/null 2>&1 || { have_valgrind=0; echo "bench_request.sh: valgrind missing, no instruction counts" >&2; }

# ------------------------------------------------------------ processes we own
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench_request.XXXXXX")"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ certificate and nginx
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
ca="$tmp/cert.pem"

# The legacy run reply (WIRE.md §1): {"status","output","conversation_id"}.
reply='{"status":"success","output":"Your order shipped on Monday and arrives tomorrow before noon.","conversation_id":"6f1c2a9e4b7d40a1"}'
plain_port="" tls_port="" h2_port="" close_full_port="" close_resume_port=""  # nginx_start picks them
nginx_servers() {  # the http block's own part of the config (lib/nginx.sh writes the rest)
  cat <<EOF
  ssl_certificate $tmp/cert.pem;
  ssl_certificate_key $tmp/key.pem;
  ssl_protocols TLSv1.2 TLSv1.3;
  server {
    listen 127.0.0.1:$plain_port;
    listen 127.0.0.1:$tls_port ssl;
    listen 127.0.0.1:$h2_port ssl http2;
    http2_max_requests 100000000;
    location = /api/chatbots/run {
      default_type application/json;
      return 200 '$reply';
    }
    location / { return 404; }
  }
  # For the handshake figures: TLS without session tickets (every handshake
  # is full: there is no session cache either), and a listener with tickets
  # that closes every connection after its reply ("Connection: close").
  server {
    listen 127.0.0.1:$close_full_port ssl;
    ssl_session_tickets off;
    location = /api/chatbots/run { default_type application/json; return 200 '$reply'; }
  }
  server {
    listen 127.0.0.1:$close_resume_port ssl;
    keepalive_timeout 0;
    ssl_session_tickets on;
    location = /api/chatbots/run { default_type application/json; return 200 '$reply'; }
  }
EOF
}
nginx_ready() {  # the plain, TLS and HTTP/2 listeners all answer
  curl -sf -X POST -H 'Content-Type: application/json' -d '{}' \
    "http://127.0.0.1:$plain_port/api/chatbots/run" -o /dev/null 2>/dev/null &&
  curl -sf --cacert "$ca" -X POST -H 'Content-Type: application/json' -d '{}' \
    "https://127.0.0.1:$tls_port/api/chatbots/run" -o /dev/null 2>/dev/null &&
  curl -sf --http2 --cacert "$ca" -X POST -H 'Content-Type: application/json' -d '{}' \
    "https://127.0.0.1:$h2_port/api/chatbots/run" -o /dev/null 2>/dev/null
}
if ! nginx_start "$tmp/nginx" "plain_port tls_port h2_port close_full_port close_resume_port" nginx_servers nginx_ready; then
  echo "bench_request.sh: nginx did not start" >&2
  cat "$tmp/nginx/logs/"*.log >&2 || true
  exit 1
fi
nginx_version="$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"

run_path=/api/chatbots/run
url_of() {
  case "$1" in
    tls) echo "https://127.0.0.1:$tls_port" ;;
    h2) echo "https://127.0.0.1:$h2_port" ;;
    *) echo "http://127.0.0.1:$plain_port" ;;
  esac
}
# Over HTTP/2: the C++ clients that speak it, and h2load (nghttp2's own load
# generator, the ceiling, as wrk is over HTTP/1.1).
speaks() {  # $1 client, $2 transport: whether the client runs over it
  case "$2:$1" in
    h2:beast_bare | h2:aiohttp | h2:node | h2:wrk) return 1 ;;
    plain:h2load | tls:h2load) return 1 ;;
  esac
  return 0
}
transport_flags() { [ "$1" = h2 ] && echo --http2 || true; }

read -r -a cxx_clients <<< "$("$bin" --list)"
# Peers outside bench_request, each printing the same RESULT line: aiohttp
# (Debian's python3-aiohttp), Node's built-in fetch (undici) and wrk (the
# machine's ceiling: its CPU from /proc, see wrk_result).
peers=()
python=/usr/bin/python3
[ -x "$python" ] && "$python" -c 'import aiohttp' 2>/dev/null && peers+=(aiohttp)
command -v node >/dev/null 2>&1 && peers+=(node)
command -v wrk >/dev/null 2>&1 && peers+=(wrk)
command -v h2load >/dev/null 2>&1 && peers+=(h2load)
clients=("${cxx_clients[@]}" "${peers[@]}")
proc_cpu() {  # "utime stime" of a process in seconds, from /proc/<pid>/stat
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f %.2f\n", $12 / hz, $13 / hz }' "/proc/$1/stat" 2>/dev/null || echo "-1 -1"
}
# wrk, one thread, $conc connections, for a whole number of seconds; its CPU
# and nginx's are read from /proc over a window inside the run (from 0.5 s to
# 0.3 s before the end), its requests/s is wrk's own over the whole run.
wrk_result() {  # $1 transport
  local t="$1" out="$tmp/wrk.out" seconds wpid a0 a1 b0 b1 n0 n1 t0 t1 start
  seconds="$(awk -v s="$max_seconds" 'BEGIN { print int(s + 2.5) }')"
  start="$(date +%s.%N)"
  # wrk itself (not under timeout: its /proc entry is the one read), bounded by -d.
  wrk -t1 -c"$conc" -d"${seconds}s" --timeout 5s -s "$here/benchmarks/wrk_run.lua" \
    "$(url_of "$t")$run_path" > "$out" 2>&1 &
  wpid=$!
  pids+=("$wpid")
  sleep_until() { local d; d="$(awk -v a="$start" -v o="$1" -v n="$(date +%s.%N)" 'BEGIN { d = a + o - n; print (d > 0 ? d : 0) }')"; sleep "$d"; }
  sleep_until 0.5
  read -r a0 b0 < <(proc_cpu "$wpid"); n0="$(proc_cpu "$nginx_pid")"; t0="$(date +%s.%N)"
  sleep_until "$(awk -v d="$seconds" 'BEGIN { print d - 0.7 }')"
  read -r a1 b1 < <(proc_cpu "$wpid"); n1="$(proc_cpu "$nginx_pid")"; t1="$(date +%s.%N)"
  wait "$wpid" 2>/dev/null || true
  unset 'pids[-1]'
  awk -v t="$t" -v conc="$conc" -v a0="$a0" -v b0="$b0" -v a1="$a1" -v b1="$b1" -v n0="$n0" -v n1="$n1" \
      -v t0="$t0" -v t1="$t1" '$1 == "WRK" && $2 > 0 && $3 > 0 && a0 >= 0 && a1 >= 0 {
    split(n0, x, " "); split(n1, y, " "); w = t1 - t0
    printf "RESULT client=wrk transport=%s requests=%d errors=%d seconds=%.6f user_s=%.2f sys_s=%.2f server_cpu_s=%.2f connections=%d\n",
      t, $2 / ($3 / 1e6) * w, $4, w, a1 - a0, b1 - b0, (y[1] + y[2]) - (x[1] + x[2]), conc }' "$out"
}
# h2load, one thread, one connection, $conc streams at once, a fixed count of
# requests: its CPU (and nginx's) from /proc over the whole run, which the
# count makes long enough for the connection's set-up not to matter.
h2load_result() {
  local n pid a0 a1 n0 n1 out="$tmp/h2load.out"
  n=$((requests / 2))
  n0="$(proc_cpu "$nginx_pid")"
  h2load -n "$n" -c 1 -m "$conc" -t 1 -H 'Content-Type: application/json' -H 'Api-Key: bench-key' \
    -d "$tmp/run_body.json" "$(url_of h2)$run_path" > "$out" 2>&1 &
  pid=$!
  pids+=("$pid")
  a0="$(proc_cpu "$pid")"
  # Its CPU just before it exits: h2load stays until waited for (a zombie keeps no stat), so poll.
  a1="$a0"
  for _ in $(seq 1200); do
    kill -0 "$pid" 2>/dev/null || break
    a1="$(proc_cpu "$pid")"
    grep -q '^finished in' "$out" 2>/dev/null && break
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
  unset 'pids[-1]'
  n1="$(proc_cpu "$nginx_pid")"
  awk -v conc="$conc" -v a0="$a0" -v a1="$a1" -v n0="$n0" -v n1="$n1" '
    /^finished in/ { secs = $3; sub(/s,$/, "", secs); if ($3 ~ /ms,$/) { secs = $3; sub(/ms,$/, "", secs); secs /= 1000 } }
    /^requests:/ { ok = $8; failed = $10 + $12 }
    END {
      split(a0, x, " "); split(a1, y, " "); split(n0, p, " "); split(n1, q, " ")
      if (ok > 0 && secs > 0)
        printf "RESULT client=h2load transport=h2 requests=%d errors=%d seconds=%.6f user_s=%.2f sys_s=%.2f server_cpu_s=%.2f connections=1\n",
          ok, failed, secs, y[1] - x[1], y[2] - x[2], (q[1] + q[2]) - (p[1] + p[2])
    }' "$out"
}
run_client() {  # $1 client, $2 transport: prints the client's RESULT line
  local c="$1" common
  common=(--url "$(url_of "$2")" --requests "$requests" --warmup "$warmup" --conc "$conc"
          --max-seconds "$max_seconds" --server-pid "$nginx_pid")
  case "$c" in
    # The interpreted peers warm up longer (Node's JIT), within the same time bound.
    aiohttp) timeout 120 "$python" "$here/benchmarks/aiohttp_client.py" --ca "$ca" "${common[@]}" --warmup "$peer_warmup" ;;
    node) NODE_EXTRA_CA_CERTS="$ca" timeout 120 node "$here/benchmarks/node_fetch_client.mjs" "${common[@]}" \
            --warmup "$peer_warmup" ;;
    wrk) wrk_result "$2" ;;
    h2load) h2load_result ;;
    *) timeout 120 "$bin" --client "$c" --ca "$ca" "${common[@]}" $(transport_flags "$2") ;;
  esac
}
echo "== request cost: ${clients[*]} against nginx $nginx_version (127.0.0.1, $conc keep-alive connections, one client thread) =="
echo "   plain http://127.0.0.1:$plain_port, TLS https://127.0.0.1:$tls_port, HTTP/2 https://127.0.0.1:$h2_port (one connection, $conc streams); nginx pid $nginx_pid (1 process, access_log off)"
# h2load's request body: what the other clients send.
printf '{"input":"Where is my order? It was due on Tuesday.","chatbot_id":"bench"}' > "$tmp/run_body.json"

# ------------------------------------------------------------ timed rounds
raw="$tmp/rounds.txt"
: > "$raw"
for r in $(seq "$rounds"); do
  order=("${clients[@]}")
  if [ $((r % 2)) = 0 ]; then  # reversed on even rounds
    order=(); for ((i = ${#clients[@]} - 1; i >= 0; i--)); do order+=("${clients[$i]}"); done
  fi
  echo "   round $r/$rounds: ${order[*]}"
  for t in plain tls h2; do
    for c in "${order[@]}"; do
      speaks "$c" "$t" || continue
      line="$(run_client "$c" "$t" | grep '^RESULT ' || true)"
      if [ -z "$line" ]; then echo "   $t $c: no result" >&2; continue; fi
      echo "round=$r $line" >> "$raw"
    done
  done
done

# ------------------------------------------------------------ connection set-up
# chatwire's transport, one request at a time (one connection): kept alive,
# and reconnecting (--reconnect: the idle connection is closed after each
# request, so each request connects again after a kept-alive connection
# ended). Client CPU per request, medians of the rounds. A handshake's cost
# is a reconnecting request's minus a kept-alive one's, less the same
# difference over plain TCP (connect and close):
#   tls_full_handshake_us = (tls_full - tls_keepalive) - (plain_close - plain_keepalive)
# tls_full reconnects to the listener without session tickets, tls_resume to
# the one with them (nginx's default). tls_server_close: the listener that
# closes every connection after its reply (the session is then only there to
# be resumed if the client kept it from a connection that was not reused).
hs="$tmp/handshake.txt"
: > "$hs"
if [ "$quick" = 1 ]; then hs_requests=400; hs_seconds=0.4; else hs_requests=3000; hs_seconds=1.5; fi
hs_kinds=(plain_keepalive plain_close tls_keepalive tls_full tls_resume tls_server_close)
hs_args() {  # the URL and the flags of one kind
  case "$1" in
    plain_keepalive) echo "http://127.0.0.1:$plain_port" ;;
    plain_close) echo "http://127.0.0.1:$plain_port --reconnect" ;;
    tls_keepalive) echo "https://127.0.0.1:$tls_port" ;;
    tls_full) echo "https://127.0.0.1:$close_full_port --reconnect" ;;
    tls_resume) echo "https://127.0.0.1:$tls_port --reconnect" ;;
    tls_server_close) echo "https://127.0.0.1:$close_resume_port" ;;
  esac
}
echo "   ($(( $(date +%s) - script_start )) s) connection set-up: chatwire_transport, one connection at a time, $hs_requests requests or ${hs_seconds} s per kind and round"
for r in $(seq "$rounds"); do
  order=("${hs_kinds[@]}")
  [ $((r % 2)) = 0 ] && order=(tls_server_close tls_resume tls_full tls_keepalive plain_close plain_keepalive)
  for k in "${order[@]}"; do
    read -r -a kind_args <<< "$(hs_args "$k")"
    line="$(timeout 120 "$bin" --client chatwire_transport --url "${kind_args[@]}" --ca "$ca" --requests "$hs_requests" \
              --warmup 3 --conc 1 --max-seconds "$hs_seconds" --server-pid "$nginx_pid" | grep '^RESULT ' || true)"
    if [ -z "$line" ]; then echo "   set-up $k: no result" >&2; continue; fi
    echo "round=$r kind=$k $line" >> "$hs"
  done
done

# ------------------------------------------------------------ callgrind
cg_dir="$results/callgrind"
rm -rf "$cg_dir"
mkdir -p "$cg_dir"
cg="$tmp/callgrind.txt"
: > "$cg"
total_ir() {  # the sum over every dump of one run of its "totals:" line (else "summary:")
  local f s=0 v
  for f in "$@"; do
    v="$(awk '/^totals:/ { t = $2 } /^summary:/ { s = $2 } END { print (t != "" ? t : s) }' "$f")"
    s=$((s + ${v:-0}))
  done
  echo "$s"
}
if [ "$have_valgrind" = 1 ]; then
  if [ "$cg_short" -gt 0 ]; then
    echo "   ($(( $(date +%s) - script_start )) s) callgrind: $cg_short and $cg_long requests per client and transport"
  else
    echo "   ($(( $(date +%s) - script_start )) s) callgrind: $cg_long requests per client and transport, the timed window's dump"
  fi
  for t in plain tls h2; do
    for c in "${cxx_clients[@]}"; do
      speaks "$c" "$t" || continue
      cg_runs=("$cg_long"); [ "$cg_short" -gt 0 ] && cg_runs=("$cg_short" "$cg_long")
      for n in "${cg_runs[@]}"; do
        base="$cg_dir/$t-$c-$n"
        line="$(timeout "$cg_timeout" valgrind --tool=callgrind --callgrind-out-file="$base.out" \
                  --dump-instr=no --compress-strings=no --compress-pos=no \
                  "$bin" --client "$c" --url "$(url_of "$t")" --ca "$ca" --requests "$n" \
                  --warmup "$warmup" --conc "$conc" --max-seconds "$cg_timeout" $(transport_flags "$t") 2>"$base.log" \
                | grep '^RESULT ' || true)"
        done_n="$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$line")"
        if [ -z "$line" ] || [ "$done_n" != "$n" ]; then
          echo "   callgrind $t $c $n: no result (see $base.log)" >&2
          continue
        fi
        ir="$(total_ir "$base".out*)"
        # The window's own dump: the middle one ("window"), for the profile.
        win_file="$(grep -l '^desc: Trigger: Client Request: window' "$base".out* 2>/dev/null | head -1 || true)"
        win_ir=0; [ -n "$win_file" ] && win_ir="$(total_ir "$win_file")"
        echo "$t $c $n $ir $win_ir ${win_file:-none}" >> "$cg"
      done
    done
  done
fi

# ------------------------------------------------------------ profiles of the window
# From the long callgrind run of each client: the window's own dump, self cost
# per request grouped by component, heap allocations per request, and the top
# inclusive functions.
prof="$results/profiles"
allocs="$tmp/allocs.txt"
: > "$allocs"
rm -rf "$prof"
if [ "$have_valgrind" = 1 ] && [ -s "$cg" ]; then
  mkdir -p "$prof"
  while read -r t c n _ _ wfile; do
    [ "$n" = "$cg_long" ] && [ "$wfile" != none ] || continue
    perl "$here/scripts/callgrind_breakdown.pl" "$n" "$wfile" 40 > "$prof/$t-$c-self.tsv"
    awk -F'\t' -v t="$t" -v c="$c" '$1 == "total" && $2 == "heap allocations" { print t, c, $3 }' \
      "$prof/$t-$c-self.tsv" >> "$allocs"
    if command -v callgrind_annotate >/dev/null 2>&1; then
      callgrind_annotate --inclusive=yes --threshold=100 "$wfile" 2>/dev/null \
        | perl "$here/scripts/callgrind_breakdown.pl" --annotate "$n" 60 > "$prof/$t-$c-inclusive.txt" || true
    fi
  done < "$cg"
fi

# ------------------------------------------------------------ figures
mkdir -p "$results"
echo '*' > "$results/.gitignore"
json="$results/request_cost.json"
cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
cores="$(nproc)"
kernel="$(uname -r)"
compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:[^=]*=//p' "$build_dir/CMakeCache.txt" | head -1)"
compiler_version="$("${compiler:-c++}" --version 2>/dev/null | head -1 || true)"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[^=]*=//p' "$build_dir/CMakeCache.txt" | head -1)"
boost_version="$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp 2>/dev/null | tr _ . || true)"
openssl_version="$(openssl version | awk '{print $2}')"
commit="$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"

awk -v quick="$quick" -v rounds="$rounds" -v requests="$requests" -v conc="$conc" \
    -v cg_short="$cg_short" -v cg_long="$cg_long" -v clients="${clients[*]}" \
    -v cpu_model="$cpu_model" -v cores="$cores" -v kernel="$kernel" -v compiler="$compiler_version" \
    -v build_type="$build_type" -v boost="$boost_version" -v openssl="$openssl_version" \
    -v nginx="$nginx_version" -v commit="$commit" -v json="$json" -v cgfile="$cg" -v allocfile="$allocs" '
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  if (n == 0) return -1
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key] = (key in vals) ? vals[key] " " v : v }
function put(name, v, fmt) { if (v == "" || v < 0) return; out[++nout] = sprintf("  \"%s\": " fmt, name, v) }
function puts_(name, v) { gsub(/"/, "\\\"", v); out[++nout] = sprintf("  \"%s\": \"%s\"", name, v) }
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
function num(v, fmt) { return (v > 0) ? sprintf(fmt, v) : "-" }
FILENAME == allocfile { heap[$1, $2] = $3; next }
FILENAME == cgfile {
  # transport client n ir window_ir window_file
  ir[$1, $2, $3] = $4; win[$1, $2, $3] = $5
  next
}
{
  delete f
  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  if (f["requests"] <= 0 || f["errors"] > 0) next
  k = f["transport"] SUBSEP f["client"]
  n = f["requests"]; s = f["seconds"]
  add(k SUBSEP "cpu", (f["user_s"] + f["sys_s"]) * 1e6 / n)
  add(k SUBSEP "user", f["user_s"] * 1e6 / n)
  add(k SUBSEP "rate", n / s)
  add(k SUBSEP "client_pct", (f["user_s"] + f["sys_s"]) / s * 100)
  if (f["server_cpu_s"] >= 0) add(k SUBSEP "server_pct", f["server_cpu_s"] / s * 100)
  add(k SUBSEP "conns", f["connections"])
}
END {
  nc = split(clients, cl, " ")
  puts_("machine_cpu", cpu_model); put("machine_cores", cores, "%d"); puts_("machine_kernel", kernel)
  puts_("compiler", compiler); puts_("build_type", build_type); puts_("boost", boost)
  puts_("openssl", openssl); puts_("nginx", nginx); puts_("chatwire_commit", commit)
  put("quick", quick, "%d"); put("rounds", rounds, "%d"); put("requests_per_round", requests, "%d")
  put("connections", conc, "%d"); put("callgrind_short_requests", cg_short, "%d"); put("callgrind_long_requests", cg_long, "%d")
  printf "\n%-5s %-19s %9s %6s %8s %6s %8s %6s %8s %7s %7s  %s\n", "", "client", "instr/req", "x bare", "cpu us", "x bare", "user us", "x bare", "req/s", "client%", "nginx%", "flags"
  flagged = 0
  for (ti = 1; ti <= 3; ti++) {
    t = (ti == 1) ? "plain" : (ti == 2) ? "tls" : "h2"; pre = (t == "plain") ? "" : t "_"
    bt = (t == "h2") ? "tls" : t  # over HTTP/2 the base is still the bare Beast loop over TLS
    for (ci = 1; ci <= nc; ci++) {
      c = cl[ci]; k = t SUBSEP c
      cpu[t, c] = median(vals[k SUBSEP "cpu"]); user[t, c] = median(vals[k SUBSEP "user"])
      rate[t, c] = median(vals[k SUBSEP "rate"]); cpct[t, c] = median(vals[k SUBSEP "client_pct"])
      spct[t, c] = median(vals[k SUBSEP "server_pct"])
      ipr[t, c] = -1; wpr[t, c] = -1
      if (((t SUBSEP c SUBSEP cg_short) in ir) && ((t SUBSEP c SUBSEP cg_long) in ir))
        ipr[t, c] = (ir[t, c, cg_long] - ir[t, c, cg_short]) / (cg_long - cg_short)
      if (((t SUBSEP c SUBSEP cg_long) in win) && win[t, c, cg_long] > 0) wpr[t, c] = win[t, c, cg_long] / cg_long
      if (ipr[t, c] < 0 && cg_short == 0) ipr[t, c] = wpr[t, c]  # quick: the window dump alone
    }
    for (ci = 1; ci <= nc; ci++) {
      c = cl[ci]; b = "beast_bare"
      if (t == "h2" && (c == b || c == "aiohttp" || c == "node" || c == "wrk")) continue
      if (t != "h2" && c == "h2load") continue
      flags = ""
      if (cpu[t, c] < 0) flags = "no result"
      else {
        if (cpct[t, c] < 90) flags = flags sprintf("client %.0f%% of a core; ", cpct[t, c])
        if (spct[t, c] > 90) flags = flags sprintf("nginx saturated (%.0f%%); ", spct[t, c])
      }
      sub(/; $/, "", flags)
      if (flags != "") flagged++
      printf "%-5s %-19s %9s %6s %8s %6s %8s %6s %8s %7s %7s  %s\n", t, c,
        num(ipr[t, c], "%.0f"), ratio(ipr[t, c], ipr[bt, b]),
        num(cpu[t, c], "%.1f"), ratio(cpu[t, c], cpu[bt, b]),
        num(user[t, c], "%.1f"), ratio(user[t, c], user[bt, b]),
        num(rate[t, c], "%.0f"), num(cpct[t, c], "%.0f"), num(spct[t, c], "%.0f"), flags
      put(pre "cpu_us_per_request_" c, cpu[t, c], "%.3f")
      put(pre "user_us_per_request_" c, user[t, c], "%.3f")
      put(pre "requests_per_s_" c, rate[t, c], "%.0f")
      put(pre "client_cpu_percent_" c, cpct[t, c], "%.1f")
      put(pre "nginx_cpu_percent_" c, spct[t, c], "%.1f")
      put(pre "instructions_per_request_" c, ipr[t, c], "%.0f")
      put(pre "window_instructions_per_request_" c, wpr[t, c], "%.0f")
      if ((t SUBSEP c) in heap) put(pre "heap_allocations_per_request_" c, heap[t, c], "%.1f")
      if (c != b) {
        if (cpu[t, c] > 0 && cpu[bt, b] > 0) put(pre "cpu_ratio_to_beast_bare_" c, cpu[t, c] / cpu[bt, b], "%.3f")
        if (user[t, c] > 0 && user[bt, b] > 0) put(pre "user_ratio_to_beast_bare_" c, user[t, c] / user[bt, b], "%.3f")
        if (ipr[t, c] > 0 && ipr[bt, b] > 0) put(pre "instructions_ratio_to_beast_bare_" c, ipr[t, c] / ipr[bt, b], "%.3f")
      }
      if (flags != "") puts_(pre "flag_" c, flags)
      # Over HTTP/2 a client is held against its own HTTP/1.1-over-TLS
      # figure, against libcurl over HTTP/2 and against h2load, the ceiling.
      if (t == "h2" && cpu[t, c] > 0) {
        vs = ""
        if (cpu["tls", c] > 0) { put("h2_cpu_ratio_to_own_tls_" c, cpu[t, c] / cpu["tls", c], "%.3f"); vs = vs sprintf(" own TLS x%.2f", cpu[t, c] / cpu["tls", c]) }
        if (ipr[t, c] > 0 && ipr["tls", c] > 0) put("h2_instructions_ratio_to_own_tls_" c, ipr[t, c] / ipr["tls", c], "%.3f")
        if (c != "libcurl" && cpu[t, "libcurl"] > 0) { put("h2_cpu_ratio_to_libcurl_" c, cpu[t, c] / cpu[t, "libcurl"], "%.3f"); vs = vs sprintf(", libcurl x%.2f", cpu[t, c] / cpu[t, "libcurl"]) }
        if (c != "libcurl" && ipr[t, c] > 0 && ipr[t, "libcurl"] > 0) put("h2_instructions_ratio_to_libcurl_" c, ipr[t, c] / ipr[t, "libcurl"], "%.3f")
        if (c != "h2load" && cpu[t, "h2load"] > 0) { put("h2_cpu_ratio_to_h2load_" c, cpu[t, c] / cpu[t, "h2load"], "%.3f"); vs = vs sprintf(", h2load x%.2f", cpu[t, c] / cpu[t, "h2load"]) }
        sub(/^,/, "", vs)
        if (vs != "") h2vs[++nh2] = sprintf("      %s over h2, cpu/req against:%s", c, vs)
      }
    }
  }
  for (i = 1; i <= nh2; i++) print h2vs[i]
  printf "{\n" > json
  for (i = 1; i <= nout; i++) printf "%s%s\n", out[i], (i < nout ? "," : "") > json
  printf "}\n" > json
  print ""
  if (cg_short > 0) print "   instr/req: user-space instructions per request (callgrind, " cg_long " minus " cg_short " requests);"
  else print "   instr/req: user-space instructions per request (callgrind, the timed window of " cg_long " requests);"
  print "   cpu us: client user+system CPU per request (getrusage over the window), user us: user alone;"
  print "   medians of " rounds " rounds; x bare = ratio to beast_bare in this run (>1: costlier)."
  if (flagged) print "   flags: a client below 90% of a core was waiting (on nginx or on the other processes of this machine)."
}' "$allocs" "$cg" "$raw"

# ------------------------------------------------------------ handshake figures
hs_json="$results/tls_handshake.json"
awk -v json="$hs_json" '
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  if (n == 0) return -1
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key] = (key in vals) ? vals[key] " " v : v }
{
  delete f
  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  if (f["requests"] <= 0 || f["errors"] > 0) next
  k = f["kind"]
  add(k SUBSEP "cpu", (f["user_s"] + f["sys_s"]) * 1e6 / f["requests"])
  add(k SUBSEP "pct", (f["user_s"] + f["sys_s"]) / f["seconds"] * 100)
  if (f["connections"] > 1) add(k SUBSEP "resumed", f["resumed"] / (f["connections"] - 1))
  add(k SUBSEP "conns_per_req", f["connections"] / (f["requests"] + 3))
}
END {
  n = split("plain_keepalive plain_close tls_keepalive tls_full tls_resume tls_server_close", kinds, " ")
  for (i = 1; i <= n; i++) {
    k = kinds[i]; cpu[k] = median(vals[k SUBSEP "cpu"]); pct[k] = median(vals[k SUBSEP "pct"])
    if (cpu[k] >= 0) out[++m] = sprintf("  \"cpu_us_per_request_%s\": %.2f", k, cpu[k])
    if (pct[k] >= 0) out[++m] = sprintf("  \"client_cpu_percent_%s\": %.1f", k, pct[k])
  }
  if (cpu["plain_close"] >= 0 && cpu["plain_keepalive"] >= 0) {
    tcp = cpu["plain_close"] - cpu["plain_keepalive"]
    out[++m] = sprintf("  \"tcp_connect_close_us\": %.2f", tcp)
    if (cpu["tls_full"] >= 0 && cpu["tls_keepalive"] >= 0)
      out[++m] = sprintf("  \"tls_full_handshake_us\": %.2f", cpu["tls_full"] - cpu["tls_keepalive"] - tcp)
    if (cpu["tls_resume"] >= 0 && cpu["tls_keepalive"] >= 0)
      out[++m] = sprintf("  \"tls_resumed_handshake_us\": %.2f", cpu["tls_resume"] - cpu["tls_keepalive"] - tcp)
  }
  rr = median(vals["tls_resume" SUBSEP "resumed"]); if (rr >= 0) out[++m] = sprintf("  \"tls_resumption_rate\": %.3f", rr)
  rf = median(vals["tls_full" SUBSEP "resumed"]); if (rf >= 0) out[++m] = sprintf("  \"tls_resumption_rate_without_tickets\": %.3f", rf)
  rs = median(vals["tls_server_close" SUBSEP "resumed"]); if (rs >= 0) out[++m] = sprintf("  \"tls_resumption_rate_server_close\": %.3f", rs)
  cr = median(vals["tls_resume" SUBSEP "conns_per_req"]); if (cr >= 0) out[++m] = sprintf("  \"connections_per_request_tls_resume\": %.3f", cr)
  printf "{\n" > json
  for (i = 1; i <= m; i++) printf "%s%s\n", out[i], (i < m ? "," : "") > json
  printf "}\n" > json
  printf "\n   connection set-up (chatwire_transport, CPU us per request, medians):"
  for (i = 1; i <= n; i++) printf " %s %.1f", kinds[i], cpu[kinds[i]]
  printf "\n   TLS resumption rate on reconnects: %s (after the server closed each connection: %s)\n", (rr >= 0 ? sprintf("%.3f", rr) : "-"), (rs >= 0 ? sprintf("%.3f", rs) : "-")
}' "$hs"
echo "   JSON: $hs_json"

# ------------------------------------------------------------ the profiles side by side
if [ "$have_valgrind" = 1 ] && [ -s "$cg" ]; then
  for t in plain tls h2; do
    ls "$prof/$t-"*-self.tsv >/dev/null 2>&1 || continue
    echo
    echo "   $t: self instructions per request by component (callgrind, window of the $cg_long-request run)"
    awk -F'\t' -v clients="${cxx_clients[*]}" -v t="$t" '
      FNR == 1 { c = FILENAME; sub(/.*\//, "", c); sub("^" t "-", "", c); sub(/-self\.tsv$/, "", c) }
      $1 == "total" && $2 == "all" { tot[c] = $3 }
      $1 == "total" && $2 == "heap allocations" { heap[c] = $3 }
      $1 == "category" { v[$2, c] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } sum[$2] += $3 }
      END {
        nc = split(clients, cl, " ")
        printf "   %-46s", "component"; for (i = 1; i <= nc; i++) printf " %18s", cl[i]; printf "\n"
        # Sort components by their largest cost over the clients.
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sum[order[j]] > sum[order[i]]) { x = order[i]; order[i] = order[j]; order[j] = x }
        for (i = 1; i <= n; i++) {
          printf "   %-46s", order[i]
          for (k = 1; k <= nc; k++) printf " %18s", ((order[i], cl[k]) in v) ? v[order[i], cl[k]] : "-"
          printf "\n"
        }
        printf "   %-46s", "total"; for (i = 1; i <= nc; i++) printf " %18s", (cl[i] in tot) ? tot[cl[i]] : "-"; printf "\n"
        printf "   %-46s", "heap allocations per request"; for (i = 1; i <= nc; i++) printf " %18s", (cl[i] in heap) ? heap[cl[i]] : "-"; printf "\n"
      }' "$prof/$t-"*-self.tsv
  done
  echo "   per client: $prof/<transport>-<client>-self.tsv (components, top functions), -inclusive.txt; raw: $cg_dir"
fi
echo "   JSON: $json"
