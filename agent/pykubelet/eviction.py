"""The eviction manager's emptyDir rule (``pkg/kubelet/eviction``, ``emptyDirLimitEviction``).

A disk-backed emptyDir that grows past its ``sizeLimit`` would get its pod evicted, but ``evictPod``
first asks ``kubetypes.IsCriticalPod``: static pods (and mirror pods, and pods at system-critical
priority) are critical, because a static pod is never re-admitted after an eviction (kubernetes#40573).
Every pod pykubelet runs comes from a file or a URL, so, as on a real node, an emptyDir over its limit
is *reported*, not acted on: the kubelet's line ``Eviction manager: cannot evict a critical pod``, with
the message the eviction would have carried. No event is recorded (``evictPod`` returns before its
recorder). The kubelet repeats the line every 10 s while the volume stays over; pykubelet says it once
per pod until the volume is back under its limit.

Were a pod not critical, it would be evicted as the kubelet does: ``Failed``/``Evicted`` with the
kubelet's message, a Warning event, its containers stopped. Memory-backed emptyDirs are limited by
the tmpfs size instead, so they are not checked. The usage comes from the latest stats summary.

:func:`empty_dir_evictions` decides (pure); :class:`EvictionManager` carries it out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pykubelet.admission import Rejection
from pykubelet.events import WARNING, Recorder
from pykubelet.manifest import StaticPod
from pykubelet.manifest.quantity import memory_bytes
from pykubelet.statusmanager import StatusManager

log = logging.getLogger("pykubelet.eviction")

EVICTED = "Evicted"
SOURCE_ANNOTATION = "kubernetes.io/config.source"
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000  # scheduling.SystemCriticalPriority


def is_critical(pod: StaticPod) -> bool:
    """``kubetypes.IsCriticalPod``: a static pod (its config source is not the API server), or a pod
    at system-critical priority or above."""
    source = (pod.metadata.get("annotations") or {}).get(SOURCE_ANNOTATION)
    if source is not None and source != "api":
        return True
    priority = pod.spec.get("priority")
    return isinstance(priority, int) and priority >= SYSTEM_CRITICAL_PRIORITY


def empty_dir_limits(pod: StaticPod) -> dict[str, str]:
    """Volume name -> sizeLimit of the pod's disk-backed emptyDirs that have one."""
    return {
        v["name"]: v["emptyDir"]["sizeLimit"]
        for v in pod.spec.get("volumes") or []
        if (v.get("emptyDir") or {}).get("sizeLimit") and v["emptyDir"].get("medium") != "Memory"
    }


def empty_dir_evictions(
    summary: Mapping[str, Any], desired: Mapping[str, StaticPod], rejected: Collection[str]
) -> list[tuple[StaticPod, str]]:
    """(pod, message) for each desired, not yet refused pod with an emptyDir over its limit in ``summary``."""
    evictions = []
    for stats in summary.get("pods", []):
        uid = stats.get("podRef", {}).get("uid", "")
        pod = desired.get(uid)
        if pod is None or uid in rejected:
            continue
        limits = empty_dir_limits(pod)
        for volume in stats.get("volume", []):
            limit = limits.get(volume.get("name"))
            if limit is not None and volume.get("usedBytes", 0) > memory_bytes(limit):
                evictions.append(
                    (pod, f'Usage of EmptyDir volume "{volume["name"]}" exceeds the limit "{limit}". ')
                )
                break
    return evictions


class EvictionManager:
    """Carries out :func:`empty_dir_evictions`: critical pods are reported, others evicted."""

    def __init__(
        self, status: StatusManager, recorder: Recorder, kill_pod: Callable[[str, str, StaticPod], None]
    ) -> None:
        self._status = status
        self._recorder = recorder
        self._kill_pod = kill_pod  # the pod workers' terminate: the pod's own worker stops it
        self._reported: set[str] = set()  # critical pods over a limit, already reported

    def synchronize(self, summary: Mapping[str, Any], desired: Mapping[str, StaticPod]) -> None:
        """Check a fresh stats summary against the desired pods' limits."""
        over = empty_dir_evictions(summary, desired, self._status.rejected)
        self._reported &= {pod.uid for pod, _ in over}  # back under its limit: report it again next time
        for pod, message in over:
            if is_critical(pod):
                if pod.uid not in self._reported:
                    self._reported.add(pod.uid)
                    log.error(
                        "Eviction manager: cannot evict a critical pod",
                        extra={"pod": f"{pod.namespace}/{pod.name}", "kv": {"message": message.strip()}},
                    )
                continue
            self._status.reject(pod.uid, Rejection(EVICTED, message))
            self._recorder.pod_event(pod, EVICTED, message, type=WARNING)
            self._kill_pod(pod.uid, pod.full_name, pod)
