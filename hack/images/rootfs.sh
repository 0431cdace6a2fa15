#!/usr/bin/env bash
# rootfs.sh KIND -- the base layer of one image kind (matcher, operator, redis, postgres):
# a Debian rootfs made by mmdebstrap from hack/images/packages.env, slimmed (no docs, man
# pages, translations, apt lists or caches, device nodes), packed as a layer tar.
#
# Cached as ${KCMF_CACHE_DIR:-~/.cache/kcmf}/images/base-KIND-<key>.tar, where <key> hashes
# the kind, its variant and package list, the suite, the apt sources and this script: a
# warm run prints the cached path at once; a changed recipe builds a new tar and removes
# the kind's older ones. Prints the tar's path on stdout, progress on stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=packages.env
source "$here/packages.env"

kind=${1:?usage: rootfs.sh matcher|operator|redis|postgres}
case $kind in
  matcher) variant=minbase packages=$KCMF_PACKAGES_MATCHER ;;
  redis) variant=minbase packages=$KCMF_PACKAGES_REDIS ;;
  postgres) variant=minbase packages=$KCMF_PACKAGES_POSTGRES ;;
  operator) variant=extract packages=$KCMF_PACKAGES_OPERATOR ;;
  *) echo "rootfs.sh: unknown kind '$kind'" >&2; exit 2 ;;
esac

cache=${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}/images
mkdir -p "$cache"
key=$({
  printf '%s\n' "$kind" "$variant" "$packages" "$KCMF_IMAGES_SUITE" "$KCMF_IMAGES_SOURCES"
  cat "$here/rootfs.sh"
} | sha256sum | cut -c1-16)
out=$cache/base-$kind-$key.tar

# One builder per kind at a time; a second caller waits and then finds the tar.
exec 9>"$cache/.base-$kind.lock"
flock 9
if [[ -s $out ]]; then
  echo "$out"
  exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
  echo "rootfs.sh: installing mmdebstrap (apt-get)" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends mmdebstrap >&2
fi

# Timestamps inside the rootfs (dpkg, tar headers): the last commit's time, so a rebuild
# of the same recipe against the same mirror content gives the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0)}

work=$(mktemp -d "$cache/tmp.base-$kind.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "rootfs.sh: mmdebstrap $KCMF_IMAGES_SUITE ($variant) + $packages" >&2
started=$SECONDS
mmdebstrap --quiet --variant="$variant" --format=directory \
  --include="${packages// /,}" \
  --aptopt='Acquire::Languages "none"' \
  "$KCMF_IMAGES_SUITE" "$root" <<<"$KCMF_IMAGES_SOURCES" >&2

# Slim down: what a container never reads.
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,info,locale,lintian,linda}/* \
  "$root"/usr/share/postgresql/*/man \
  "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
  "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/run/*
# The host's name and resolver are none of the image's business (the runtime mounts both).
: >"$root/etc/resolv.conf"
: >"$root/etc/hostname"
chmod 644 "$root/etc/resolv.conf" "$root/etc/hostname"

case $kind in
  postgres)
    # postgresql-17's postinst created a cluster "main" (Debian layout); the image's
    # entrypoint initializes $PGDATA instead.
    rm -rf "$root"/etc/postgresql/* "$root"/var/lib/postgresql/*
    # JIT: the postgres binary does not link LLVM; llvmjit.so (and with it libLLVM, ~120
    # MB) is loaded only when a query is expensive enough, and a missing provider just
    # means no JIT -- the same plans, interpreted.
    # libz3 is there for libLLVM only.
    rm -rf "$root"/usr/lib/postgresql/*/lib/llvmjit* "$root"/usr/lib/postgresql/*/lib/bitcode \
      "$root"/usr/lib/x86_64-linux-gnu/libLLVM* "$root"/usr/lib/llvm-* \
      "$root"/usr/lib/x86_64-linux-gnu/libz3.so*
    # Locale sources (locale-gen input, from `locales`): initdb uses glibc's built-in C.UTF-8.
    rm -rf "$root"/usr/share/i18n
    ;;
  operator)
    # The extract variant runs no maintainer scripts: build the CA bundle the way
    # update-ca-certificates does (every certificate the package ships).
    mkdir -p "$root/etc/ssl/certs"
    find "$root/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z |
      xargs -0 cat >"$root/etc/ssl/certs/ca-certificates.crt"
    # No shell, no programs, no package manager (like distroless): libraries,
    # certificates, zoneinfo and /etc files stay.
    rm -rf "${root:?}"/usr/bin/* "$root"/usr/sbin/* "$root"/usr/share/perl* \
      "$root"/usr/lib/x86_64-linux-gnu/perl* "$root"/usr/share/debconf "$root"/etc/apt \
      "$root"/var/cache/debconf "$root"/var/lib/apt "$root"/var/cache/apt "$root"/var/lib/dpkg
    mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"
    ;;
esac
# The snakeoil key ssl-cert generates at install time would be the same in every image
# built from this cache: drop it (nothing here serves TLS with it).
rm -f "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/ssl/certs/ssl-cert-snakeoil.pem"
find "$root/etc/ssl/certs" -xtype l -delete 2>/dev/null || true

tar --sort=name --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --numeric-owner \
  --exclude='./dev/*' -C "$root" -cf "$work/base.tar" .
sha256sum "$work/base.tar" | cut -d' ' -f1 >"$out.sha256"
mv "$work/base.tar" "$out"
find "$cache" -maxdepth 1 -name "base-$kind-*" ! -path "$out" ! -path "$out.sha256" -delete
echo "rootfs.sh: $kind base layer $(du -h "$out" | cut -f1) in $((SECONDS - started)) s: $out" >&2
echo "$out"
