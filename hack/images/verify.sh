#!/usr/bin/env bash
# hack/images/verify.sh [IMAGES_ENV] -- run the images hack/images/build.sh made with runc the
# way the operator's pods run them, without a node: each image's layers unpacked into a runc
# bundle (bundle.py), read-only root filesystem, the pod's uid/gid/fsGroup, no capabilities,
# emptyDirs as tmpfs, PVCs as bind mounts of temporary directories, and the probes run as
# `runc exec` with the operator's exact commands.
#
#   postgres  no command (image ENTRYPOINT/CMD), POSTGRES_USER/DB/PASSWORD, PGDATA, 70:70:
#             first start initializes, pg_isready (readiness probe) answers, a password
#             login over TCP on 127.0.0.1 works and a wrong password is refused; a second
#             start on the same data skips initialization and answers again.
#   redis     `redis-server --requirepass ... --appendonly yes --dir /data --port 6379` as
#             999:1000: the readiness probe's `sh -c "redis-cli ... ping | grep -q PONG"`
#             passes, a write lands in /data's append-only file.
#   matcher   as 10001: `kcmf-matcher --version`, pg_dump/pg_restore report the server's major
#             version, redis-cli and curl run; then, in the datastores' network namespace (a
#             pod's localhost), `migrate`, `serve` answering /health and /ready to curl, and
#             `backup run` (pg_dump against the 17 server, redis-cli) followed by
#             `backup verify` (pg_restore into a scratch database).
#   operator  as 65532: the binary starts (`kcmf-operator --help`) with the image's libraries.
#
# Containers live in their own namespaces (ports 5432/6379/8000 are not the host's); nothing
# of the host's PostgreSQL or Redis is touched. IMAGES_ENV defaults to target/images/images.env.
# Needs root (runc); installs runc with apt-get when it is missing. Exits non-zero on the first
# failed check.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=packages.env
source "$here/packages.env"
KCMF_PG_MAJOR=$(grep -o -E '\<postgresql-[0-9]+\>' <<<"$KCMF_PACKAGES_POSTGRES" | grep -o -E '[0-9]+$')
env_file=${1:-$repo/target/images/images.env}
[[ -f $env_file ]] || { echo "verify.sh: no $env_file (run hack/images/build.sh)" >&2; exit 1; }
# shellcheck disable=SC1090
source "$env_file"

if ! command -v runc >/dev/null; then
  echo "verify.sh: installing runc (apt-get)" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends runc >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kcmf-verify.XXXXXX")
prefix=kcmf-verify-$$
containers=()
cleanup() {
  local id
  for id in "${containers[@]}"; do runc delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
log() { echo "verify.sh: $*" >&2; }
ok() { log "ok: $*"; passed=$((passed + 1)); }
fail() {
  log "FAILED: $*"
  local f
  for f in "$work"/*.log; do [[ -s $f ]] && { echo "--- ${f##*/} (last lines)" >&2; tail -n 25 "$f" >&2; }; done
  exit 1
}

# unpack KIND: bundle dir of the kind's image.
unpack() {
  local kind=$1 var tar
  var=KCMF_IMAGE_${kind^^}_TAR
  tar=${!var:-}
  [[ -n $tar && -f $tar ]] || fail "$env_file names no tar for $kind"
  python3 "$here/bundle.py" unpack "$tar" "$work/$kind"
  echo "$work/$kind"
}

# start NAME BUNDLE SPEC_ARGS...: a detached container (logs in $work/NAME.log).
start() {
  local name=$1 bundle=$2
  shift 2
  python3 "$here/bundle.py" spec "$bundle" "$@"
  containers+=("$prefix-$name")
  (cd "$bundle" && runc run -d "$prefix-$name" >"$work/$name.log" 2>&1 </dev/null) ||
    fail "$name: runc run"
}

