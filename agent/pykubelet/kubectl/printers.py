"""kubectl's table printing (``pkg/printers/internalversion/printers.go``) and its time formats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pykubelet.runtime.api import parse_time


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        days = (h // 24) % 365
        return f"{h // 24 // 365}y" if days == 0 else f"{h // 24 // 365}y{days}d"
    return f"{h // 24 // 365}y"


def since(value: str | None, now: datetime) -> str:
    moment = parse_time(value)
    return "<unknown>" if moment is None else human_duration((now - moment).total_seconds())


def _condition_true(pod: dict[str, Any], kind: str) -> bool:
    return any(c["type"] == kind and c["status"] == "True" for c in pod["status"].get("conditions", []))


def pod_row(pod: dict[str, Any], now: datetime, wide: bool = False) -> list[str]:
    """``printPod``: NAME READY STATUS RESTARTS AGE [IP NODE NOMINATED NODE READINESS GATES]."""
    status, spec = pod.get("status", {}), pod["spec"]
    total = len(spec.get("containers", []))
    ready = restarts = 0
    last_restart: datetime | None = None
    reason = status.get("reason") or status.get("phase", "Pending")

    def note_restart(cs: dict[str, Any]) -> None:
        nonlocal last_restart
        finished = parse_time((cs.get("lastState", {}).get("terminated") or {}).get("finishedAt"))
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished

    initializing = False
    init_statuses = status.get("initContainerStatuses", [])
    for i, cs in enumerate(init_statuses):
        restarts += cs.get("restartCount", 0)
        note_restart(cs)
        terminated, waiting = cs["state"].get("terminated"), cs["state"].get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            reason = (
                "Init:" + terminated["reason"]
                if terminated.get("reason")
                else (f"Init:ExitCode:{terminated.get('exitCode')}")
            )
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers', []))}"
        initializing = True
        break
    if not initializing or _condition_true(pod, "Initialized"):
        restarts, last_restart = 0, None
        has_running = False
        for cs in reversed(status.get("containerStatuses", [])):
            restarts += cs.get("restartCount", 0)
            note_restart(cs)
            waiting, terminated = cs["state"].get("waiting"), cs["state"].get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = f"ExitCode:{terminated.get('exitCode')}"
            elif cs.get("ready") and "running" in cs["state"]:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(pod, "Ready") else "NotReady"
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    # Static pods have no creationTimestamp; the kubelet's config.seen is when the pod came to be.
    created = pod["metadata"].get("creationTimestamp") or pod["metadata"].get("annotations", {}).get(
        "kubernetes.io/config.seen"
    )
    row = [pod["metadata"]["name"], f"{ready}/{total}", reason, restarts_text, since(created, now)]
    if wide:
        ips = status.get("podIPs") or []
        row += [ips[0]["ip"] if ips else "<none>", spec.get("nodeName") or "<none>", "<none>", "<none>"]
    return row


def table(headers: list[str], rows: list[list[str]]) -> str:
    """kubectl's tabwriter: each column as wide as its widest cell plus 3 spaces; the last unpadded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) + 3 for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(cell).ljust(widths[i]) if i < len(row) - 1 else str(cell) for i, cell in enumerate(row)]
        lines.append("".join(cells))
    return "\n".join(lines)


POD_HEADERS = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
WIDE_HEADERS = [*POD_HEADERS, "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
