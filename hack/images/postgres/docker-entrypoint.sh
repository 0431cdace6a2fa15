#!/bin/sh
# docker-entrypoint.sh of localhost/postgres (hack/images/build.sh): the part of the official
# postgres image's entrypoint that the operator's StatefulSet relies on, in POSIX sh.
#
#   docker-entrypoint.sh postgres [ARGS]   (the image's CMD; a first argument starting with
#                                           '-' gets `postgres` put in front)
# When $PGDATA holds no cluster yet (no PG_VERSION): initdb with superuser $POSTGRES_USER
# (default postgres) and password $POSTGRES_PASSWORD (passed to initdb in a mktemp file,
# /tmp by default, never on a command line), local socket connections trusted, host
# connections by $POSTGRES_HOST_AUTH_METHOD (default scram-sha-256) from anywhere,
# listen_addresses='*'; then a temporary server on the socket only creates $POSTGRES_DB
# (default $POSTGRES_USER) and runs /docker-entrypoint-initdb.d/*.sql and *.sh. Then (and on
# every later start) exec postgres. $POSTGRES_INITDB_ARGS are passed to initdb.
# As root (no runAsUser), it makes $PGDATA and the socket directory the postgres user's and
# re-executes itself as that user (setpriv), like the official image's gosu step.
# Any other command runs as given.
set -eu

if [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA

log() {
  echo "docker-entrypoint.sh: $*" >&2
}

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if ! getent passwd "$(id -u)" >/dev/null; then
  log "error: uid $(id -u) has no /etc/passwd entry (initdb and postgres need one; the image has postgres = 70:70)"
  exit 1
fi

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || :

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    log "error: database is uninitialized and superuser password is not specified; set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)"
    exit 1
  fi
  log "initializing $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  pwfile=
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words
  if ! initdb --username="$POSTGRES_USER" ${pwfile:+--pwfile="$pwfile"} \
    --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-} >&2; then
    rm -f "$pwfile"
    exit 1
  fi
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # Temporary server on the socket only: nothing connects over TCP before the set-up is done.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p ${PGPORT:-5432}" start >&2
  psql_setup() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"
  }
  if [ "$POSTGRES_DB" != postgres ]; then
    psql_setup --dbname postgres --set db="$POSTGRES_DB" >&2 <<'SQL'
SELECT 'CREATE DATABASE ' || quote_ident(:'db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh)
        log "running $f"
        # shellcheck disable=SC1090 # the user's init script
        if [ -x "$f" ]; then "$f"; else . "$f"; fi
        ;;
      *.sql)
        log "running $f"
        psql_setup --dbname "$POSTGRES_DB" -f "$f" >&2
        ;;
      *) [ -e "$f" ] && log "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >&2
  log "initialized; starting postgres"
fi

exec "$@"
