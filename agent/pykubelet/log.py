"""One line per event, klog-style, with the pod and container it concerns.

``I1127 09:22:43.123456 kubelet] "Started container" pod="default/web-node1" container="nginx"``:
the level letter and time as klog prints them, then the message, then key="value" pairs. Lines are
greppable in a terminal and in ``journalctl -u pykubelet`` alike.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime

_FIELDS = ("pod", "container", "file", "field", "reason", "uid", "containerID", "image", "err")


class KlogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created)
        head = f"{record.levelname[0]}{when:%m%d %H:%M:%S.%f} {record.name.removeprefix('pykubelet.')}]"
        parts = [head, json.dumps(record.getMessage())]
        for key in _FIELDS:
            value = record.__dict__.get(key)
            if value not in (None, ""):
                parts.append(f"{key}={json.dumps(str(value))}")
        extra = record.__dict__.get("kv") or {}
        parts.extend(f"{k}={json.dumps(str(v))}" for k, v in extra.items())
        if record.exc_info:
            parts.append("\n" + self.formatException(record.exc_info))
        return " ".join(parts)


def setup(verbosity: int) -> None:
    """``-v 0..2`` info, ``-v 4`` and up debug (the kubelet's convention for chatty detail)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    root = logging.getLogger("pykubelet")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 4 else logging.INFO)
    root.propagate = False
