#!/usr/bin/env bash
# hack/images/build.sh -- OCI image-layout tars of the images the operator's pods run, built
# without a container engine (mmdebstrap + hack/images/oci-image.py). See README.md.
#
#   hack/images/build.sh [--only KIND[,KIND...]] [--tag TAG] [--out DIR]
#                        [--matcher-bin PATH] [--operator-bin PATH]
#   hack/images/build.sh --check-dockerfiles
#
# KIND: matcher, operator, redis, postgres (default: all four; `--only datastores` means
# redis,postgres). Each image is two layers: the kind's cached Debian base (rootfs.sh) and a
# top layer built every time (binary, config, accounts, entrypoint). Writes DIR/KIND.oci.tar
# and DIR/images.env (KCMF_IMAGE_<KIND>=localhost/<name>:<tag>, KCMF_IMAGE_<KIND>_TAR=<path>;
# entries of kinds not built this time are kept while their tar exists) and prints the
# env file's path last on stdout.
#
# Tags: a hash of the image's inputs (base layer digest, top layer files, config), so a new
# binary or recipe gives a new tag and an unchanged one the same tag; --tag / KCMF_IMAGE_TAG
# sets one tag for all (never `latest`).
#
# Environment: KCMF_MATCHER_BIN (default target/release/kcmf-matcher), KCMF_OPERATOR_BIN
# (default target/release/kcmf-operator, else target/debug/kcmf-operator), KCMF_IMAGE_TAG,
# KCMF_IMAGES_OUT (default target/images), KCMF_CACHE_DIR (base layers in its images/),
# SOURCE_DATE_EPOCH (default: the last commit's time). No cargo build happens here.
#
# --check-dockerfiles: fails when matcher/Dockerfile or operator/Dockerfile disagrees with
# this recipe (Debian release, apt-get install list, USER, ENV, EXPOSE, ENTRYPOINT, CMD).
set -euo pipefail
umask 022

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=packages.env
source "$here/packages.env"

# PostgreSQL major of the server image (postgresql-NN) and of the matcher's client.
pg_major() { grep -o -E "\<$1-[0-9]+\>" <<<"$2" | grep -o -E '[0-9]+$' || true; }
pg_server_major=$(pg_major postgresql "$KCMF_PACKAGES_POSTGRES")
pg_client_major=$(pg_major postgresql-client "$KCMF_PACKAGES_MATCHER")

# Image configs. The Dockerfiles mirror the matcher's and the operator's (--check-dockerfiles).
pg_bin=/usr/lib/postgresql/$pg_server_major/bin
default_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
matcher_config=(--entrypoint '["kcmf-matcher"]' --cmd '["serve","--config","/etc/kcmf/config.yaml"]'
  --user 10001 --env KCMF_DATA_DIR=/data --expose 8000 --expose 9090)
operator_config=(--entrypoint '["/usr/local/bin/kcmf-operator"]' --cmd '["run"]'
  --user 65532 --expose 8080)
# shellcheck disable=SC2034 # read through a nameref in build_image
redis_config=(--entrypoint '["docker-entrypoint.sh"]' --cmd '["redis-server"]'
  --user 999:1000 --workdir /data --expose 6379)
# shellcheck disable=SC2034
postgres_config=(--entrypoint '["docker-entrypoint.sh"]' --cmd '["postgres"]'
  --user 70:70 --env "PATH=$pg_bin:$default_path" --env LANG=C.UTF-8
  --env PGDATA=/var/lib/postgresql/data --stop-signal SIGINT --expose 5432)

log() { echo "build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- --check-dockerfiles

# The final stage of a Dockerfile, continuation lines joined, comments dropped.
final_stage() {
  sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba' -e '}' "$1" | grep -v '^[[:space:]]*#' |
    awk 'toupper($1) == "FROM" { stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }'
}

# Words of the instruction INSTR (all its lines), e.g. `EXPOSE 8000 9090`.
instruction() {
  awk -v i="$2" 'toupper($1) == i { $1 = ""; sub(/^ /, ""); print }' <<<"$1"
}

