#!/usr/bin/env bash
# Makes PostgreSQL and Redis available for development, tests and the demo.
#
#   scripts/services.sh up     start (or reuse) the services; prints the env lines to use
#   scripts/services.sh env    print `export DATABASE_URL=... REDIS_URL=...` (starting them if needed)
#   scripts/services.sh down   stop what this script started
#   scripts/services.sh status
#
# DATABASE_URL / REDIS_URL already set: those servers are used (only checked), nothing is started.
# Otherwise private instances run on 127.0.0.1 on free ports with data under .data/ (or
# $CAPCONDUIT_DATA_DIR). As root on Debian/Ubuntu, missing servers are installed with apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${CAPCONDUIT_DATA_DIR:-$ROOT/.data}"
STATE="$DATA/services.env"
mkdir -p "$DATA"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return
  return 1
}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -f "$DATA/.apt-updated" ]; then apt-get update -qq >&2 && touch "$DATA/.apt-updated"; fi
    apt-get install -y -qq --no-install-recommends "$@" >&2
  else
    die "$* missing: install it (Debian/Ubuntu: sudo apt-get install $*), or set DATABASE_URL/REDIS_URL to running servers"
  fi
}

ensure_binaries() {
  if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server; fi
  if [ -z "${DATABASE_URL:-}" ] && ! pg_bin >/dev/null; then apt_install postgresql; fi
  # Clients used by tests and health checks.
  if ! command -v redis-cli >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ]; then apt_install redis-tools; fi
}

# Run a command as the postgres user when we are root (initdb refuses root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_dir() {
  local d="$DATA/pg"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$d"; chown postgres "$d"; chmod 700 "$d"
    # The postgres user must be able to reach the data dir through every parent.
    if ! runuser -u postgres -- test -w "$d"; then
      d="/var/tmp/capconduit-$(echo "$ROOT" | md5sum | cut -c1-10)/pg"
      mkdir -p "$d"; chown -R postgres "$(dirname "$d")"; chmod 700 "$d"
    fi
  else
    mkdir -p "$d"; chmod 700 "$d"
  fi
  echo "$d"
}

start_pg() {
  local bin dir port
  bin="$(pg_bin)" || die "PostgreSQL server binaries not found"
  dir="$(pg_dir)"
  if [ -f "$dir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port="$(sed -n 4p "$dir/postmaster.pid")"
  else
    if [ ! -f "$dir/PG_VERSION" ]; then
      log "initdb in $dir"
      as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
    fi
    port="$(free_port)"
    log "starting PostgreSQL on 127.0.0.1:$port"
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
      || { tail -20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname='capconduit'" | grep -q 1 \
    || as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres capconduit
  echo "$dir" > "$DATA/pg.dir"
  echo "postgres://postgres@127.0.0.1:$port/capconduit"
}

start_redis() {
  local dir="$DATA/redis" port
  mkdir -p "$dir"
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null && [ -f "$dir/port" ]; then
    port="$(cat "$dir/port")"
  else
    port="$(free_port)"
    log "starting Redis on 127.0.0.1:$port"
    # Also on a Unix socket, for REDIS_URL=unix://$dir/redis.sock (Redis on the same host).
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" \
      --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
      --logfile "$dir/redis.log" --save '' --appendonly no >/dev/null
    echo "$port" > "$dir/port"
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" ping >/dev/null 2>&1 || die "Redis did not start (see $dir/redis.log)"
  fi
  echo "redis://127.0.0.1:$port"
}

check_url() { # name url default-port (unix:///path: the socket)
  node -e '
    const u = new URL(process.argv[1]); const net = require("net");
    const s = u.protocol === "unix:" ? net.connect(decodeURIComponent(u.pathname)) : net.connect(Number(u.port) || Number(process.argv[2]), u.hostname);
    s.on("connect", () => { s.end(); process.exit(0) }); s.on("error", () => process.exit(1)); setTimeout(() => process.exit(1), 3000);
  ' "$2" "$3" || die "$1 at $2 is not reachable"
}

up() {
  ensure_binaries
  local db redis
  if [ -n "${DATABASE_URL:-}" ]; then check_url DATABASE_URL "$DATABASE_URL" 5432; db="$DATABASE_URL"; else db="$(start_pg)"; fi
  if [ -n "${REDIS_URL:-}" ]; then check_url REDIS_URL "$REDIS_URL" 6379; redis="$REDIS_URL"; else redis="$(start_redis)"; fi
  printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$db" "$redis" > "$STATE"
  cat "$STATE"
}

down() {
  local bin dir
  if [ -f "$DATA/redis/redis.pid" ] && kill -0 "$(cat "$DATA/redis/redis.pid")" 2>/dev/null; then
    log "stopping Redis"; kill "$(cat "$DATA/redis/redis.pid")" || true
  fi
  if [ -f "$DATA/pg.dir" ] && bin="$(pg_bin)"; then
    dir="$(cat "$DATA/pg.dir")"
    if [ -f "$dir/postmaster.pid" ]; then log "stopping PostgreSQL"; as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null || true; fi
  fi
  rm -f "$STATE"
}

case "${1:-up}" in
  up) up ;;
  env) up >/dev/null; cat "$STATE" ;;
  down) down ;;
  status) [ -f "$STATE" ] && cat "$STATE" || echo "not started" ;;
  *) die "usage: $0 up|env|down|status" ;;
esac
