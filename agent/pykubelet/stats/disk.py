"""Disk figures: du-style walks of volumes and writable layers, and a filesystem's statfs totals.

Mirrors the kubelet's ``pkg/volume/util/fs/fs.go`` (``DiskUsage``: allocated blocks and inodes under a
directory; ``Info``: statfs capacity, available and inodes) behind ``pkg/volume/metrics_du.go``, with the
walk results reused for the ``--volume-stats-agg-period`` as ``pkg/kubelet/server/stats/
volume_stat_calculator.go`` does; and the container ``rootfs``/``logs`` sections that
``pkg/kubelet/stats/cri_stats_provider.go`` builds from the runtime's ``ContainerStats`` (the writable
layer, measured by the runtime) and the container's log files. Walks are the only slow part of a
collection, so they are capped and cached.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

_CRI_LOG_NAME = re.compile(r"[0-9]+\.log")  # the kubelet's <restartCount>.log

# One logger for the whole package: its records keep the name they had when stats was one module.
log = logging.getLogger("pykubelet.stats")

# The du-style walk of a volume stops here: a volume with millions of files must not stall collection.
DU_MAX_ENTRIES = 100_000
# How long a directory walk's result is reused, as the kubelet's --volume-stats-agg-period (1m) does.
DU_TTL_SECONDS = 60.0


def disk_usage(path: str, max_entries: int = DU_MAX_ENTRIES) -> tuple[int, int] | None:
    """``du -sx -B1`` and an inode count of ``path``: (bytes, inodes), or None if it is gone.

    Bytes are allocated blocks, like du, so sparse files count what they occupy. Hard links count
    once and other filesystems mounted below are not entered. After ``max_entries`` entries the walk
    stops and returns what it counted so far: an undercount beats a collection that never finishes.
    """
    try:
        top = os.lstat(path)
    except OSError:
        return None
    used, inodes, entries = top.st_blocks * 512, 1, 1
    linked: set[int] = set()
    stack = [path]
    while stack and entries < max_entries:
        try:
            listing = os.scandir(stack.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                entries += 1
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if st.st_dev != top.st_dev:  # another filesystem mounted here: not ours to count
                    continue
                if not is_dir and st.st_nlink > 1:
                    if st.st_ino in linked:
                        continue
                    linked.add(st.st_ino)
                used += st.st_blocks * 512
                inodes += 1
                if is_dir:
                    stack.append(entry.path)
                if entries >= max_entries:
                    log.debug("stopped measuring %s after %d entries", path, entries)
                    break
    return used, inodes


class DiskUsageCache:
    """Reuses a directory walk for ``ttl`` seconds: walks are the only slow part of a collection."""

    def __init__(self, clock: Callable[[], float], ttl: float) -> None:
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[float, tuple[int, int] | None]] = {}

    def measure(self, path: str) -> tuple[int, int] | None:
        now = self._clock()
        hit = self._cache.get(path)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        result = disk_usage(path)
        self._cache[path] = (now, result)
        return result

    def expire(self) -> None:
        now = self._clock()
        self._cache = {p: hit for p, hit in self._cache.items() if now - hit[0] < self._ttl}


def fs_json(path: str, stamp: str, usage: tuple[int, int | None] | None = None) -> dict[str, Any] | None:
    """FsStats of the filesystem holding ``path``; ``usage`` overrides the whole-filesystem usage (an
    inode count of None is left out, as the kubelet's omitempty does)."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    used, inodes_used = usage or ((st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree)
    found: dict[str, Any] = {
        "time": stamp,
        "availableBytes": st.f_bavail * st.f_frsize,
        "capacityBytes": st.f_blocks * st.f_frsize,
        "usedBytes": used,
        "inodesFree": st.f_ffree,
        "inodes": st.f_files,
    }
    if inodes_used is not None:
        found["inodesUsed"] = inodes_used
    return found


def existing(path: str) -> str:
    """``path`` or its nearest existing parent: the root dir may not be created yet."""
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def rootfs_json(image_fs: str, usage: tuple[int, int | None] | None, stamp: str) -> dict[str, Any] | None:
    """The container's writable layer, as the runtime measured it, on the image filesystem."""
    if usage is None or not image_fs:
        return None
    return fs_json(image_fs, stamp, usage)


def logs_json(log_path: str, stamp: str) -> dict[str, Any] | None:
    """The container's logs, as the kubelet's CRI stats provider measures them: its whole log directory
    (``/var/log/pods/<ns>_<pod>_<uid>/<container>/``: this instance's ``<restartCount>.log``, the previous
    one's and their rotations ``<n>.log.<time>``). A Docker log (``<id>-json.log``) shares its directory
    with the container's config files, so there only the file and its rotations (``.1``, ...) count."""
    if not log_path:
        return None
    directory, name = os.path.split(os.path.realpath(log_path))
    whole_directory = _CRI_LOG_NAME.fullmatch(name) is not None
    used = inodes = 0
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if (whole_directory or entry.name.startswith(name)) and entry.is_file(follow_symlinks=False):
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
                    inodes += 1
    except OSError:
        return None
    return fs_json(directory, stamp, (used, inodes)) if inodes else None
