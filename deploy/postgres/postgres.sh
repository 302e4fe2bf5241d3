#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for orderledger's tests and local runs.
#
#   postgres.sh install                 install Debian's `postgresql` if no server binaries exist
#   postgres.sh start   DATA_DIR [PORT] initdb (once) + start on 127.0.0.1; prints the app URL last
#   postgres.sh stop    DATA_DIR        fast shutdown; no-op when not running
#   postgres.sh restart DATA_DIR        stop + start on the same port, no re-initdb
#   postgres.sh status  DATA_DIR        exit 0 running, 3 stopped, 4 no cluster (like pg_ctl)
#
# Everything listens on 127.0.0.1 and on a unix socket in DATA_DIR; auth is `trust`.
# Progress goes to stderr; `start` prints exactly one stdout line: the app database URL.
#
# Environment (all optional):
#   PG_RUN_AS_USER    OS user that runs the server when invoked as root (default orderledger-pg)
#   PG_LIBDIR  where Debian puts server versions (default /usr/lib/postgresql)
set -euo pipefail
umask 022

# Never let the caller's libpq environment (PGHOST, PGPORT, PGDATA, PGUSER, ...) leak into our calls.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^PG' || true)
export LC_ALL=C

readonly PROG=postgres.sh
SELF=$(realpath -- "$0")
readonly SELF
readonly LIBDIR=${PG_LIBDIR:-/usr/lib/postgresql}
readonly SUPERUSER=orderledger_admin
readonly OWNER_ROLE=orderledger_owner
readonly APP_ROLE=orderledger_app
readonly DB=orderledger
readonly READY_TIMEOUT=60

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '3,8p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- install

