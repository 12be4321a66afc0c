"""The eviction manager's emptyDir rule (``pkg/kubelet/eviction``, ``emptyDirLimitEviction``).

A disk-backed emptyDir that grows past its ``sizeLimit`` gets its pod evicted: the containers and
volumes go, and the pod stays listed as ``Failed``/``Evicted`` until its file changes, as the kubelet's
eviction manager does (its message word for word). Memory-backed emptyDirs are limited by the pod's
memory cgroup instead, so they are not checked here. The usage comes from the latest stats summary
(collected in the background): evicting never costs a walk of the disk of its own.

:func:`empty_dir_evictions` decides (pure); :class:`EvictionManager` carries it out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from pykubelet.admission import Rejection
from pykubelet.events import WARNING, Recorder
from pykubelet.manifest import StaticPod
from pykubelet.manifest.quantity import memory_bytes
from pykubelet.statusmanager import StatusManager

EVICTED = "Evicted"


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
    """Evicts what :func:`empty_dir_evictions` names: Failed status, a Warning event, the pod stopped."""

    def __init__(
        self, status: StatusManager, recorder: Recorder, kill_pod: Callable[[str, str, StaticPod], None]
    ) -> None:
        self._status = status
        self._recorder = recorder
        self._kill_pod = kill_pod  # the pod workers' terminate: the pod's own worker stops it

    def synchronize(self, summary: Mapping[str, Any], desired: Mapping[str, StaticPod]) -> None:
        """Check a fresh stats summary against the desired pods' limits."""
        for pod, message in empty_dir_evictions(summary, desired, self._status.rejected):
            self._status.reject(pod.uid, Rejection(EVICTED, message))
            self._recorder.pod_event(pod, EVICTED, message, type=WARNING)
            self._kill_pod(pod.uid, pod.full_name, pod)
