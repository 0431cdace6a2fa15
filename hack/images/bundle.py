#!/usr/bin/env python3
"""bundle.py -- run an OCI image-layout tar with runc the way a kubelet would (for verify.sh).

  bundle.py unpack IMAGE.oci.tar DIR
      Applies the image's layers (lowest first, whiteouts honoured) to DIR/rootfs and
      writes the image config to DIR/image.json.
  bundle.py spec DIR [--command JSON] [--args JSON] [--env K=V]... [--user UID:GID]
                 [--fs-group GID] [--tmpfs PATH]... [--bind SRC:DST]... [--netns PATH]
                 [--writable-root]
      Writes DIR/config.json (OCI runtime spec) for the unpacked image with the pod
      semantics the operator relies on: command/args replace ENTRYPOINT/CMD as in
      Kubernetes (command alone drops CMD), env is the image's plus --env, the root
      filesystem is read-only (readOnlyRootFilesystem), no capabilities, no new
      privileges, fsGroup as a supplementary group, emptyDirs as tmpfs, volumes as
      bind mounts, a new network namespace with only lo (or --netns to join one,
      like containers of one pod).
Stdlib only.
"""

import argparse
import json
import os
import shutil
import sys
import tarfile
import tempfile


def die(msg):
    print(f"bundle.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def blob(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def apply_layer(path, rootfs):
    with tarfile.open(path) as t:
        members = []
        for m in t.getmembers():
            name = os.path.normpath(m.name).lstrip("/")
            if name in (".", ""):
                continue
            if name.startswith("../"):
                die(f"{path}: entry escapes the root: {m.name}")
            base, leaf = os.path.split(name)
            if leaf == ".wh..wh..opq":
                d = os.path.join(rootfs, base)
                for e in os.listdir(d) if os.path.isdir(d) else []:
                    p = os.path.join(d, e)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
                continue
            if leaf.startswith(".wh."):
                p = os.path.join(rootfs, base, leaf[4:])
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                elif os.path.lexists(p):
                    os.unlink(p)
                continue
            # A file replacing a directory (or the reverse) replaces it, as in containerd.
            p = os.path.join(rootfs, name)
            if os.path.lexists(p) and not (m.isdir() and os.path.isdir(p) and not os.path.islink(p)):
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
            m.name = name
            members.append(m)
        # numeric_owner: uids/gids as recorded; filter="tar" is the 3.12+ safe default
        kwargs = {"numeric_owner": True}
        if hasattr(tarfile, "tar_filter"):
            kwargs["filter"] = "fully_trusted"
        t.extractall(rootfs, members=members, **kwargs)


def unpack(image_tar, bundle):
    rootfs = os.path.join(bundle, "rootfs")
    if os.path.exists(rootfs):
        shutil.rmtree(rootfs)
    os.makedirs(rootfs)
    with tempfile.TemporaryDirectory(dir=bundle) as layout:
        with tarfile.open(image_tar) as t:
            t.extractall(layout)
        with open(os.path.join(layout, "index.json")) as f:
            index = json.load(f)
        desc = index["manifests"][0]
        with open(blob(layout, desc["digest"])) as f:
            manifest = json.load(f)
        if "manifests" in manifest:  # a nested index
            with open(blob(layout, manifest["manifests"][0]["digest"])) as f:
                manifest = json.load(f)
        with open(blob(layout, manifest["config"]["digest"])) as f:
            config = json.load(f)
        for layer in manifest["layers"]:
            apply_layer(blob(layout, layer["digest"]), rootfs)
    with open(os.path.join(bundle, "image.json"), "w") as f:
        json.dump(config, f, indent=1)


def spec(a):
    with open(os.path.join(a.dir, "image.json")) as f:
        image = json.load(f).get("config", {})
    command = json.loads(a.command) if a.command is not None else None
    args = json.loads(a.args) if a.args is not None else None
    if command is not None:
        argv = command + (args or [])
    else:
        argv = (image.get("Entrypoint") or []) + (args if args is not None else image.get("Cmd") or [])
    if not argv:
        die("nothing to run")
    env = dict(e.split("=", 1) for e in image.get("Env") or [])
    env.update(dict(e.split("=", 1) for e in a.env))
    user = a.user or image.get("User") or "0:0"
    uid, _, gid = user.partition(":")
    if not uid.isdigit() or (gid and not gid.isdigit()):
        die(f"user must be numeric uid[:gid], not {user!r}")
    groups = [int(a.fs_group)] if a.fs_group else []
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]
    for path in a.tmpfs:  # emptyDir: world-writable like the kubelet's
        mounts.append({"destination": path, "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "mode=1777"]})
    for b in a.bind:
        src, dst = b.split(":", 1)
        mounts.append({"destination": dst, "type": "bind", "source": os.path.abspath(src),
                       "options": ["rbind", "rw"]})
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    namespaces.append({"type": "network", "path": a.netns} if a.netns else {"type": "network"})
    caps = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}
    config = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": int(uid), "gid": int(gid or 0), "additionalGids": groups},
            "args": argv,
            "env": [f"{k}={v}" for k, v in env.items()],
            "cwd": image.get("WorkingDir") or "/",
            "capabilities": caps,
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": not a.writable_root},
        "hostname": os.path.basename(os.path.abspath(a.dir)),
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unpack")
    u.add_argument("image")
    u.add_argument("dir")
    s = sub.add_parser("spec")
    s.add_argument("dir")
    s.add_argument("--command")
    s.add_argument("--args")
    s.add_argument("--env", action="append", default=[])
    s.add_argument("--user")
    s.add_argument("--fs-group")
    s.add_argument("--tmpfs", action="append", default=[])
    s.add_argument("--bind", action="append", default=[])
    s.add_argument("--netns")
    s.add_argument("--writable-root", action="store_true")
    a = p.parse_args()
    if a.cmd == "unpack":
        os.makedirs(a.dir, exist_ok=True)
        unpack(a.image, a.dir)
    else:
        spec(a)


if __name__ == "__main__":
    main()