newest_bindir() {
  local d
  d=$(ls -d "$LIBDIR"/*/bin 2>/dev/null | while read -r b; do [ -x "$b/initdb" ] && echo "$b"; done | sort -V | tail -n1)
  [ -n "$d" ] && echo "$d"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or passwordless sudo) to run: $*"
  fi
}

global_lock() {  # serialise package installs and useradd between parallel invocations
  exec 8>>"${TMPDIR:-/tmp}/orderledger-postgres-$(id -u).lock"
  flock -w 900 8 || die "timed out waiting for the install lock"
}
global_unlock() { exec 8>&-; }

cmd_install() {
  newest_bindir >/dev/null && return 0
  global_lock
  if ! newest_bindir >/dev/null; then
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q
               -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    log "no PostgreSQL server in $LIBDIR; installing Debian's postgresql package"
    as_root apt-get update -qq
    # On a machine without postgresql-common, install it first and switch off Debian's
    # auto-created "main" cluster (we never use it; it would only take port 5432 and time).
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
      as_root "${apt[@]}" install --no-install-recommends postgresql-common >/dev/null
      if ! grep -q '^[[:space:]]*create_main_cluster' /etc/postgresql-common/createcluster.conf 2>/dev/null; then
        echo 'create_main_cluster = false' | as_root tee -a /etc/postgresql-common/createcluster.conf >/dev/null
      fi
    fi
    as_root "${apt[@]}" install --no-install-recommends postgresql >/dev/null
    newest_bindir >/dev/null || die "installed postgresql but found no $LIBDIR/*/bin/initdb"
  fi
  global_unlock
  log "PostgreSQL server: $(newest_bindir)"
}

# ---------------------------------------------------------------- cluster helpers

# Sets DATA_DIR (absolute), PGDATA_DIR, and validates the path.
set_dirs() {
  [ -n "${1:-}" ] || usage
  DATA_DIR=$(realpath -m -- "$1")
  PGDATA_DIR=$DATA_DIR/pgdata
  cd /   # any cwd works; the server user may not be able to read the caller's cwd
  # The path goes verbatim into postgresql.conf (unix_socket_directories): keep it boring.
  [[ $DATA_DIR =~ ^[A-Za-z0-9._/+@=:-]+$ ]] \
    || die "DATA_DIR may only contain letters, digits and ._/+@=:- ($DATA_DIR)"
  # Unix socket paths are limited to 107 bytes: DATA_DIR/.s.PGSQL.NNNNN
  [ $(( ${#DATA_DIR} + 16 )) -le 107 ] \
    || die "DATA_DIR is too long for a unix socket path (${#DATA_DIR} chars, max 91): $DATA_DIR"
}

# RUN_AS: the OS user that owns pgdata / runs the server ("" = ourselves).
set_run_as() {
  RUN_AS=
  [ "$(id -u)" -eq 0 ] || return 0
  if [ -d "$PGDATA_DIR" ]; then
    RUN_AS=$(stat -c %U "$PGDATA_DIR")
    [ "$RUN_AS" != root ] || die "$PGDATA_DIR is owned by root; PostgreSQL cannot run as root"
  else
    RUN_AS=${PG_RUN_AS_USER:-orderledger-pg}
  fi
}

ensure_user() {
  [ -n "$RUN_AS" ] || return 0
  getent passwd "$RUN_AS" >/dev/null && return 0
  global_lock
  if ! getent passwd "$RUN_AS" >/dev/null; then
    log "creating system user $RUN_AS"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment "orderledger test PostgreSQL" "$RUN_AS"
  fi
  global_unlock
}

# Run a server-side command as the cluster's OS user. fds 8/9 hold our flocks: never let
# the postmaster inherit them, or the lock would outlive this script.
as_pg() {
  if [ -n "$RUN_AS" ]; then runuser -u "$RUN_AS" -- "$@" 8>&- 9>&-
  else "$@" 8>&- 9>&-
  fi
}

dir_lock() {  # one postgres.sh at a time per DATA_DIR
  exec 9>>"$DATA_DIR/.postgres.sh.lock"
  [ -z "$RUN_AS" ] || chown "$RUN_AS:" "$DATA_DIR/.postgres.sh.lock"
  flock -w 180 9 || die "timed out waiting for another $PROG on $DATA_DIR"
}

set_bindir() {  # the server version that created the cluster, else the newest one
  BINDIR=
  if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
    local v; v=$(cat "$PGDATA_DIR/PG_VERSION")
    [ -x "$LIBDIR/$v/bin/postgres" ] && BINDIR=$LIBDIR/$v/bin
    [ -n "$BINDIR" ] || die "$PGDATA_DIR was created by PostgreSQL $v, which is not installed"
  else
    BINDIR=$(newest_bindir) || die "no PostgreSQL server found; run: $SELF install"
  fi
}

is_running() { as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

port_free() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket,sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

pick_port() {  # below Linux's ephemeral range (32768+) so client sockets don't collide
  local i p
  for i in $(seq 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    port_free "$p" && { echo "$p"; return 0; }
  done
  die "could not find a free port on 127.0.0.1"
}

stored_port() {
  if [ -s "$DATA_DIR/port" ]; then cat "$DATA_DIR/port"
  elif [ -f "$PGDATA_DIR/orderledger.conf" ]; then sed -n 's/^port = \([0-9]*\)$/\1/p' "$PGDATA_DIR/orderledger.conf"
  fi
}

write_file() {  # atomic, so a test polling for database_url never reads half a line
  printf '%s\n' "$2" > "$1.tmp.$$"
  [ -z "$RUN_AS" ] || chown "$RUN_AS:" "$1.tmp.$$"
  mv -f "$1.tmp.$$" "$1"
}

write_config() {  # idempotent: rewritten on every start
  local port=$1
  as_pg tee "$PGDATA_DIR/orderledger.conf" >/dev/null <<EOF
# Written by deploy/postgres/postgres.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DATA_DIR'
unix_socket_permissions = 0777
max_connections = 100
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
ssl = off
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
EOF
  as_pg tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<EOF
# Written by deploy/postgres/postgres.sh: trust, loopback and the unix socket only.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
local   replication  all                  trust
host    replication  all   127.0.0.1/32   trust
EOF
  grep -qx "include 'orderledger.conf'" "$PGDATA_DIR/postgresql.conf" \
    || echo "include 'orderledger.conf'" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

psql_admin() {  # superuser over the unix socket
  "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$DATA_DIR" -p "$PORT" -U "$SUPERUSER" "$@"
}

setup_database() {
  local have
  have=$(psql_admin -d postgres -At -c \
    "SELECT (SELECT count(*) FROM pg_roles WHERE rolname IN ('$OWNER_ROLE','$APP_ROLE'))
          + (SELECT count(*) FROM pg_database WHERE datname = '$DB')")
  [ "$have" = 3 ] && return 0   # already set up (e.g. restart): touch nothing
  log "creating database $DB and roles $OWNER_ROLE, $APP_ROLE"
  psql_admin -d postgres <<EOF
SELECT 'CREATE ROLE $OWNER_ROLE LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$OWNER_ROLE')\gexec
SELECT 'CREATE ROLE $APP_ROLE LOGIN'   WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE')\gexec
ALTER ROLE $OWNER_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
ALTER ROLE $APP_ROLE   LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
SELECT 'CREATE DATABASE $DB OWNER $OWNER_ROLE TEMPLATE template0 ENCODING ''UTF8'' LOCALE ''C'''
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB')\gexec
ALTER DATABASE $DB OWNER TO $OWNER_ROLE;
REVOKE ALL ON DATABASE $DB FROM PUBLIC;
GRANT CONNECT ON DATABASE $DB TO $APP_ROLE;
\connect $DB
-- The owner role owns the schema (migrations); nobody else may create objects in it.
ALTER SCHEMA public OWNER TO $OWNER_ROLE;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO $APP_ROLE;
EOF
}

wait_ready() {
  local deadline=$(( SECONDS + READY_TIMEOUT ))
  until "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U "$SUPERUSER" \
        && "$BINDIR/psql" -X -q -At -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER" -d postgres -c 'select 1' >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "PostgreSQL not ready after ${READY_TIMEOUT}s; see $DATA_DIR/postgres.log"
    sleep 0.1
  done
}

# ---------------------------------------------------------------- commands

cmd_start() {
  set_dirs "${1:-}"
  local want_port=${2:-}
  [ -z "$want_port" ] || [[ $want_port =~ ^[0-9]+$ && $want_port -ge 1024 && $want_port -le 65535 ]] \
    || die "PORT must be a number between 1024 and 65535"
  local t0=$SECONDS

  cmd_install
  mkdir -p "$DATA_DIR"
  set_run_as
  ensure_user
  if [ -n "$RUN_AS" ]; then
    chown "$RUN_AS:" "$DATA_DIR"
    chmod 0755 "$DATA_DIR"
    runuser -u "$RUN_AS" -- test -w "$DATA_DIR" -a -x "$DATA_DIR" \
      || die "$RUN_AS cannot reach $DATA_DIR (a parent directory is not searchable, e.g. /root is 0700); use a directory such as /tmp/..."
  fi
  dir_lock
  set_bindir

  # initdb, once. A pgdata without PG_VERSION is a half-made one from an interrupted run.
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    [ ! -e "$PGDATA_DIR" ] || { log "removing incomplete $PGDATA_DIR"; rm -rf -- "$PGDATA_DIR"; }
    log "initdb $PGDATA_DIR ($("$BINDIR/postgres" --version))"
    local out
    # --no-sync: don't fsync the fresh template files (saves seconds); the running server
    # keeps fsync=on / synchronous_commit=on, so committed data is durable as usual.
    if ! out=$(as_pg "$BINDIR/initdb" -D "$PGDATA_DIR" -U "$SUPERUSER" -E UTF8 --locale=C \
                 --auth-local=trust --auth-host=trust --no-sync 2>&1); then
      printf '%s\n' "$out" >&2
      die "initdb failed"
    fi
  fi

  local stored; stored=$(stored_port)
  if is_running; then
    PORT=$(sed -n 4p "$PGDATA_DIR/postmaster.pid")
    [ -z "$want_port" ] || [ "$want_port" = "$PORT" ] \
      || die "already running on port $PORT (asked for $want_port); stop it first"
    log "already running on 127.0.0.1:$PORT"
  else
    local auto=0 attempt
    PORT=${want_port:-$stored}
    if [ -z "$PORT" ]; then PORT=$(pick_port); auto=1; fi
    for attempt in 1 2 3 4 5; do
      write_config "$PORT"
      as_pg touch "$DATA_DIR/postgres.log"
      local before; before=$(wc -l < "$DATA_DIR/postgres.log")
      log "starting on 127.0.0.1:$PORT (log: $DATA_DIR/postgres.log)"
      if as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$DATA_DIR/postgres.log" -w -t "$READY_TIMEOUT" start >/dev/null; then
        break
      fi
      if [ $auto = 1 ] && tail -n +"$((before + 1))" "$DATA_DIR/postgres.log" | grep -q 'Address already in use'; then
        log "port $PORT was taken meanwhile; picking another"
        PORT=$(pick_port)
        continue
      fi
      tail -n 20 "$DATA_DIR/postgres.log" >&2 || true
      die "pg_ctl start failed (port $PORT); see $DATA_DIR/postgres.log"
    done
    is_running || die "could not start PostgreSQL; see $DATA_DIR/postgres.log"
  fi

  wait_ready
  setup_database

  write_file "$DATA_DIR/port" "$PORT"
  write_file "$DATA_DIR/admin_url" "postgresql://$OWNER_ROLE@127.0.0.1:$PORT/$DB"
  write_file "$DATA_DIR/database_url" "postgresql://$APP_ROLE@127.0.0.1:$PORT/$DB"
  log "ready in $(( SECONDS - t0 ))s; superuser: psql -h $DATA_DIR -p $PORT -U $SUPERUSER postgres"
  cat "$DATA_DIR/database_url"
}

# Shared by stop/restart/status: returns 4 when there is no cluster in DATA_DIR.
open_cluster() {
  set_dirs "${1:-}"
  [ -f "$PGDATA_DIR/PG_VERSION" ] || return 4
  set_run_as
  set_bindir
}

cmd_stop() {
  local rc=0; open_cluster "${1:-}" || rc=$?
  [ $rc = 0 ] || { log "no cluster in $DATA_DIR; nothing to stop"; return 0; }
  dir_lock
  do_stop
}

do_stop() {
  if ! is_running; then log "not running: $DATA_DIR"; return 0; fi
  log "stopping $DATA_DIR"
  as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t "$READY_TIMEOUT" stop >/dev/null 2>&1 && return 0
  # A postmaster that was killed (-9) leaves a stale postmaster.pid: that counts as stopped.
  is_running || { log "server was already gone (stale postmaster.pid)"; return 0; }
  log "fast shutdown failed; using immediate"
  as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t "$READY_TIMEOUT" stop >/dev/null 2>&1 && return 0
  is_running && die "could not stop PostgreSQL in $DATA_DIR; see $DATA_DIR/postgres.log"
  return 0
}

cmd_restart() {
  local rc=0; open_cluster "${1:-}" || rc=$?
  [ $rc = 0 ] || die "no cluster in $DATA_DIR; use: $SELF start $DATA_DIR"
  local port; port=$(stored_port)
  [ -n "$port" ] || die "no port recorded for $DATA_DIR"
  dir_lock
  do_stop
  exec 9>&-   # cmd_start takes the lock again
  cmd_start "$DATA_DIR" "$port"
}

cmd_status() {
  local rc=0; open_cluster "${1:-}" || rc=$?
  if [ $rc != 0 ]; then echo "no cluster in $DATA_DIR"; return 4; fi
  if is_running; then
    echo "running: pid $(sed -n 1p "$PGDATA_DIR/postmaster.pid"), 127.0.0.1:$(sed -n 4p "$PGDATA_DIR/postmaster.pid"), $("$BINDIR/postgres" --version)"
    [ ! -f "$DATA_DIR/database_url" ] || echo "database_url: $(cat "$DATA_DIR/database_url")"
    [ ! -f "$DATA_DIR/admin_url" ] || echo "admin_url:    $(cat "$DATA_DIR/admin_url")"
    return 0
  fi
  echo "stopped: $DATA_DIR (port $(stored_port))"
  return 3
}

case "${1:-}" in
  install) cmd_install; newest_bindir ;;
  start)   shift; [ $# -ge 1 ] && [ $# -le 2 ] || usage; cmd_start "$@" ;;
  stop)    shift; [ $# -eq 1 ] || usage; cmd_stop "$1" ;;
  restart) shift; [ $# -eq 1 ] || usage; cmd_restart "$1" ;;
  status)  shift; [ $# -eq 1 ] || usage; cmd_status "$1" ;;
  *) usage ;;
esac
