"""Paths built from manifest data or runtime labels, kept inside pykubelet's own directories.

A pod's uid, name and namespace become directory names (``<root-dir>/pods/<uid>``,
``<pod-logs-dir>/<ns>_<name>_<uid>``), and those directories are created, chmod-ed and, when the pod goes,
deleted with everything in them. A uid such as ``../../..`` or ``/home`` would turn that delete into the
loss of a user's data, so nothing here trusts its input: a uid must have the shape the kubelet gives uids
(a UUID, or the 32 hex digits of a static pod's hash), every component must be one plain name, and the
result must still be below its base once symlinks and ``..`` are resolved. Callers check before every
mkdir, chmod or rmtree, not once at parse time, because runtime labels can be written by anyone who can
reach the engine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

__all__ = ["UID_FORMAT", "UnsafePathError", "beneath", "check_uid", "is_valid_uid"]

# types.UID is a string, but every uid the kubelet makes or the API server assigns is one of these.
_UID_RE: Final = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
UID_FORMAT: Final = (
    "must be a UUID such as 3f2b8a4e-6c1d-4e9a-b7f0-1a2b3c4d5e6f (or 32 hex digits); "
    "leave metadata.uid out and the kubelet derives one from the manifest"
)


class UnsafePathError(ValueError):
    """A path built from untrusted data would leave the directory it belongs in."""


def is_valid_uid(uid: object) -> bool:
    return isinstance(uid, str) and _UID_RE.fullmatch(uid) is not None


def check_uid(uid: object, what: str = "pod uid") -> str:
    """``uid`` itself if it has a uid's shape; else :class:`UnsafePathError` saying why."""
    if not is_valid_uid(uid):
        raise UnsafePathError(f"{what} {str(uid)[:80]!r} {UID_FORMAT}")
    return str(uid)


def beneath(base: str | Path, *parts: str) -> Path:
    """``base/parts...``, refused unless every part is one plain name and the result stays below ``base``.

    ``base`` is pykubelet's own (a flag such as ``--root-dir``). The check resolves symlinks that already
    exist on the way, so a planted link cannot carry a later mkdir or rmtree elsewhere. The returned path
    is unresolved (``base`` as given, then the parts), so it reads as the documented layout.
    """
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\0" in part:
            raise UnsafePathError(f"{part[:80]!r} is not a plain file name (under {base})")
    root = Path(base)
    target = root.joinpath(*parts)
    resolved_root = root.resolve()
    resolved = target.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise UnsafePathError(f"{target} resolves to {resolved}, which is outside {resolved_root}")
    return target
