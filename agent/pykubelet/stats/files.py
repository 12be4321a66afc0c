"""Reading the kernel's text files (/proc, cgroupfs) where a missing file means "no number".

The one layer below every reader of this package, as cAdvisor's ``utils/fs`` and runc's ``fscommon``
helpers are below its handlers. A file that vanishes between listing and reading (an exited process, a
removed cgroup) or that the agent may not read gives None or an empty mapping, never an exception: the
Summary leaves such a section out instead of failing the whole collection.
"""

from __future__ import annotations

import os

# The kernel's clock tick: /proc/stat and cpuacct.stat count CPU time in these.
USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
NANOS = 1_000_000_000


def read_text(path: str) -> str | None:
    """The whole file, or None if it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:  # vanished cgroup, exited process, hidden file: all mean "no number"
        return None


def read_int(path: str) -> int | None:
    """The file's first word as an integer (cgroup v2's ``max`` and other words give None)."""
    text = read_text(path)
    try:
        return int(text.split()[0]) if text and text.split() else None
    except ValueError:
        return None


def read_kv(path: str) -> dict[str, int]:
    """``key value`` lines (memory.stat, cpu.stat, vmstat) and ``Key: value kB`` ones (meminfo)."""
    values = {}
    for line in (read_text(path) or "").splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            values[parts[0]] = int(parts[1]) * (1024 if parts[2:3] == ["kB"] else 1)
    return values


def count_lines(path: str) -> int | None:
    """How many entries a one-per-line file lists (``cgroup.procs``), or None if it cannot be read."""
    text = read_text(path)
    return None if text is None else len(text.split())
