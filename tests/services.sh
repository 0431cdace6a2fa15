#!/usr/bin/env bash
# Installs (from Debian packages) and starts, or stops, the real PostgreSQL and Redis
# servers the integration tests use. Everything runs on loopback, from state under
# $KCMF_SVC_DIR (default /tmp/kcmf-services); `stop` ends exactly what `start` started.
#
#   tests/services.sh install   # apt-get install postgresql redis-server, cmake and
#                               # libclang-dev for the local-llm build, chromium and
#                               # chromium-driver for the UI tests (idempotent)
#   tests/services.sh start     # prints the env to export (also written to $KCMF_SVC_DIR/env.sh)
#   tests/services.sh stop
set -euo pipefail

DIR=${KCMF_SVC_DIR:-/tmp/kcmf-services}
PG_PORT=${KCMF_PG_PORT:-55432}
REDIS_PORT=${KCMF_REDIS_PORT:-56379}

log() { echo "[services] $*" >&2; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$d" ] || { log "PostgreSQL server binaries not found under /usr/lib/postgresql"; exit 1; }
  echo "$d"
}

install() {
  local need=()
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
  command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  # Build tools of the `local-llm` feature (llama.cpp through llama-cpp-2's bindgen).
  command -v cmake >/dev/null 2>&1 || need+=(cmake)
  dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
  # The review UI's browser tests (matcher/tests/ui.rs): headless Chromium over WebDriver.
  [ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core)
  [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # The package may start its own cluster/server: ours run on other ports, so leave them.
}

start() {
  install
  mkdir -p "$DIR"
  local bin; bin=$(pg_bin)
  if ! "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null; then
    rm -rf "$DIR/pg"
    mkdir -p "$DIR/pg"
    chown postgres:postgres "$DIR/pg"
    su postgres -s /bin/sh -c "$bin/initdb -D '$DIR/pg/data' -U postgres -A trust --no-sync -E UTF8" >"$DIR/pg-init.log" 2>&1 \
      || { cat "$DIR/pg-init.log" >&2; exit 1; }
    su postgres -s /bin/sh -c "$bin/pg_ctl -D '$DIR/pg/data' -l '$DIR/pg/server.log' -w -t 60 \
      -o '-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' start" >/dev/null \
      || { cat "$DIR/pg/server.log" >&2; exit 1; }
    echo started >"$DIR/pg.started"
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE kcmf LOGIN SUPERUSER PASSWORD 'kcmf'" >/dev/null
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE kcmf OWNER kcmf" >/dev/null
  fi
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    mkdir -p "$DIR/redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" --save "" \
      --appendonly no --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$REDIS_PORT" ping >/dev/null
  fi
  cat >"$DIR/env.sh" <<ENV
export KCMF_TEST_DATABASE_URL=postgres://kcmf:kcmf@127.0.0.1:$PG_PORT/kcmf
export KCMF_TEST_PG_ADMIN_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
export KCMF_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export KCMF_TEST_PG_BIN=$bin
ENV
  log "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT (env: $DIR/env.sh)"
  cat "$DIR/env.sh"
}

stop() {
  if [ -f "$DIR/redis.pid" ]; then
    kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
    rm -f "$DIR/redis.pid"
  fi
  if [ -f "$DIR/pg.started" ]; then
    local bin; bin=$(pg_bin)
    su postgres -s /bin/sh -c "$bin/pg_ctl -D '$DIR/pg/data' -m fast -w stop" >/dev/null 2>&1 || true
    rm -f "$DIR/pg.started"
  fi
  log "stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
