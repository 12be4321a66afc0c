"""What is mounted where, from ``/proc/self/mountinfo``.

``os.path.ismount`` compares device numbers, so it misses a bind mount from the same filesystem, which
is exactly what a subPath is. The kernel's own table is the only reliable answer.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["is_mount_point", "mount_points_below"]


def _mount_points() -> list[str]:
    points = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.split(" ")
                if len(fields) > 4:
                    points.append(_unescape(fields[4]))
    except OSError:
        return []
    return points


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_points_below(base: Path) -> list[str]:
    """Mount points strictly below ``base``, deepest first (the order to unmount them in)."""
    prefix = str(base.resolve()) + "/"
    return sorted({p for p in _mount_points() if p.startswith(prefix)}, key=len, reverse=True)


def is_mount_point(path: Path) -> bool:
    return str(path.resolve()) in _mount_points()
