"""Pod volumes on the host: emptyDir under the pod directory, hostPath checked by type.

The layout is the kubelet's (``<root-dir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>``), so
what a learner finds on disk matches the documentation. An emptyDir lives as long as the pod (its uid):
container restarts keep it, removing the pod deletes it. Setting volumes up is idempotent, because a
pod worker calls it on every sync and after an agent restart.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pykubelet import mounts, safepath
from pykubelet.manifest.quantity import memory_bytes

log = logging.getLogger("pykubelet.volumes")

EMPTY_DIR_PLUGIN = "kubernetes.io~empty-dir"


class VolumeError(Exception):
    """A volume could not be set up; the message names the field path and the reason."""


@dataclass(frozen=True)
class PodVolumes:
    """Host paths of a pod's volumes, by volume name."""

    paths: dict[str, str]


def pod_dir(root_dir: str, uid: str) -> Path:
    """``<root-dir>/pods/<uid>``; :class:`safepath.UnsafePathError` unless ``uid`` is a uid, kept there."""
    return safepath.beneath(Path(root_dir) / "pods", safepath.check_uid(uid))


def empty_dir_path(root_dir: str, uid: str, name: str) -> Path:
    return safepath.beneath(pod_dir(root_dir, uid), "volumes", EMPTY_DIR_PLUGIN, name)


def setup(root_dir: str, uid: str, spec: dict[str, Any]) -> PodVolumes:
    """Every volume of the pod, ready to mount; :class:`VolumeError` names the first that is not."""
    paths: dict[str, str] = {}
    context = spec.get("securityContext") or {}
    ownership = (context.get("fsGroup"), context.get("fsGroupChangePolicy") or "Always")
    for index, volume in enumerate(spec.get("volumes") or []):
        where = f"spec.volumes[{index}]"
        name = volume["name"]
        if "hostPath" in volume:
            paths[name] = _check_host_path(volume["hostPath"], f"{where}.hostPath")
        else:
            source = volume.get("emptyDir") or {}
            paths[name] = str(_setup_empty_dir(root_dir, uid, name, source, where, ownership))
    return PodVolumes(paths)


def _setup_empty_dir(
    root_dir: str, uid: str, name: str, source: dict[str, Any], where: str, ownership: tuple[Any, str]
) -> Path:
    """``SetUpAt``: make the directory (a tmpfs for medium Memory) once, and hand it to the fsGroup then.

    Later syncs find it made and leave it alone, as the kubelet's volume manager mounts a volume once
    per pod: re-applying 0777 would strip the setgid bit fsGroup set.
    """
    try:
        path = empty_dir_path(root_dir, uid, name)
    except safepath.UnsafePathError as exc:
        raise VolumeError(f"{where}.name: {exc}") from None
    made = not path.is_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if made:
            path.chmod(0o777)  # the kubelet's emptyDir is world-writable: any container user may write
    except OSError as exc:
        raise VolumeError(f"{where}.emptyDir: cannot create {path}: {exc.strerror}") from exc
    if source.get("medium") == "Memory" and not os.path.ismount(path):
        made = True
        options = "mode=1777"
        if source.get("sizeLimit"):
            options += f",size={memory_bytes(source['sizeLimit'])}"
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise VolumeError(
                f"{where}.emptyDir.medium: cannot mount a tmpfs at {path}: "
                f"{result.stderr.strip() or 'mount failed'}"
            )
    fs_group, policy = ownership
    if made and fs_group is not None:
        try:
            set_volume_ownership(path, int(fs_group), policy)
        except OSError as exc:
            raise VolumeError(
                f"spec.securityContext.fsGroup: cannot hand {path} to group {fs_group}: {exc.strerror}"
            ) from exc
    return path


_RW_MASK = 0o660
_EXEC_MASK = 0o110


def set_volume_ownership(path: Path, fs_group: int, policy: str = "Always") -> None:
    """``SetVolumeOwnership`` (``pkg/volume/volume_linux.go``): every file and directory of the volume
    goes to group ``fs_group``, gains group read-write (directories also group execute and the setgid
    bit, so new files inherit the group). ``OnRootMismatch`` skips the walk when the volume's root
    already has the group and those bits (``requiresPermissionChange``). Symlinks are not followed.
    """
    if policy == "OnRootMismatch" and not _requires_permission_change(path, fs_group):
        return
    for directory, _dirs, files in os.walk(path):  # each directory is visited once; links are not
        for entry in [directory, *(os.path.join(directory, f) for f in files)]:
            info = os.lstat(entry)
            if stat.S_ISLNK(info.st_mode):
                continue
            os.chown(entry, -1, fs_group)
            mask = _RW_MASK | ((stat.S_ISGID | _EXEC_MASK) if stat.S_ISDIR(info.st_mode) else 0)
            os.chmod(entry, stat.S_IMODE(info.st_mode) | mask)