# Packages of every `apt-get install` in a RUN line, sorted, one per line.
apt_packages() {
  instruction "$1" RUN | sed 's/&&/\n/g; s/;/\n/g' |
    awk '{ for (i = 1; i <= NF; i++) if ($i == "install" && $(i-1) == "apt-get") {
             for (j = i + 1; j <= NF; j++) if ($j !~ /^-/) print $j } }' | sort
}

json_norm() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), separators=(",", ":")))' "$1"; }

# Value of option OPT in a config array (all values, one per line).
config_values() {
  local opt=$1; shift
  while (($#)); do
    if [[ $1 == "$opt" ]]; then printf '%s\n' "$2"; fi
    shift 2
  done
}

check_dockerfile() { # KIND DOCKERFILE EXPECTED_FROM PACKAGES CONFIG...
  local kind=$1 file=$2 from=$3 packages=$4 stage failed=0 want got
  shift 4
  stage=$(final_stage "$file")
  compare() { # WHAT WANT GOT
    if [[ $2 != "$3" ]]; then
      log "$file: $1 differs from hack/images ($kind): Dockerfile has [${3//$'\n'/ }], the recipe [${2//$'\n'/ }]"
      failed=1
    fi
  }
  compare FROM "$from" "$(instruction "$stage" FROM | awk '{ print $1 }')"
  # Build stages: the same Debian release (rust:X-trixie).
  while read -r image; do
    [[ $image == *-"$KCMF_IMAGES_SUITE" ]] || compare "build stage FROM" "*-$KCMF_IMAGES_SUITE" "$image"
  done < <(grep -i '^FROM ' "$file" | awk '{ print $2 }' | sed '$d')
  compare "apt-get install list" "$(tr ' ' '\n' <<<"$packages" | grep . | sort)" "$(apt_packages "$stage")"
  compare USER "$(config_values --user "$@")" "$(instruction "$stage" USER)"
  compare EXPOSE "$(config_values --expose "$@" | sort)" "$(instruction "$stage" EXPOSE | tr ' ' '\n' | sort)"
  compare ENV "$(config_values --env "$@" | sort)" "$(instruction "$stage" ENV | sort)"
  want=$(config_values --entrypoint "$@") got=$(instruction "$stage" ENTRYPOINT)
  compare ENTRYPOINT "$(json_norm "$want")" "$(json_norm "${got:-null}")"
  want=$(config_values --cmd "$@") got=$(instruction "$stage" CMD)
  compare CMD "$(json_norm "$want")" "$(json_norm "${got:-null}")"
  if ((failed == 0)); then log "$file agrees with hack/images ($kind)"; fi
  return "$failed"
}

check_dockerfiles() {
  local rc=0
  if [[ -z $pg_server_major || $pg_client_major != "$pg_server_major" ]]; then
    log "packages.env: the matcher's postgresql-client-${pg_client_major:-?} is not the postgres image's postgresql-${pg_server_major:-?}"
    rc=1
  fi
  check_dockerfile matcher "$repo/matcher/Dockerfile" "debian:$KCMF_IMAGES_SUITE-slim" \
    "$KCMF_PACKAGES_MATCHER" "${matcher_config[@]}" || rc=1
  # The operator's base is distroless (no apt-get); its Debian release must be ours.
  check_dockerfile operator "$repo/operator/Dockerfile" \
    "gcr.io/distroless/cc-debian$KCMF_IMAGES_SUITE_VERSION:nonroot" "" "${operator_config[@]}" || rc=1
  return "$rc"
}

# ---------------------------------------------------------------- top layers

# put_account DIR NAME UID GID HOME SHELL: NAME owns UID and group GID (named NAME unless
# GID already has a name) in DIR/etc/passwd and DIR/etc/group, replacing entries that held
# the name, the uid or (for the group) the gid.
put_account() {
  local dir=$1 name=$2 uid=$3 gid=$4 home=$5 shell=$6
  touch "$dir/etc/passwd" "$dir/etc/group"
  awk -F: -v n="$name" -v u="$uid" '$1 != n && $3 != u' "$dir/etc/passwd" >"$dir/etc/passwd.new"
  echo "$name:x:$uid:$gid::$home:$shell" >>"$dir/etc/passwd.new"
  awk -F: -v n="$name" -v g="$gid" '$1 != n && $3 != g' "$dir/etc/group" >"$dir/etc/group.new"
  echo "$name:x:$gid:" >>"$dir/etc/group.new"
  mv "$dir/etc/passwd.new" "$dir/etc/passwd"
  mv "$dir/etc/group.new" "$dir/etc/group"
  chmod 644 "$dir/etc/passwd" "$dir/etc/group"
}

# base_etc BASE_TAR DIR: the base's /etc/passwd and /etc/group into DIR/etc (if it has them).
base_etc() {
  mkdir -p "$2/etc"
  tar -xf "$1" -C "$2" ./etc/passwd ./etc/group 2>/dev/null || true
}

# install_file SRC DST MODE: hard link when possible (the binaries are large), else copy.
install_file() {
  mkdir -p "$(dirname "$2")"
  ln -f "$1" "$2" 2>/dev/null || cp "$1" "$2"
  chmod "$3" "$2"
}

stage_matcher() {
  local base=$1 top=$2
  base_etc "$base" "$top"
  put_account "$top" kcmf 10001 10001 /home/kcmf /usr/sbin/nologin
  install -d -o 10001 -g 10001 -m 700 "$top/home/kcmf"
  install -d -o 10001 -g 10001 -m 755 "$top/data" "$top/backups"
  install_file "$matcher_bin" "$top/usr/local/bin/kcmf-matcher" 755
  install -D -m 644 "$repo/config/config.yaml" "$top/etc/kcmf/config.yaml"
  cp -r "$repo/config/rules" "$top/etc/kcmf/rules"
  chmod -R u=rwX,go=rX "$top/etc/kcmf"
}

stage_operator() {
  local base=$1 top=$2
  # distroless's accounts: root, nobody, nonroot (65532).
  mkdir -p "$top/etc"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$top/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$top/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' \
    'networks: files' 'protocols: files' 'services: files' >"$top/etc/nsswitch.conf"
  chmod 644 "$top"/etc/{passwd,group,nsswitch.conf}
  install -d -m 700 "$top/root"
  install -d -o 65532 -g 65532 -m 700 "$top/home/nonroot"
  install_file "$operator_bin" "$top/usr/local/bin/kcmf-operator" 755
}

stage_redis() {
  local base=$1 top=$2
  base_etc "$base" "$top"
  # The official image's redis user: uid 999, gid 1000 (the operator runs the pod as these).
  put_account "$top" redis 999 1000 /data /usr/sbin/nologin
  install -d -o 999 -g 1000 -m 755 "$top/data"
  install -D -m 755 "$here/redis/docker-entrypoint.sh" "$top/usr/local/bin/docker-entrypoint.sh"
}

stage_postgres() {
  local base=$1 top=$2
  base_etc "$base" "$top"
  # The official alpine image's postgres user: 70:70.
  put_account "$top" postgres 70 70 /var/lib/postgresql /bin/sh
  install -d -o 70 -g 70 -m 755 "$top/var/lib/postgresql"
  install -d -o 70 -g 70 -m 1777 "$top/var/lib/postgresql/data"
  # /var/run is a symlink to /run in Debian: the layer must not go through it.
  install -d -o 70 -g 70 -m 3777 "$top/run/postgresql"
  install -d -m 755 "$top/docker-entrypoint-initdb.d"
  install -D -m 755 "$here/postgres/docker-entrypoint.sh" "$top/usr/local/bin/docker-entrypoint.sh"
}

# image_tag BASE_TAR TOP_DIR CONFIG...: hash of everything that goes into the image.
image_tag() {
  local base=$1 top=$2
  shift 2
  {
    if [[ -s $base.sha256 ]]; then cat "$base.sha256"; else sha256sum <"$base"; fi
    (cd "$top" && find . -printf '%p %y %m %U:%G %l\n' | LC_ALL=C sort &&
      find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-12
}

build_image() {
  local kind=$1 name=$2 base top tag ref out started=$SECONDS
  local -n config=${kind}_config
  base=$("$here/rootfs.sh" "$kind")
  top=$(mktemp -d "$work/top-$kind.XXXXXX")
  "stage_$kind" "$base" "$top"
  tag=${KCMF_IMAGE_TAG:-$(image_tag "$base" "$top" "${config[@]}")}
  ref=localhost/$name:$tag
  out=$out_dir/$kind.oci.tar
  python3 "$here/oci-image.py" --tag "$ref" --out "$out" \
    --layer "$base" --layer-dir "$top" "${config[@]}" \
    --label "org.opencontainers.image.source=hack/images/build.sh" >&2
  rm -rf "$top"
  log "$ref: $out ($(du -h "$out" | cut -f1), $((SECONDS - started)) s)"
  built[$kind]="export KCMF_IMAGE_${kind^^}=$ref"$'\n'"export KCMF_IMAGE_${kind^^}_TAR=$out"
}

# ---------------------------------------------------------------- main

only=matcher,operator,redis,postgres
out_dir=${KCMF_IMAGES_OUT:-$repo/target/images}
matcher_bin=${KCMF_MATCHER_BIN:-$repo/target/release/kcmf-matcher}
operator_bin=${KCMF_OPERATOR_BIN:-}
while (($#)); do
  case $1 in
    --check-dockerfiles) check_dockerfiles; exit ;;
    --only) only=${2:?--only needs a list}; shift ;;
    --tag) KCMF_IMAGE_TAG=${2:?--tag needs a value}; shift ;;
    --out) out_dir=${2:?--out needs a directory}; shift ;;
    --matcher-bin) matcher_bin=${2:?--matcher-bin needs a path}; shift ;;
    --operator-bin) operator_bin=${2:?--operator-bin needs a path}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[[ ${KCMF_IMAGE_TAG:-} != latest ]] || die "the tag must not be 'latest' (kubelet would always pull it)"
