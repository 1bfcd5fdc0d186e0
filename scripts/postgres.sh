#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests and CI, listening on 127.0.0.1 only.
#
#   scripts/postgres.sh start   install Debian's server if missing, create and start the cluster,
#                               print its URL on stdout (idempotent: prints the URL when running)
#   scripts/postgres.sh stop    stop the cluster (no-op when it is not running)
#   scripts/postgres.sh url     print the URL of the cluster
#
# The cluster lives in .tmp/pg (override with ACT_SYNC_PG_DIR), listens on port 55432 (override
# with ACT_SYNC_PG_PORT) and has one superuser `act_sync` whose random password is kept in
# .tmp/pg/password. `npm test` (scripts/check.sh) starts its own on a free port in
# .tmp/pg-gate-<pid> and removes it at the end. By hand:
#
#   ACT_SYNC_TEST_PG="$(bash scripts/postgres.sh start)"   # not `export X=$(…)`: that hides a failure
#   export ACT_SYNC_TEST_PG
#   trap 'bash scripts/postgres.sh stop' EXIT
#
# With the server binaries present nothing is downloaded; without them `start` installs Debian's
# postgresql (root and network needed).
set -euo pipefail
cd "$(dirname "$0")/.."

base="${ACT_SYNC_PG_DIR:-$PWD/.tmp/pg}"
port="${ACT_SYNC_PG_PORT:-55432}"
data="$base/data"
run="$base/run"
log="$base/server.log"
password_file="$base/password"
user="act_sync"

say() { echo "postgres.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

case "$port" in
'' | *[!0-9]*) die "Cannot start: ACT_SYNC_PG_PORT must be a port number: current value is \"$port\"" ;;
esac

# The newest Debian server binaries (preferred over whatever else is on PATH).
find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
    echo "$dir"
  fi
}

# Run a server binary as the cluster owner (initdb and postgres refuse to run as root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

print_url() {
  [ -f "$password_file" ] || die "No cluster in $base: run 'scripts/postgres.sh start' first"
  echo "postgres://$user:$(cat "$password_file")@127.0.0.1:$port/postgres"
}

is_running() {
  local bin="$1"
  [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

start() {
  local bin
  bin=$(find_bin)
  if [ -z "$bin" ]; then
    say "installing Debian's postgresql"
    [ "$(id -u)" = 0 ] || die "Cannot install postgresql: run as root or install it first"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
    [ -n "$bin" ] || die "Cannot find initdb/pg_ctl under /usr/lib/postgresql/*/bin after installing"
  fi
  if is_running "$bin"; then
    print_url
    return
  fi
  mkdir -p "$base" "$run"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating cluster in $data"
    rm -rf "$data"
    mkdir -p "$data"
    if [ ! -s "$password_file" ]; then
      (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$password_file")
    fi
    local pwfile="$base/.pwfile"
    (umask 077 && cp "$password_file" "$pwfile")
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$base"; fi
    chmod 700 "$data"
    as_owner "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" --auth-host=scram-sha-256 \
      --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
      {
        rm -f "$pwfile"
        cat "$base/initdb.log" >&2
        die "Cannot create the cluster: initdb failed"
      }
    rm -f "$pwfile"
  fi
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$base"; fi
  say "starting on 127.0.0.1:$port"
  if ! as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2; then
    tail -n 20 "$log" >&2 || true
    die "Cannot start PostgreSQL on 127.0.0.1:$port: see $log"
  fi
  # Bounded readiness check over TCP (what the tests use).
  local i
  for i in $(seq 1 60); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
      print_url
      return
    fi
    sleep 0.5
  done
  die "PostgreSQL did not accept connections on 127.0.0.1:$port within 30 seconds: see $log"
}

stop() {
  local bin
  bin=$(find_bin)
  if [ -z "$bin" ] || ! is_running "$bin"; then
    say "not running"
    return
  fi
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) print_url ;;
*)
  echo "Usage: scripts/postgres.sh start|stop|url" >&2
  exit 2
  ;;
esac
