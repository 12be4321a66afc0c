"""Node admission for static pods (``pkg/kubelet/lifecycle/predicate.go``, the kubelet's GeneralPredicates).

Before a new pod gets a worker, the kubelet checks that it fits the node: its hostPorts are free, its
nodeSelector matches the node's labels, and its resource requests fit what is left of the node's
capacity. A pod that does not fit is rejected, not half-started: its status becomes Failed with the
kubelet's reason (``NodePorts``, ``NodeAffinity``, ``OutOfcpu``, ``OutOfmemory``) and the message
``Pod was rejected: ...``. Pure functions: the caller holds the state.
"""

from __future__ import annotations

import platform
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pykubelet.manifest import StaticPod
from pykubelet.manifest.quantity import cpu_millis, memory_bytes

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


@dataclass(frozen=True)
class Rejection:
    reason: str
    message: str


def default_node_labels(node: str) -> dict[str, str]:
    """The labels a kubelet always puts on its node."""
    arch = _ARCH.get(platform.machine(), platform.machine())
    return {
        "kubernetes.io/hostname": node,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": arch,
    }


def host_ports(pod: StaticPod) -> list[tuple[str, int, str]]:
    """(hostIP, hostPort, protocol) the pod claims on the node."""
    ports = []
    for container in pod.spec.get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                ports.append(
                    (port.get("hostIP") or "0.0.0.0", int(port["hostPort"]), port.get("protocol", "TCP"))
                )
    return ports


def requests(pod: StaticPod) -> tuple[int, int]:
    """(milli-CPU, memory bytes) the pod asks for: the larger of its init containers and its apps."""

    def total(containers: Iterable[dict[str, Any]], pick: Any) -> list[int]:
        return [pick((c.get("resources") or {}).get("requests") or {}) for c in containers]

    def cpu(r: dict[str, Any]) -> int:
        return cpu_millis(r["cpu"]) if "cpu" in r else 0

    def memory(r: dict[str, Any]) -> int:
        return memory_bytes(r["memory"]) if "memory" in r else 0

    apps, inits = pod.spec.get("containers") or [], pod.spec.get("initContainers") or []
    return (
        max(sum(total(apps, cpu)), max(total(inits, cpu), default=0)),
        max(sum(total(apps, memory)), max(total(inits, memory), default=0)),
    )


def admit(
    pod: StaticPod, admitted: Iterable[StaticPod], labels: dict[str, str], capacity: tuple[int, int]
) -> Rejection | None:
    admitted = list(admitted)
    claimed = {(ip, port, proto): other for other in admitted for ip, port, proto in host_ports(other)}
    for ip, port, proto in host_ports(pod):
        for (other_ip, other_port, other_proto), other in claimed.items():
            overlaps = ip == other_ip or "0.0.0.0" in (ip, other_ip)
            if port == other_port and proto == other_proto and overlaps:
                return Rejection(
                    "NodePorts",
                    f"Predicate NodePorts failed: hostPort {port}/{proto} is already "
                    f"used by pod {other.namespace}/{other.name}",
                )
    selector = pod.spec.get("nodeSelector") or {}
    missing = {k: v for k, v in selector.items() if labels.get(k) != str(v)}
    if missing:
        wanted = ", ".join(f"{k}={v}" for k, v in sorted(missing.items()))
        return Rejection(
            "NodeAffinity",
            f"Predicate NodeAffinity failed: the node's labels do not match "
            f"nodeSelector {wanted} (add them with --node-labels)",
        )
    cpu, memory = requests(pod)
    used_cpu = sum(requests(other)[0] for other in admitted)
    used_memory = sum(requests(other)[1] for other in admitted)
    for name, asked, used, total in (
        ("cpu", cpu, used_cpu, capacity[0]),
        ("memory", memory, used_memory, capacity[1]),
    ):
        if asked and used + asked > total:
            return Rejection(
                f"OutOf{name}",
                f"Node didn't have enough resource: {name}, requested: {asked}, "
                f"used: {used}, capacity: {total}",
            )
    return None


def admit_new_pods(
    previous: Mapping[str, StaticPod],
    wanted: Mapping[str, StaticPod],
    rejected: Collection[str],
    labels: dict[str, str],
    capacity: tuple[int, int],
) -> dict[str, Rejection]:
    """Rejections for the pods that are new in ``wanted`` (``HandlePodAdditions``' canAdmitPod).

    Pods admitted before (in ``previous`` and not ``rejected``) hold their ports and resources first:
    a new file never pushes a running pod out. New pods are then admitted in file order, each against
    those already admitted, so of two pods wanting one hostPort the first file wins, every time.
    """
    admitted = [pod for uid, pod in wanted.items() if uid in previous and uid not in rejected]
    rejections: dict[str, Rejection] = {}
    for uid, pod in sorted(wanted.items(), key=lambda kv: kv[1].source):
        if uid in previous or uid in rejected:
            continue
        rejection = admit(pod, admitted, labels, capacity)
        if rejection is None:
            admitted.append(pod)
            continue
        rejections[uid] = Rejection(rejection.reason, f"Pod was rejected: {rejection.message}")
    return rejections