stop() {
  runc kill "$prefix-$1" "${2:-TERM}" 2>/dev/null || true
  for _ in $(seq 50); do
    [[ $(runc state "$prefix-$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null) == running ]] || break
    sleep 0.2
  done
  runc delete -f "$prefix-$1" >/dev/null 2>&1 || true
}

# run NAME BUNDLE SPEC_ARGS...: a container in the foreground; its output on stdout.
run() {
  local name=$1 bundle=$2
  shift 2
  python3 "$here/bundle.py" spec "$bundle" "$@"
  (cd "$bundle" && runc run "$prefix-$name" </dev/null 2>&1)
}

# probe NAME USER ENV... -- ARGV...: exec in a running container, like a kubelet exec probe.
probe() {
  local name=$1 user=$2
  shift 2
  local envs=()
  while [[ $1 != -- ]]; do envs+=(--env "$1"); shift; done
  shift
  runc exec --user "$user" "${envs[@]}" "$prefix-$name" "$@"
}

wait_for() { # SECONDS WHAT CMD...
  local t=$1 what=$2
  shift 2
  for _ in $(seq $((t * 2))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  fail "$what: not within $t s"
}

# A PVC as the kubelet leaves it with fsGroup: group-owned, setgid, group-writable.
pvc() {
  mkdir -p "$work/$1"
  chown "0:$2" "$work/$1"
  chmod 2775 "$work/$1"
  echo "$work/$1"
}

# shellcheck disable=SC2016 # literal $x: the password must survive quoting
pg_password='pg pass: "quoted" $x'
redis_password='redis-pass-1'
pg_env=(--env POSTGRES_USER=kcmf --env POSTGRES_DB=kcmf --env "POSTGRES_PASSWORD=$pg_password"
  --env PGDATA=/var/lib/postgresql/data/pgdata)
pg_isready=(pg_isready -U kcmf -d kcmf -h 127.0.0.1 -p 5432)

# ---------------------------------------------------------------- postgres
log "postgres: $KCMF_IMAGE_POSTGRES"
pg=$(unpack postgres)
pgdata=$(pvc pgdata 70)
pg_spec=("${pg_env[@]}" --user 70:70 --fs-group 70 --bind "$pgdata:/var/lib/postgresql/data"
  --tmpfs /var/run/postgresql --tmpfs /tmp)
start postgres "$pg" "${pg_spec[@]}"
wait_for 60 "postgres: readiness probe (${pg_isready[*]})" probe postgres 70:70 -- "${pg_isready[@]}"
ok "postgres: initialized \$PGDATA as 70:70 on a read-only root; ${pg_isready[*]} answers"
grep -q 'CREATE DATABASE' "$work/postgres.log" || fail "postgres: database kcmf not created"
# shellcheck disable=SC2016 # $$...$$ is SQL dollar quoting
out=$(probe postgres 70:70 "PGPASSWORD=$pg_password" -- psql -h 127.0.0.1 -p 5432 -U kcmf -d kcmf \
  -Atc 'select current_user, current_database(), current_setting($$server_version_num$$)::int / 10000') ||
  fail "postgres: password login over TCP"
[[ $out == "kcmf|kcmf|$KCMF_PG_MAJOR" ]] || fail "postgres: login returned '$out'"
ok "postgres: password login over TCP 127.0.0.1:5432 as kcmf to database kcmf (server $KCMF_PG_MAJOR)"
if probe postgres 70:70 PGPASSWORD=wrong -- psql -h 127.0.0.1 -U kcmf -d kcmf -Atc 'select 1' >/dev/null 2>&1; then
  fail "postgres: a wrong password was accepted"
fi
ok "postgres: a wrong password is refused (scram-sha-256 for host connections)"
stop postgres INT
start postgres "$pg" "${pg_spec[@]}"
wait_for 60 "postgres: restart on existing data" probe postgres 70:70 -- "${pg_isready[@]}"
grep -q 'initializing' "$work/postgres.log" && fail "postgres: initialized again on existing data"
ok "postgres: restart on the existing \$PGDATA skips initialization and answers"
pg_pid=$(runc state "$prefix-postgres" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
netns=/proc/$pg_pid/ns/net

# ---------------------------------------------------------------- redis
log "redis: $KCMF_IMAGE_REDIS"
rd=$(unpack redis)
rdata=$(pvc redisdata 1000)
start redis "$rd" --command '["redis-server"]' \
  --args "[\"--requirepass\",\"$redis_password\",\"--appendonly\",\"yes\",\"--dir\",\"/data\",\"--port\",\"6379\"]" \
  --env "REDIS_PASSWORD=$redis_password" --user 999:1000 --fs-group 1000 \
  --bind "$rdata:/data" --tmpfs /tmp --netns "$netns"
# shellcheck disable=SC2016 # expanded by the container's sh, as in the probe
redis_probe=(sh -c 'redis-cli --no-auth-warning -a "$REDIS_PASSWORD" ping | grep -q PONG')
wait_for 30 "redis: readiness probe" probe redis 999:1000 "REDIS_PASSWORD=$redis_password" -- "${redis_probe[@]}"
ok "redis: redis-server as 999:1000 on a read-only root; the readiness probe passes"
probe redis 999:1000 -- redis-cli --no-auth-warning -a wrong ping 2>&1 | grep -q PONG &&
  fail "redis: a wrong password was accepted"
probe redis 999:1000 -- redis-cli --no-auth-warning -a "$redis_password" set kcmf:verify 1 >/dev/null
sleep 1.5 # appendfsync everysec
find "$rdata" -name '*.aof' -size +0 | grep -q . || fail "redis: no append-only file in /data"
ok "redis: password enforced; a write lands in /data's append-only file"

# ---------------------------------------------------------------- matcher
log "matcher: $KCMF_IMAGE_MATCHER"
mt=$(unpack matcher)
backups=$(pvc backups 10001)
mt_spec=(--user 10001:10001 --fs-group 10001 --tmpfs /data --tmpfs /tmp --bind "$backups:/backups")
out=$(run version "$mt" --command '["kcmf-matcher"]' --args '["--version"]' "${mt_spec[@]}") ||
  fail "matcher: kcmf-matcher --version: $out"
ok "matcher: $out"
for tool in pg_dump pg_restore; do
  out=$(run "$tool" "$mt" --command "[\"$tool\"]" --args '["--version"]' "${mt_spec[@]}") ||
    fail "matcher: $tool --version: $out"
  [[ $out =~ \ $KCMF_PG_MAJOR\.[0-9]+ ]] || fail "matcher: $tool is not $KCMF_PG_MAJOR: $out"
  ok "matcher: $out"
done
for tool in redis-cli curl; do
  out=$(run "$tool" "$mt" --command "[\"$tool\"]" --args '["--version"]' "${mt_spec[@]}") ||
    fail "matcher: $tool --version: $out"
  ok "matcher: ${out%%$'\n'*}"
done
out=$(run id "$mt" --command '["id"]' "${mt_spec[@]}")
[[ $out == uid=10001\(kcmf\)* ]] || fail "matcher: id says '$out'"
ok "matcher: $out"

# The pod's environment (datastore URLs as the operator composes them, on localhost here).
pg_url_password=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$pg_password")
mt_env=(--env "DATABASE_URL=postgres://kcmf:$pg_url_password@127.0.0.1:5432/kcmf"
  --env "REDIS_URL=redis://:$redis_password@127.0.0.1:6379/0"
  --env SECRET_KEY=verify-secret-key-0123456789abcdef0123456789
  --env VALID_API_KEYS=verify-key-0123456789abcdef --env KCMF_DATA_DIR=/data
  --env KCMF_BACKUP_DIR=/backups --netns "$netns")
out=$(run migrate "$mt" --command '["kcmf-matcher"]' --args '["migrate","--config","/etc/kcmf/config.yaml"]' \
  "${mt_spec[@]}" "${mt_env[@]}") || { echo "$out" >&2; fail "matcher: migrate"; }
ok "matcher: migrate against postgres $KCMF_PG_MAJOR"

start serve "$mt" --command '["kcmf-matcher"]' --args '["serve","--config","/etc/kcmf/config.yaml"]' \
  "${mt_spec[@]}" "${mt_env[@]}"
wait_for 120 "matcher: /health" probe serve 10001:10001 -- curl -fsS http://127.0.0.1:8000/health
wait_for 60 "matcher: /ready" probe serve 10001:10001 -- curl -fsS http://127.0.0.1:8000/ready
ok "matcher: serve as 10001 on a read-only root answers /health and /ready (the pod's probes)"
stop serve

out=$(run backup "$mt" --command '["kcmf-matcher"]' --args '["backup","run","--config","/etc/kcmf/config.yaml"]' \
  "${mt_spec[@]}" "${mt_env[@]}") || { echo "$out" >&2; fail "matcher: backup run"; }
find "$backups" -name 'postgres.dump' -size +0 | grep -q . || { echo "$out" >&2; fail "matcher: backup run wrote no postgres.dump"; }
ok "matcher: backup run (pg_dump $KCMF_PG_MAJOR against server $KCMF_PG_MAJOR, redis-cli) wrote $(find "$backups" -name postgres.dump -printf "%P (%s bytes)")"
out=$(run verify "$mt" --command '["kcmf-matcher"]' --args '["backup","verify","--set","latest","--config","/etc/kcmf/config.yaml"]' \
  "${mt_spec[@]}" "${mt_env[@]}") || { echo "$out" >&2; fail "matcher: backup verify"; }
ok "matcher: backup verify (pg_restore into a scratch database) passed"

# ---------------------------------------------------------------- operator
log "operator: $KCMF_IMAGE_OPERATOR"
op=$(unpack operator)
out=$(run operator "$op" --args '["--help"]' --user 65532:65532 --tmpfs /tmp) ||
  fail "operator: kcmf-operator --help: $out"
ok "operator: /usr/local/bin/kcmf-operator runs as 65532 (${out%%$'\n'*})"
[[ ! -e $op/rootfs/bin/sh && ! -e $op/rootfs/usr/bin/sh ]] || fail "operator: the image has a shell"
ok "operator: no shell in the image"

log "all $passed checks passed"
