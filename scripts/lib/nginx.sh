# Debian packages, free ports and nginx for the bench scripts (sourced).
#
#   pids=()                                  # the caller's list of processes to stop on exit
#   install_missing PACKAGE...               # apt-get install those not installed
#   nginx_locate                             # nginx_bin: nginx's path, or empty
#   port="$(free_port)"
#   nginx_start DIR "VAR..." WRITE_FN READY_FN
#   ... "$nginx_pid" ...
#
# install_missing runs as root or through `sudo -n` (never prompting); it
# says so on stderr and never fails the caller: whether the tool is there
# after it is for the caller to check.
# nginx_start sets each VAR to a distinct free port, writes DIR/nginx.conf
# (one process in the foreground, logs and temporary files under DIR, and an
# http block holding what WRITE_FN prints), starts "$nginx_bin" in the
# background, adds its PID to `pids` and sets nginx_pid, then polls READY_FN
# (at most 10 s). A port taken between the check and the bind stops nginx
# from starting: then it stops that nginx and tries other ports, 5 times in
# all before returning 1 (the caller prints DIR/logs/*.log).
# shellcheck shell=bash

install_missing() {
  local missing=() p sudo=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "${0##*/}: cannot install ${missing[*]} (not root)" >&2; return 0; }
    sudo=(sudo -n)
  fi
  echo "${0##*/}: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 "${sudo[@]}" apt-get update -qq || true
  timeout 600 "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || true
}

# /usr/sbin is not on every user's PATH.
nginx_locate() {
  nginx_bin="$(command -v nginx || true)"
  [ -n "$nginx_bin" ] || [ ! -x /usr/sbin/nginx ] || nginx_bin=/usr/sbin/nginx
}

free_port() {  # a port nobody listens on now, below Linux's ephemeral range (32768-)
  local p _
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

nginx_start() {
  local _
  for _ in 1 2 3 4 5; do
    _nginx_start_once "$@" && return 0
  done
  return 1
}

_nginx_start_once() {
  local dir="$1" vars="$2" write="$3" ready="$4" taken=" " v p _
  for v in $vars; do
    p="$(free_port)" || return 1
    while [[ "$taken" == *" $p "* ]]; do p="$(free_port)" || return 1; done
    taken="$taken$p "
    printf -v "$v" '%s' "$p"
  done
  mkdir -p "$dir/logs" "$dir/tmp"
  {
    cat <<EOF
worker_processes 1;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
EOF
    "$write"
    echo "}"
  } > "$dir/nginx.conf"
  "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" > "$dir/logs/stdout.log" 2>&1 &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 100); do
    "$ready" && return 0
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  unset 'pids[-1]'
  return 1
}
