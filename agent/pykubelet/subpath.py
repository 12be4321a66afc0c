"""subPath mounts that cannot leave their volume (the kubelet's fix for CVE-2017-1002101).

A container can write a symlink into its volume (``ln -s / /data/escape``); a second container that mounts
``subPath: escape`` would then get the host's ``/`` if the agent simply joined the two paths. The kubelet's
answer (``pkg/volume/util/subpath/subpath_linux.go``) is what this module does:

1. walk the subPath one component at a time from the volume's root, each opened with ``O_NOFOLLOW``
   relative to the previous one, creating missing directories on the way (``doSafeMakeDir``), and refuse
   any component that is a symlink;
2. while the last component is held open, bind-mount ``/proc/<pid>/fd/<fd>`` onto a directory of the pod's
   own (``<root-dir>/pods/<uid>/volume-subpaths/<volume>/<container>/<mount index>``) and hand *that* to
   the runtime. The mount pins the object that was checked, so swapping a component for a symlink after
   the check changes nothing.

Those bind mounts belong to the pod and are unmounted before its directory is deleted (``volumes.teardown``).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from pykubelet import mounts, safepath

__all__ = ["SubPathError", "prepare"]

SUBPATHS_DIR = "volume-subpaths"


class SubPathError(Exception):
    """The subPath cannot be mounted safely; the message names the volume, the subPath and the reason."""


def prepare(volume_root: str, sub: str, pod_dir: Path, volume: str, container: str, index: int) -> str:
    """The host path to bind for ``volumeMounts[index]`` of ``container``: a pinned bind of the subPath."""
    where = f"subPath {sub!r} of volume {volume!r}"
    fd = _open_beneath(volume_root, sub, where)
    try:
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        try:
            target = safepath.beneath(pod_dir, SUBPATHS_DIR, volume, container, str(index))
        except safepath.UnsafePathError as exc:
            raise SubPathError(f"{where}: {exc}") from None
        _make_target(target, is_dir)
        if mounts.is_mount_point(target):
            _umount(target)
        result = subprocess.run(
            ["mount", "--no-canonicalize", "--bind", f"/proc/{os.getpid()}/fd/{fd}", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SubPathError(f"{where}: cannot bind-mount it: {result.stderr.strip() or 'mount failed'}")
        return str(target)
    finally:
        os.close(fd)


def _open_beneath(volume_root: str, sub: str, where: str) -> int:
    """An ``O_PATH`` descriptor of ``volume_root/sub``, reached without following any symlink in ``sub``."""
    parts = [p for p in sub.split("/") if p not in ("", ".")]
    try:
        fd = os.open(volume_root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise SubPathError(f"{where}: cannot open the volume at {volume_root}: {exc.strerror}") from None
    try:
        for depth, part in enumerate(parts):
            if part == "..":
                raise SubPathError(f"{where}: '..' would leave the volume")
            last = depth == len(parts) - 1
            child = _open_component(fd, part, where)
            os.close(fd)
            fd = child
            mode = os.fstat(fd).st_mode
            if stat.S_ISLNK(mode):
                raise SubPathError(
                    f"{where}: {'/'.join(parts[: depth + 1])!r} is a symlink; a subPath may not pass "
                    "through a symlink (it could point out of the volume)"
                )
            if not last and not stat.S_ISDIR(mode):
                raise SubPathError(f"{where}: {'/'.join(parts[: depth + 1])!r} is not a directory")
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_component(dir_fd: int, name: str, where: str) -> int:
    """Open ``name`` in ``dir_fd`` without following it; create it as a directory (0755) when missing.

    ``mkdir`` never follows a symlink either: an existing link makes it fail with EEXIST, and the open
    below then sees the link itself.
    """
    try:
        os.mkdir(name, 0o755, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SubPathError(f"{where}: cannot create {name!r}: {exc.strerror}") from None
    try:
        return os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        raise SubPathError(f"{where}: cannot open {name!r}: {exc.strerror}") from None


def _make_target(target: Path, is_dir: bool) -> None:
    """The mount point: a directory for a directory, an empty file for anything else (as the kubelet)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            target.mkdir(exist_ok=True)
        elif not target.exists():
            target.touch(mode=0o644)
    except OSError as exc:
        raise SubPathError(f"cannot create the mount point {target}: {exc.strerror}") from None


def _umount(target: Path) -> None:
    subprocess.run(["umount", str(target)], capture_output=True, check=False)
