"""Container log files as the kubelet reads them (``pkg/kubelet/kuberuntime/logs/logs.go``).

Every container's log is at ``<pod-logs-dir>/<ns>_<pod>_<uid>/<container>/<restartCount>.log``: on a
Docker node a link to Docker's json-file log (one JSON object a line: ``{"log": "...", "stream": ...}``),
on a CRI node the runtime's own file in the CRI format (``<RFC3339Nano> <stdout|stderr> <P|F> <text>``,
``P`` marking a line the runtime split). The kubelet's log reader accepts both, line by line, and so does
this one, so ``pykubelet logs`` and the termination message's ``FallbackToLogsOnError`` work the same on
either runtime without asking it. With ``timestamps`` each line is prefixed with the time the runtime
recorded for it, in the kubelet's fixed RFC 3339 form (nine fraction digits), as ``kubectl logs
--timestamps`` prints it.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from pykubelet import safepath

__all__ = ["container_log_path", "decode_lines", "read_last_bytes", "tail"]

_CRI_STREAMS = (b"stdout", b"stderr")
READ_LIMIT = 1 << 20  # how far back a tail reads at most: a huge log costs one bounded read


def container_log_path(pod_logs_dir: str, namespace: str, pod: str, uid: str, container: str, n: int) -> Path:
    """Where the kubelet keeps instance ``n`` of a container's log; its directory is checked to stay in
    ``pod_logs_dir``. The file itself may be a link out (to Docker's own log): that is the layout."""
    directory = safepath.beneath(pod_logs_dir, f"{namespace}_{pod}_{safepath.check_uid(uid)}", container)
    return directory / f"{int(n)}.log"


def decode_lines(raw_lines: Iterable[bytes], timestamps: bool = False) -> Iterator[bytes]:
    """What the container wrote, from the lines of a log file in either format (partial CRI lines joined);
    with ``timestamps``, each line after the time of its first part."""
    partial = b""
    for raw in raw_lines:
        text, complete, stamp = _decode(raw)
        if timestamps and not partial and stamp:
            text = fixed_rfc3339(stamp) + b" " + text
        partial += text
        if complete:
            yield partial
            partial = b""
    if partial:
        yield partial


def _decode(raw: bytes) -> tuple[bytes, bool, bytes]:
    """One file line -> (the bytes the container wrote, whether that ends its line, its time as written)."""
    line = raw.rstrip(b"\n")
    if line.startswith(b"{"):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and isinstance(entry.get("log"), str):
            text = entry["log"].encode()
            return text, text.endswith(b"\n"), str(entry.get("time") or "").encode()
    parts = line.split(b" ", 3)
    if len(parts) >= 3 and parts[1] in _CRI_STREAMS and parts[2] in (b"P", b"F"):
        text = parts[3] if len(parts) == 4 else b""
        return (text, False, parts[0]) if parts[2] == b"P" else (text + b"\n", True, parts[0])
    return raw if raw.endswith(b"\n") else raw + b"\n", True, b""  # neither format: as it is


_TIME = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def fixed_rfc3339(stamp: bytes) -> bytes:
    """``2026-12-02T07:00:00.1234Z`` -> ``2026-12-02T07:00:00.123400000Z`` (Go's RFC3339NanoFixed, the
    kubelet's ``timeFormatOut``); a time in another form is left as it is."""
    match = _TIME.match(stamp)
    if match is None:
        return stamp
    seconds, fraction, zone = match.groups()
    return seconds + b"." + (fraction or b"").ljust(9, b"0")[:9] + zone


def read_last_bytes(path: str | os.PathLike[str], size: int) -> bytes:
    """The last ``size`` bytes of a file (the kubelet's ``tail.ReadAtMost``)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - size))
        return fh.read(size)


def tail(path: str | os.PathLike[str], lines: int | None = None, max_bytes: int | None = None) -> bytes:
    """What the container wrote last: its last ``lines`` lines (all when None), at most ``max_bytes`` bytes
    of them, read from at most the last :data:`READ_LIMIT` bytes of the file."""
    raw = read_last_bytes(path, READ_LIMIT)
    file_lines = raw.splitlines(keepends=True)
    if len(raw) == READ_LIMIT and file_lines:
        file_lines = file_lines[1:]  # the read began inside a line
    kept: deque[bytes] = deque(maxlen=lines) if lines is not None else deque()
    kept.extend(decode_lines(file_lines))
    text = b"".join(kept)
    return text[-max_bytes:] if max_bytes is not None else text
