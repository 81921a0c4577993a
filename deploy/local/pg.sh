#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benchmarks and local runs (pgbouncer's test setup).
#
#   deploy/local/pg.sh start   [DIR]   create (first time) or start the cluster in DIR; prints
#                                      HRET_PG='<conninfo>' (eval-able) and keeps it in DIR/hret_pg.env
#   deploy/local/pg.sh stop    [DIR]   stop it (fast shutdown); the data stays for a later start
#   deploy/local/pg.sh status  [DIR]   print HRET_PG and "running" or "stopped"; exit 0 / 3
#   deploy/local/pg.sh destroy [DIR]   stop it and delete DIR
#
# DIR defaults to $HRET_PG_DIR, else /tmp/hret-pg-<uid>; give each cluster its own DIR to run
# several at once. The server listens on 127.0.0.1 and a Unix socket in DIR only, on a free
# port chosen at creation (kept across restarts), trusts local connections (no password) and
# has a database `hret`. fsync is off (a test cluster trades durability for speed); set
# HRET_PG_FSYNC=on before the first start to keep it. PostgreSQL refuses to run as root, so
# as root the cluster belongs to the `postgres` user (runuser); otherwise to the caller.
set -euo pipefail

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
usage() {
  sed -n '2,10p' "$self" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
dir=${2:-${HRET_PG_DIR:-/tmp/hret-pg-$(id -u)}}
case $dir in
  *[[:space:]\'\"\\]*) echo "pg.sh: DIR must not contain spaces or quotes: $dir" >&2; exit 2 ;;
  /*) ;;
  *) dir=$PWD/$dir ;;
esac
data=$dir/data
state=$dir/hret_pg.env
cd / # the postgres user may not be allowed into the caller's directory

pg_bin() {
  local b
  b=$(pg_config --bindir 2>/dev/null || true)
  if [ -z "$b" ] || [ ! -x "$b/initdb" ]; then
    b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  if [ -z "$b" ] || [ ! -x "$b/initdb" ]; then
    echo "pg.sh: PostgreSQL server binaries not found (deploy/local/deps.sh installs postgresql)" >&2
    exit 1
  fi
  echo "$b"
}
bin=$(pg_bin)

as_owner() { # runs a command as the cluster owner
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

conninfo() { # port
  echo "host=$dir port=$1 dbname=hret user=postgres connect_timeout=10"
}

running() {
  [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

port_of() {
  sed -n "s/^port = \([0-9]*\).*/\1/p" "$data/postgresql.conf" | tail -n 1
}

write_settings() { # port
  local fsync=${HRET_PG_FSYNC:-off}
  as_owner tee -a "$data/postgresql.conf" >/dev/null <<CONF
# deploy/local/pg.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = $fsync
full_page_writes = $fsync
max_connections = 200
port = $1
CONF
}

create() {
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg.sh: no 'postgres' user to own the cluster" >&2; exit 1; }
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "pg.sh: the postgres user cannot write $dir (a parent directory is private)" >&2
      exit 1
    fi
  fi
  as_owner "$bin/initdb" -D "$data" -A trust -U postgres -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
}

start_server() {
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1
}

start() {
  if [ ! -f "$data/PG_VERSION" ]; then
    create
    local tries=0
    until write_settings "$(free_port)" && start_server; do
      tries=$((tries + 1))
      if [ $tries -ge 5 ]; then
        tail -n 20 "$dir/server.log" >&2 || true
        echo "pg.sh: the server did not start (log: $dir/server.log)" >&2
        exit 1
      fi
    done
    as_owner "$bin/createdb" -h "$dir" -p "$(port_of)" -U postgres hret
  elif ! running; then
    start_server || { tail -n 20 "$dir/server.log" >&2; echo "pg.sh: start failed" >&2; exit 1; }
  fi
  printf "HRET_PG='%s'\n" "$(conninfo "$(port_of)")" | tee "$state"
}

case $cmd in
  start) start ;;
  stop)
    if running; then
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
  status)
    [ -f "$data/PG_VERSION" ] || { echo "no cluster in $dir" >&2; exit 3; }
    printf "HRET_PG='%s'\n" "$(conninfo "$(port_of)")"
    if running; then echo running; else echo stopped; exit 3; fi
    ;;
  destroy)
    if running; then
      as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
