"""A pod's QoS class and the OOM score it earns (``pkg/apis/core/v1/helper/qos``, ``pkg/kubelet/qos``).

Guaranteed: every container has cpu and memory limits equal to its requests. BestEffort: no container
asks for anything. Burstable: the rest. The class decides which pod the kernel kills first when memory
runs out, through ``oom_score_adj`` on every container of the pod.
"""

from __future__ import annotations

from typing import Any

from pykubelet.manifest.quantity import parse_quantity

GUARANTEED, BURSTABLE, BEST_EFFORT = "Guaranteed", "Burstable", "BestEffort"
_COMPUTE = ("cpu", "memory")


def pod_qos(spec: dict[str, Any]) -> str:
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        c_requests = {
            k: parse_quantity(v)
            for k, v in (resources.get("requests") or {}).items()
            if k in _COMPUTE and parse_quantity(v) > 0
        }
        c_limits = {
            k: parse_quantity(v)
            for k, v in (resources.get("limits") or {}).items()
            if k in _COMPUTE and parse_quantity(v) > 0
        }
        for name, value in c_requests.items():
            requests[name] = requests.get(name, 0) + value
        for name, value in c_limits.items():
            limits[name] = limits.get(name, 0) + value
        if set(c_limits) != set(_COMPUTE):
            guaranteed = False
    if not requests and not limits:
        return BEST_EFFORT
    if guaranteed and all(requests.get(k) == limits.get(k) for k in _COMPUTE):
        return GUARANTEED
    return BURSTABLE


def oom_score_adj(qos: str, memory_request: int, memory_capacity: int) -> int:
    """``GetContainerOOMScoreAdjust``: -997 guaranteed, 1000 best effort, burstable in between."""
    if qos == GUARANTEED:
        return -997
    if qos == BEST_EFFORT:
        return 1000
    if memory_capacity <= 0:
        return 999
    score = 1000 - (1000 * memory_request) // memory_capacity
    return max(2, min(int(score), 999))