only=${only//datastores/redis,postgres}
kinds=()
for kind in matcher operator redis postgres; do
  [[ ,$only, == *,"$kind",* ]] && kinds+=("$kind")
done
for kind in ${only//,/ }; do
  [[ $kind =~ ^(matcher|operator|redis|postgres)$ ]] || die "unknown kind '$kind'"
done

if [[ " ${kinds[*]} " == *" matcher "* ]]; then
  [[ -x $matcher_bin ]] || die "no matcher binary at $matcher_bin (cargo build --release -p kcmf-matcher, or --matcher-bin)"
fi
if [[ " ${kinds[*]} " == *" operator "* ]]; then
  if [[ -z $operator_bin ]]; then
    operator_bin=$repo/target/release/kcmf-operator
    [[ -x $operator_bin ]] || operator_bin=$repo/target/debug/kcmf-operator
  fi
  [[ -x $operator_bin ]] || die "no operator binary at $operator_bin (cargo build -p kcmf-operator, or --operator-bin)"
  log "operator binary: $operator_bin"
fi

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
work=$(mktemp -d "$out_dir/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

declare -A built=()
declare -A names=([matcher]=kcmf-matcher [operator]=kcmf-operator [redis]=redis [postgres]=postgres)
for kind in "${kinds[@]}"; do
  build_image "$kind" "${names[$kind]}"
done

# images.env: this run's images, plus earlier ones of the other kinds whose tar is still there.
env_file=$out_dir/images.env
{
  echo "# written by hack/images/build.sh"
  for kind in matcher operator redis postgres; do
    if [[ -n ${built[$kind]:-} ]]; then
      echo "${built[$kind]}"
    elif [[ -f $env_file ]]; then
      prev=$(grep -E "^export KCMF_IMAGE_${kind^^}(_TAR)?=" "$env_file" || true)
      tar_path=$(sed -n "s/^export KCMF_IMAGE_${kind^^}_TAR=//p" <<<"$prev")
      if [[ -n $tar_path && -f $tar_path ]]; then echo "$prev"; fi
    fi
  done
} >"$work/images.env"
mv "$work/images.env" "$env_file"
echo "$env_file"
