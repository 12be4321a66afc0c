"""The kubelet's events, kept in memory because a lone kubelet has no API server to send them to.

Each event is a v1 ``Event`` (``client-go/tools/record``): repeated ones (the same object, reason and
message) are aggregated by raising ``count`` and ``lastTimestamp``, as the event recorder does. Every
event is also one log line, so ``journalctl`` tells the same story as ``/events``.
"""

from __future__ import annotations

import collections
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pykubelet.manifest import StaticPod

log = logging.getLogger("pykubelet.events")

NORMAL, WARNING = "Normal", "Warning"


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Event:
    namespace: str
    involved: dict[str, Any]
    reason: str
    message: str
    type: str
    node: str
    name: str = field(default="")
    count: int = 1
    first: str = field(default_factory=now_rfc3339)
    last: str = field(default_factory=now_rfc3339)

    def to_v1(self) -> dict[str, Any]:
        return {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {"name": self.name, "namespace": self.namespace, "creationTimestamp": self.first},
            "involvedObject": self.involved,
            "reason": self.reason,
            "message": self.message,
            "source": {"component": "kubelet", "host": self.node},
            "firstTimestamp": self.first,
            "lastTimestamp": self.last,
            "count": self.count,
            "type": self.type,
            "eventTime": None,
            "reportingComponent": "kubelet",
            "reportingInstance": self.node,
        }


class Recorder:
    def __init__(self, node: str, capacity: int = 1000) -> None:
        self.node = node
        self._events: collections.OrderedDict[tuple[str, ...], Event] = collections.OrderedDict()
        self._capacity = capacity

    def pod_event(
        self,
        pod: StaticPod,
        reason: str,
        message: str,
        *,
        type: str = NORMAL,
        container: str | None = None,
        init: bool = False,
    ) -> None:
        involved: dict[str, Any] = {
            "kind": "Pod",
            "namespace": pod.namespace,
            "name": pod.name,
            "uid": pod.uid,
            "apiVersion": "v1",
        }
        if container:
            kind = "initContainers" if init else "containers"
            involved["fieldPath"] = f"spec.{kind}{{{container}}}"
        level = logging.WARNING if type == WARNING else logging.INFO
        log.log(level, message, extra={"pod": str(pod), "container": container, "reason": reason})
        self._record(pod.namespace, involved, reason, message, type)

    def file_event(self, path: str, reason: str, message: str) -> None:
        """An event about a manifest file that produced no pod (FailedValidation and the like)."""
        involved = {"kind": "File", "name": path, "apiVersion": "v1"}
        log.warning(message, extra={"file": path, "reason": reason})
        self._record("default", involved, reason, message, WARNING)

    def _record(self, namespace: str, involved: dict[str, Any], reason: str, message: str, type: str) -> None:
        key = (involved.get("uid", involved["name"]), involved.get("fieldPath", ""), reason, message)
        existing = self._events.pop(key, None)
        if existing is not None:
            existing.count += 1
            existing.last = now_rfc3339()
            self._events[key] = existing
            return
        name = f"{involved['name']}.{secrets.token_hex(8)}"
        self._events[key] = Event(namespace, involved, reason, message, type, self.node, name=name)
        while len(self._events) > self._capacity:
            self._events.popitem(last=False)

    def list(self) -> list[dict[str, Any]]:
        return [e.to_v1() for e in self._events.values()]
