"""``pykubelet logs``: a container's output, read from its log file as the kubelet reads it.

The agent's ``/pods`` says which instance of a container is current (``restartCount``) and whether a
previous one ended (``lastState.terminated``), exactly what ``kubectl logs [--previous]`` needs; the bytes
then come from ``<pod-logs-dir>/<ns>_<pod>_<uid>/<container>/<n>.log``, which the kubelet keeps on
either runtime (a link to Docker's log on a Docker node, the CRI log itself on containerd), decoded by
``pykubelet.podlogs``. The kubelet serves logs on its authenticated port, never on the read-only one, so
reading them takes what those files take: root. Without it the user is told exactly that, and the
command to rerun.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

from pykubelet import podlogs, safepath

DEFAULT_POD_LOGS_DIR = "/var/log/pods"
FOLLOW_POLL = 0.25  # seconds between looks at a followed file


class LogsError(Exception):
    """A logs request that cannot be served; the message says why and what to try."""


class NeedsRoot(LogsError):
    """The log files refused this user: the caller adds the command to rerun with sudo."""


def pick_container(pod: dict[str, Any], container: str | None, previous: bool) -> tuple[str, int]:
    """The container and the instance (restart count) to read, with kubectl's messages when there is none."""
    spec_names = [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]
    name = pod["metadata"]["name"]
    if container is None:
        if len(pod["spec"]["containers"]) > 1:
            choices = " ".join(c["name"] for c in pod["spec"]["containers"])
            raise LogsError(f"a container name must be specified for pod {name}, choose one of: [{choices}]")
        container = pod["spec"]["containers"][0]["name"]
    if container not in spec_names:
        raise LogsError(f"container {container} is not valid for pod {name}")
    statuses = pod.get("status", {})
    status = next(
        (
            s
            for s in statuses.get("containerStatuses", []) + statuses.get("initContainerStatuses", [])
            if s["name"] == container
        ),
        None,
    )
    return container, _instance(status or {}, container, name, previous)


def _instance(status: dict[str, Any], container: str, pod: str, previous: bool) -> int:
    """Which instance's log to read, as the kubelet's ``validateContainerLogStatus`` picks a container.

    A waiting container (CrashLoopBackOff) has no current instance: both ways read the one that last
    ended, which is instance ``restartCount``; with one running or terminated, ``--previous`` is the one
    before it.
    """
    state = status.get("state") or {}
    last_ended = bool((status.get("lastState") or {}).get("terminated"))
    count = int(status.get("restartCount", 0))
    if previous:
        if not last_ended:
            raise LogsError(f'previous terminated container "{container}" in pod "{pod}" not found')
        return count if "waiting" in state else count - 1
    if not ("running" in state or "terminated" in state or last_ended):
        reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
        raise LogsError(f'container "{container}" in pod "{pod}" is waiting to start: {reason}')
    return count


def log_file(pod: dict[str, Any], container: str, instance: int, pod_logs_dir: str | None = None) -> Path:
    """The log file of ``instance`` of ``container`` (``--pod-logs-dir``, else the kubelet's default)."""
    meta = pod["metadata"]
    try:
        return podlogs.container_log_path(
            pod_logs_dir or DEFAULT_POD_LOGS_DIR,
            meta["namespace"],
            meta["name"],
            meta["uid"],
            container,
            instance,
        )
    except safepath.UnsafePathError as exc:
        raise LogsError(f"the agent reported a pod this command will not read logs for: {exc}") from None


def stream_logs(path: Path, follow: bool, tail: int | None, timestamps: bool = False) -> None:
    """Print the log (its last ``tail`` lines), then with ``follow`` what is appended, until the file goes;
    ``timestamps`` puts the runtime's time before each line."""
    out = sys.stdout.buffer
    try:
        with open(path, "rb") as fh:
            for text in podlogs.decode_lines(_last_lines(fh, tail), timestamps):
                out.write(text)
            out.flush()
            if follow:
                _follow(fh, path, out, timestamps)
    except PermissionError as exc:
        raise NeedsRoot(
            f"reading {path} needs root (the container logs under {path.parent.parent} are root's)"
        ) from exc
    except FileNotFoundError as exc:
        raise LogsError(
            f"no log file at {path}: the container is gone (garbage-collected), or the agent keeps its "
            "logs elsewhere (pass its --pod-logs-dir)"
        ) from exc


def _last_lines(fh: BinaryIO, tail: int | None) -> list[bytes]:
    lines = fh.readlines()
    return lines if tail is None else lines[-tail:] if tail > 0 else []


def _follow(fh: BinaryIO, path: Path, out: BinaryIO, timestamps: bool) -> None:
    """``-f``: print lines as they are appended; ends when the file is removed (or on Ctrl-C)."""
    pending = b""
    mid_line = False  # the last file line was a partial one (CRI "P"): its line's time is already out
    while True:
        chunk = fh.readline()
        if not chunk:
            if not os.path.lexists(path):
                return
            time.sleep(FOLLOW_POLL)
            continue
        pending += chunk
        if pending.endswith(b"\n"):
            for text in podlogs.decode_lines([pending], timestamps and not mid_line):
                out.write(text)
                mid_line = not text.endswith(b"\n")
            out.flush()
            pending = b""