def _requires_permission_change(path: Path, fs_group: int) -> bool:
    info = os.stat(path)
    if info.st_gid != fs_group or not stat.S_ISDIR(info.st_mode):
        return True
    wanted = _RW_MASK | _EXEC_MASK
    return (stat.S_IMODE(info.st_mode) & wanted) != wanted or not info.st_mode & stat.S_ISGID


_TYPE_CHECKS = {
    "Directory": (stat.S_ISDIR, "a directory"),
    "File": (stat.S_ISREG, "a file"),
    "Socket": (stat.S_ISSOCK, "a socket"),
    "CharDevice": (stat.S_ISCHR, "a character device"),
    "BlockDevice": (stat.S_ISBLK, "a block device"),
}


def _check_host_path(source: dict[str, Any], where: str) -> str:
    """The kubelet's hostPath type checker (``pkg/volume/hostpath``), with its create-if-missing types."""
    path = str(source["path"])
    kind = source.get("type") or ""
    try:
        if kind == "DirectoryOrCreate" and not os.path.exists(path):
            os.makedirs(path, mode=0o755, exist_ok=True)
        elif kind == "FileOrCreate" and not os.path.exists(path):
            if not os.path.isdir(os.path.dirname(path)):
                raise VolumeError(
                    f"{where}.path: Invalid value: {path!r}: type FileOrCreate does not create "
                    f"the parent directory {os.path.dirname(path)!r}; create it first"
                )
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)
    except OSError as exc:
        raise VolumeError(f"{where}.path: cannot create {path!r}: {exc.strerror}") from exc
    check_kind = {"DirectoryOrCreate": "Directory", "FileOrCreate": "File"}.get(kind, kind)
    if check_kind in _TYPE_CHECKS:
        test, noun = _TYPE_CHECKS[check_kind]
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise VolumeError(
                f"{where}.path: Invalid value: {path!r}: hostPath type check failed: "
                f"{path} does not exist (type {kind} wants {noun})"
            ) from None
        if not test(mode):
            raise VolumeError(
                f"{where}.path: Invalid value: {path!r}: hostPath type check failed: "
                f"{path} is not {noun} (type {kind})"
            )
    return path


def write_pod_file(root_dir: str, uid: str, name: str, text: str) -> Path:
    """Write a file of the pod's directory (0644: etc-hosts, resolv.conf) in place, as the kubelet's
    ``ioutil.WriteFile`` does: containers bind-mount the inode, so a rename would hide the update."""
    path = safepath.beneath(pod_dir(root_dir, uid), name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
    return path


def teardown(root_dir: str, uid: str) -> bool:
    """Delete a pod's directory and everything in it (its emptyDirs), once nothing is mounted below it.

    tmpfs emptyDirs and subPath bind mounts are unmounted first, deepest first. Should one stay mounted,
    nothing is deleted: ``rmtree`` would walk into the mount and delete what it shows, which for a subPath
    of a hostPath volume is the user's own data. Returns whether the directory is gone.
    """
    try:
        link = Path(root_dir) / "pods" / safepath.check_uid(uid)
        if link.is_symlink():  # not ours to follow: drop the link, never what it points to
            link.unlink(missing_ok=True)
            return True
        base = pod_dir(root_dir, uid)
    except safepath.UnsafePathError as exc:
        log.error("Not deleting a pod directory: %s", exc, extra={"uid": uid})
        return False
    for point in mounts.mount_points_below(base):
        subprocess.run(["umount", point], capture_output=True, check=False)
    left = mounts.mount_points_below(base)
    if left:
        log.error(
            "Not deleting the pod directory: %d mount(s) below it would not unmount (first: %s); "
            "unmount them by hand and it goes at the next housekeeping",
            len(left),
            left[0],
            extra={"uid": uid, "file": str(base)},
        )
        return False
    shutil.rmtree(base, ignore_errors=True)
    return not base.exists()


def known_pod_dirs(root_dir: str) -> list[str]:
    """The uids that have a directory under ``<root-dir>/pods`` (anything else there is not pykubelet's)."""
    base = Path(root_dir) / "pods"
    try:
        return [p.name for p in base.iterdir() if safepath.is_valid_uid(p.name) and p.is_dir()]
    except OSError:
        return []
