#!/usr/bin/env python3
"""oci-image.py — build an OCI image-layout tar from layer tars (stdlib only).

Usage:
  oci-image.py --tag localhost/x:1 --out x.oci.tar \
      [--layer a.tar | --layer-dir DIR]...       (in order, lowest layer first)
      [--entrypoint '["/x"]'] [--cmd '["--flag"]']  (JSON arrays; '[]' = empty)
      [--env K=V]... [--user 10001[:10001]] [--workdir /] [--expose 8000[/tcp]]...
      [--label K=V]... [--stop-signal SIGTERM] [--arch amd64] [--os linux]

Writes ONE image as an OCI image layout (oci-layout, index.json, blobs/sha256/...)
packed in an uncompressed tar, e.g. for
  ctr -n k8s.io images import --all-platforms x.oci.tar     (or hack/k8s/load-image.sh)
which then lists it as exactly --tag (here `localhost/x:1`).

Layers:
  --layer FILE     an existing layer tar (plain; a gzip-compressed one is unpacked).
                   Stored uncompressed, byte for byte (its sha256 is its diff_id).
  --layer-dir DIR  the tree under DIR becomes one layer, rooted at /: entries sorted,
                   mtime 0, numeric uid/gid and mode as on disk, no user/group names
                   (chown the tree, as root, to get other owners into the image).
  Layers are applied in command-line order; the first is the bottom one.

Image config (OCI image-spec "config"):
  --entrypoint / --cmd  JSON arrays of strings (exec form). Omitted = not set.
  --env K=V             repeatable; PATH defaults to
                        /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
                        unless given.
  --user                "uid", "uid:gid", or a name resolvable in the image.
  --workdir             absolute path.
  --expose              "8000" (= 8000/tcp) or "53/udp"; repeatable.
  --label K=V           repeatable.
  --stop-signal         e.g. SIGTERM / SIGINT.

Tag annotations on the index's manifest descriptor, both = the full --tag:
  io.containerd.image.name           what `ctr images import` names the image
  org.opencontainers.image.ref.name  OCI layout ref (podman/skopeo write full refs too).
  Checked with ctr 1.6.20: a full ref in either is taken as is; a bare tag in
  ref.name alone would become "import-<date>:<tag>".

Deterministic: same inputs give the same bytes (sorted entries, mtime 0 — or
$SOURCE_DATE_EPOCH for the config's "created" — owner 0:0 on the outer tar).
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import time

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


def die(msg):
    print(f"oci-image.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


class LayerAction(argparse.Action):
    """Keeps --layer and --layer-dir in one ordered list."""

    def __call__(self, parser, namespace, values, option_string=None):
        layers = getattr(namespace, "layers", None) or []
        kind = "dir" if option_string == "--layer-dir" else "tar"
        layers.append((kind, values))
        namespace.layers = layers


def json_list(text, what):
    try:
        v = json.loads(text)
    except json.JSONDecodeError as e:
        die(f"{what}: not JSON ({e}); give an array like '[\"/bin/x\", \"-v\"]'")
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        die(f"{what}: must be a JSON array of strings")
    return v


def key_value(text, what):
    if "=" not in text:
        die(f"{what}: expected K=V, got {text!r}")
    return text.split("=", 1)


def sha256_file(path):
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            size += len(b)
    return h.hexdigest(), size


def tar_dir(src, dst_path):
    """Deterministic layer tar of the tree under src (entries relative to it)."""
    if not os.path.isdir(src):
        die(f"--layer-dir {src}: not a directory")
    paths = []
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs.sort()
        rel = os.path.relpath(root, src)
        if rel != ".":
            paths.append(rel)
        for name in sorted(files):
            paths.append(os.path.normpath(os.path.join(rel, name)))
        # symlinks to directories are listed in dirs by os.walk but not descended
        for name in list(dirs):
            full = os.path.join(root, name)
            if os.path.islink(full):
                paths.append(os.path.normpath(os.path.join(rel, name)))
                dirs.remove(name)
    paths.sort()
    with tarfile.open(dst_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in paths:
            full = os.path.join(src, rel)
            ti = tar.gettarinfo(full, arcname=rel)
            ti.mtime = 0
            ti.uname = ti.gname = ""
            ti.pax_headers = {}
            if ti.isreg():
                with open(full, "rb") as f:
                    tar.addfile(ti, f)
            elif ti.isdir() or ti.issym() or ti.islnk() or ti.ischr() or ti.isblk() or ti.isfifo():
                tar.addfile(ti)
            else:
                die(f"--layer-dir: unsupported file type: {full}")


def ungzip(src, dst_path):
    with gzip.open(src, "rb") as fi, open(dst_path, "wb") as fo:
        shutil.copyfileobj(fi, fo, 1 << 20)


def is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def main():
    ap = argparse.ArgumentParser(
        description="Build an OCI image-layout tar (see the header of this file).")
    ap.add_argument("--tag", required=True, help="full reference, e.g. localhost/pause:3.10")
    ap.add_argument("--out", required=True, help="output tar path")
    ap.add_argument("--layer", action=LayerAction, metavar="TAR", help="layer tar (repeatable)")
    ap.add_argument("--layer-dir", action=LayerAction, metavar="DIR",
                    help="directory packed as one layer (repeatable)")
    ap.add_argument("--entrypoint", help="JSON array")
    ap.add_argument("--cmd", help="JSON array")
    ap.add_argument("--env", action="append", default=[], metavar="K=V")
    ap.add_argument("--user")
    ap.add_argument("--workdir")
    ap.add_argument("--expose", action="append", default=[], metavar="PORT[/PROTO]")
    ap.add_argument("--label", action="append", default=[], metavar="K=V")
    ap.add_argument("--stop-signal")
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--os", default="linux")
    args = ap.parse_args()

    layers = getattr(args, "layers", None) or []
    if not layers:
        die("at least one --layer or --layer-dir is needed")
    tag = args.tag
    last = tag.rsplit("/", 1)[-1]
    if ":" not in last or "@" in tag:
        die(f"--tag {tag!r}: give a full reference with a tag, e.g. localhost/x:1")

    cfg = {}
    env = [key_value(e, "--env") for e in args.env]
    if not any(k == "PATH" for k, _ in env):
        env.insert(0, ["PATH", DEFAULT_PATH])
    cfg["Env"] = [f"{k}={v}" for k, v in env]
    if args.entrypoint is not None:
        cfg["Entrypoint"] = json_list(args.entrypoint, "--entrypoint")
    if args.cmd is not None:
        cfg["Cmd"] = json_list(args.cmd, "--cmd")
    if args.user:
        cfg["User"] = args.user
    if args.workdir:
        if not args.workdir.startswith("/"):
            die("--workdir must be absolute")
        cfg["WorkingDir"] = args.workdir
    if args.expose:
        ports = {}
        for p in args.expose:
            port, _, proto = p.partition("/")
            if not port.isdigit() or proto not in ("", "tcp", "udp", "sctp"):
                die(f"--expose {p!r}: expected PORT or PORT/tcp|udp|sctp")
            ports[f"{int(port)}/{proto or 'tcp'}"] = {}
        cfg["ExposedPorts"] = dict(sorted(ports.items()))
    if args.label:
        cfg["Labels"] = dict(sorted(key_value(lb, "--label") for lb in args.label))
    if args.stop_signal:
        cfg["StopSignal"] = args.stop_signal

    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    created = "%04d-%02d-%02dT%02d:%02d:%02dZ" % time.gmtime(epoch)[:6]

    out = os.path.abspath(args.out)
    tmpdir = tempfile.mkdtemp(prefix=".oci-image.", dir=os.path.dirname(out) or ".")
    try:
        layer_files = []  # (path, digest, size)
        for i, (kind, src) in enumerate(layers):
            if kind == "dir":
                path = os.path.join(tmpdir, f"layer{i}.tar")
                tar_dir(src, path)
            else:
                if not os.path.isfile(src):
                    die(f"--layer {src}: no such file")
                if is_gzip(src):
                    path = os.path.join(tmpdir, f"layer{i}.tar")
                    ungzip(src, path)
                else:
                    path = src
                try:
                    with tarfile.open(path, "r:") as t:
                        t.next()
                except tarfile.TarError as e:
                    die(f"--layer {src}: not a tar ({e})")
            digest, size = sha256_file(path)
            layer_files.append((path, digest, size))

        config = {
            "created": created,
            "architecture": args.arch,
            "os": args.os,
            "config": cfg,
            "rootfs": {"type": "layers",
                       "diff_ids": [f"sha256:{d}" for _, d, _ in layer_files]},
            "history": [{"created": created, "created_by": "hack/images/oci-image.py"}
                        for _ in layer_files],
        }
        config_b = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        config_d = hashlib.sha256(config_b).hexdigest()

        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": f"sha256:{config_d}",
                       "size": len(config_b)},
            "layers": [{"mediaType": MT_LAYER, "digest": f"sha256:{d}", "size": s}
                       for _, d, s in layer_files],
        }
        manifest_b = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        manifest_d = hashlib.sha256(manifest_b).hexdigest()

        index = {
            "schemaVersion": 2,
            "mediaType": MT_INDEX,
            "manifests": [{
                "mediaType": MT_MANIFEST,
                "digest": f"sha256:{manifest_d}",
                "size": len(manifest_b),
                "platform": {"architecture": args.arch, "os": args.os},
                "annotations": {
                    "io.containerd.image.name": tag,
                    "org.opencontainers.image.ref.name": tag,
                },
            }],
        }
        index_b = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()
        layout_b = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()

        def info(name, size=0, typ=tarfile.REGTYPE, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size, ti.type, ti.mode = size, typ, mode
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, 0, "", ""
            return ti

        part = os.path.join(tmpdir, "out.tar")
        with tarfile.open(part, "w", format=tarfile.USTAR_FORMAT) as tar:
            tar.addfile(info("blobs/", typ=tarfile.DIRTYPE, mode=0o755))
            tar.addfile(info("blobs/sha256/", typ=tarfile.DIRTYPE, mode=0o755))
            blobs = {config_d: config_b, manifest_d: manifest_b}
            files = {d: p for p, d, _ in layer_files}
            for d in sorted(set(blobs) | set(files)):
                name = f"blobs/sha256/{d}"
                if d in blobs:
                    tar.addfile(info(name, len(blobs[d])), io.BytesIO(blobs[d]))
                else:
                    size = os.stat(files[d]).st_size
                    with open(files[d], "rb") as f:
                        tar.addfile(info(name, size), f)
            tar.addfile(info("index.json", len(index_b)), io.BytesIO(index_b))
            tar.addfile(info("oci-layout", len(layout_b)), io.BytesIO(layout_b))
        os.replace(part, out)
        os.chmod(out, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        print(f"oci-image.py: {out}: {tag} manifest sha256:{manifest_d} "
              f"({len(layer_files)} layer(s), {os.stat(out).st_size} bytes)", file=sys.stderr)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
