"""The status manager (``pkg/kubelet/status/status_manager.go``): the one cache of every pod's v1 status.

Pod workers write a pod's status after each sync; admission and eviction write the terminal
``Failed`` status of a pod they refused or evicted; the read-only port and the dashboard only read.
A lone kubelet has no API server to send statuses to, so the cache *is* the record: ``/pods`` is
built from it (and the desired set), encoded once per change rather than once per request, so a
client polling ``/pods`` costs a dictionary lookup, never a Docker call.

It also measures pod startup as the kubelet's ``pod_startup_latency_tracker`` does: from the moment
the source handed the pod over to the first status in which every container runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pykubelet import status as pod_status
from pykubelet.admission import Rejection
from pykubelet.manifest import StaticPod
from pykubelet.qos import pod_qos

log = logging.getLogger("pykubelet.status")

Status = dict[str, Any]
_STATE_KINDS = {"running": "running", "terminated": "exited", "waiting": "created"}


class StatusManager:
    """Statuses by pod uid, the pods refused a place on the node, and ``/pods`` as cached JSON."""

    def __init__(
        self,
        host_ip: str,
        desired: Callable[[], Mapping[str, StaticPod]],
        observe_start: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self._host_ip = host_ip
        self._desired = desired  # the merged desired set (PodConfig's), read when /pods is built
        self._observe_start = observe_start  # kubelet_pod_start_duration_seconds
        self.statuses: dict[str, Status] = {}
        # Refused by admission or evicted: the pod shows Failed until its file changes.
        self.rejected: dict[str, Rejection] = {}
        self._added_at: dict[str, float] = {}
        self._started: set[str] = set()
        self._pods_json: bytes | None = None

    # -- writers -------------------------------------------------------------------------------------

    def pod_added(self, uid: str) -> None:
        """The source handed the pod over: its startup latency counts from now (the first time only)."""
        self._added_at.setdefault(uid, time.monotonic())

    def set_status(self, pod: StaticPod, status: Status) -> None:
        """A sync's result: log a phase change, note a first full start, re-encode ``/pods`` if it changed."""
        previous = self.statuses.get(pod.uid)
        if previous is None or previous.get("phase") != status["phase"]:
            log.info("Pod phase is now %s", status["phase"], extra={"pod": str(pod)})
        if pod.uid not in self._started and all("running" in c["state"] for c in status["containerStatuses"]):
            self._started.add(pod.uid)
            self._observe_start(time.monotonic() - self._added_at.get(pod.uid, time.monotonic()))
        if previous != status:
            self._pods_json = None
        self.statuses[pod.uid] = status

    def reject(self, uid: str, rejection: Rejection) -> None:
        """Admission refused the pod, or eviction removed it: it shows Failed with the kubelet's reason."""
        self.rejected[uid] = rejection
        self._pods_json = None

    def keep_rejections(self, uids: Collection[str]) -> None:
        """Forget the refusals of pods no longer desired: a pod whose file comes back is admitted afresh."""
        for uid in self.rejected.keys() - set(uids):
            del self.rejected[uid]

    def forget(self, uid: str) -> None:
        """The pod's worker is gone (containers and volumes removed): its status goes with it."""
        self.statuses.pop(uid, None)
        self._added_at.pop(uid, None)
        self._started.discard(uid)
        self._pods_json = None

    def desired_changed(self) -> None:
        """The desired set changed: ``/pods`` lists other pods now."""
        self._pods_json = None

    # -- readers -------------------------------------------------------------------------------------

    def get(self, uid: str) -> Status | None:
        return self.statuses.get(uid)

    def is_rejected(self, uid: str) -> bool:
        return uid in self.rejected

    def pod_list(self) -> dict[str, Any]:
        """``/pods``: every desired pod with its status (Pending until its first sync)."""
        items = []
        for uid, pod in sorted(self._desired().items(), key=lambda kv: (kv[1].namespace, kv[1].name)):
            status = (
                self.statuses.get(uid)
                or self._rejected_status(uid, pod)
                or {"phase": "Pending", "qosClass": pod_qos(pod.spec)}
            )
            items.append({"metadata": pod.metadata, "spec": pod.spec, "status": status})
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}

    def pod_list_json(self) -> bytes:
        """``/pods``, encoded once per change rather than once per request."""
        if self._pods_json is None:
            self._pods_json = json.dumps(self.pod_list()).encode()
        return self._pods_json

    def _rejected_status(self, uid: str, pod: StaticPod) -> Status | None:
        rejection = self.rejected.get(uid)
        if rejection is None:
            return None
        return {
            "phase": "Failed",
            "reason": rejection.reason,
            "message": rejection.message,
            # No hostIP: a kubelet without an API client leaves hostIP/hostIPs out (status.py says why).
            "qosClass": pod_qos(pod.spec),
            "startTime": pod_status.now(),
        }

    def gauges(self) -> dict[str, Any]:
        """``running_pods`` (with a sandbox) and ``containers_by_state``, for the kubelet's state gauges."""
        running_pods = 0
        by_state = {"running": 0, "exited": 0, "created": 0, "unknown": 0}
        for status in self.statuses.values():
            if status.get("podIP") and status.get("phase") in ("Running", "Pending"):
                running_pods += 1
            for c in status.get("containerStatuses", []) + status.get("initContainerStatuses", []):
                by_state[_STATE_KINDS.get(next(iter(c["state"]), ""), "unknown")] += 1
        return {"running_pods": running_pods, "containers_by_state": by_state}
