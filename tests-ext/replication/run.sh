#!/usr/bin/env bash
# The replicated deployment, without Docker: a PostgreSQL for the change log, a writer and two
# replicas of TIEGRAPH_BIN, and HAProxy with deploy/haproxy.cfg (the file docker-compose.yml's
# `replicated` profile mounts) in front of them, all on loopback. check_proxy.py then checks
# THROUGH THE PROXY that writes reach the writer and reads the replicas, that a replica that is
# killed gets no reads and catches up when it comes back, and that the writer answers reads
# when both replicas are down.
#
#   TIEGRAPH_BIN=target/release/tiegraph TIEGRAPH_REPO=. bash tests-ext/replication/run.sh
#
# Installs haproxy and postgresql from Debian's packages when they are missing (as root, as CI
# runs); fails, never skips, when it cannot. As root, PostgreSQL runs as `nobody`.
set -euo pipefail
: "${TIEGRAPH_BIN:?set TIEGRAPH_BIN to the tiegraph binary}"
: "${TIEGRAPH_REPO:?set TIEGRAPH_REPO to the checkout}"
here="$(cd "$(dirname "$0")" && pwd)"
TIEGRAPH_BIN="$(cd "$(dirname "$TIEGRAPH_BIN")" && pwd)/$(basename "$TIEGRAPH_BIN")"
TIEGRAPH_REPO="$(cd "$TIEGRAPH_REPO" && pwd)"
cfg="$TIEGRAPH_REPO/deploy/haproxy.cfg"

fail() { echo "replication: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do
  [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && echo "$d"; done | tail -n 1; }

# --- what the test needs -------------------------------------------------------------------
missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
[ -n "$(pg_bin)" ] || missing+=(postgresql)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  is_root || fail "${missing[*]} missing and not root, so cannot install them: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
fi
command -v haproxy >/dev/null 2>&1 || fail "no haproxy after installing it"
pgbin="$(pg_bin)"
[ -n "$pgbin" ] || fail "no /usr/lib/postgresql/*/bin/initdb after installing postgresql"
[ -x "$TIEGRAPH_BIN" ] || fail "no binary at $TIEGRAPH_BIN"
[ -f "$cfg" ] || fail "no $cfg"
haproxy -c -q -f "$cfg" >/dev/null 2>&1 || { haproxy -c -f "$cfg" || true; fail "$cfg does not parse"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- cleanup: every process this script (or check_proxy.py) started, by its pid -----------
work="$(mktemp -d "${TMPDIR:-/tmp}/tiegraph-replication.XXXXXX")"
pgdir="$(mktemp -d "${TMPDIR:-/tmp}/tiegraph-replication-pg.XXXXXX")"
haproxy_pid=""
pg_started=""
# Alive and not a zombie (a restarted node's parent, check_proxy.py, may be gone).
running() { [ -r "/proc/$1/stat" ] && ! grep -q ') [ZX] ' "/proc/$1/stat" 2>/dev/null; }
as_pg() { if is_root; then runuser -u nobody -- "$@"; else "$@"; fi; }
cleanup() {
  local status=$?
  set +e
  for pidfile in "$work"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
  done
  [ -n "$haproxy_pid" ] && kill -TERM "$haproxy_pid" 2>/dev/null
  for pidfile in "$work"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  [ -n "$haproxy_pid" ] && { wait "$haproxy_pid" 2>/dev/null; }
  if [ -n "$pg_started" ]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log "$pgdir"/server.log; do
      [ -f "$log" ] || continue
      echo "--- last lines of $(basename "$log")" >&2
      tail -n 25 "$log" >&2
    done
  fi
  rm -rf "$work" "$pgdir"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL, in a temporary directory, on a free loopback port --------------------------
if is_root; then chown nobody "$pgdir"; fi
pguser=tiegraph
as_pg "$pgbin/initdb" -D "$pgdir/data" -U "$pguser" --auth=trust -E UTF8 --locale=C >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; fail "initdb failed"; }
pgport="$(free_port)"
pg_started=1
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
  -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null \
  || fail "PostgreSQL did not start"
"$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U "$pguser" tiegraph_log || fail "createdb failed"
export TIEGRAPH_LOG_URL="postgres://$pguser@127.0.0.1:$pgport/tiegraph_log"

# --- the writer and two replicas: each a command file, so check_proxy.py restarts a node ----
# exactly as it was started (`bash NODE.cmd`, which execs the server; its pid in NODE.pid).
export TIEGRAPH_TOKEN="replication-test-token-$RANDOM$RANDOM"
writer_port="$(free_port)"
replica1_port="$(free_port)"
replica2_port="$(free_port)"
mkdir -p "$work/empty-seed"
node_cmd() { # name role port seed-dir [more flags]
  local name=$1 role=$2 port=$3 seed=$4
  shift 4
  cat >"$work/$name.cmd" <<EOF
exec "$TIEGRAPH_BIN" serve --role $role --log "\$TIEGRAPH_LOG_URL" \\
  --listen 127.0.0.1:$port --data-dir "$work/$name/data" --seed-dir "$seed" $*
EOF
}
start_node() { # name
  bash "$work/$1.cmd" >>"$work/$1.log" 2>&1 &
  echo $! >"$work/$1.pid"
  disown $!  # check_proxy.py kills nodes with SIGKILL: no job notices for them
}
wait_url() { # url what pidfile
  local url=$1 what=$2 pid
  pid="$(cat "$3")"
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "$what exited before answering $url"
    sleep 0.2
  done
  fail "$what did not answer $url within 60 s"
}
node_cmd writer writer "$writer_port" "$TIEGRAPH_REPO/seed" --advertise "http://127.0.0.1:$writer_port"
# A replica starts from the log's checkpoint, never from a seed.
node_cmd replica1 replica "$replica1_port" "$work/empty-seed"
node_cmd replica2 replica "$replica2_port" "$work/empty-seed"
start_node writer
wait_url "http://127.0.0.1:$writer_port/ready" "the writer" "$work/writer.pid"
start_node replica1
start_node replica2
wait_url "http://127.0.0.1:$replica1_port/ready" "replica1" "$work/replica1.pid"
wait_url "http://127.0.0.1:$replica2_port/ready" "replica2" "$work/replica2.pid"

# --- HAProxy with the deployment's own file, its servers pointed here through the env -------
proxy_port="$(free_port)"
stats_port="$(free_port)"
export PROXY_BIND="127.0.0.1:$proxy_port" STATS_BIND="127.0.0.1:$stats_port"
export WRITER_ADDR="127.0.0.1:$writer_port"
export REPLICA1_ADDR="127.0.0.1:$replica1_port" REPLICA2_ADDR="127.0.0.1:$replica2_port"
haproxy -db -f "$cfg" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
echo "$haproxy_pid" >"$work/haproxy.pid"
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$stats_port/stats" 2>/dev/null && break
  kill -0 "$haproxy_pid" 2>/dev/null || fail "haproxy exited: $(cat "$work/haproxy.log")"
  sleep 0.1
done

# --- the checks, through the proxy ----------------------------------------------------------
PROXY_URL="http://127.0.0.1:$proxy_port" \
STATS_URL="http://127.0.0.1:$stats_port/stats" \
WRITER_URL="http://127.0.0.1:$writer_port" \
REPLICA1_URL="http://127.0.0.1:$replica1_port" \
REPLICA2_URL="http://127.0.0.1:$replica2_port" \
NODES_DIR="$work" \
  python3 "$here/check_proxy.py"
