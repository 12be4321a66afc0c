"""The kubelet's Summary API (``/stats/summary``): the document, and the provider that builds it.

Mirrors the kubelet's ``pkg/kubelet/server/stats/summary.go`` (``summaryProviderImpl.Get``: node,
system containers, pods) and ``pkg/kubelet/stats/cadvisor_stats_provider.go`` (``ListPodStats``: a pod's
containers, volumes, network and ephemeral storage), with cAdvisor replaced by direct reads of the
kernel's files (see :mod:`pykubelet.stats.cgroups`, :mod:`~pykubelet.stats.disk`,
:mod:`~pykubelet.stats.machine`, :mod:`~pykubelet.stats.network`).

The JSON follows ``k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go``. Where a number cannot be read
(a container that exited between listing and reading, a hidden file), its section is left out, as the
kubelet's ``omitempty`` pointers do, instead of reporting a zero that looks like a measurement.
``availableBytes`` = limit - working set and only when there is a limit; ``usageNanoCores`` = the CPU
counter's rate between this collection and the previous one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pykubelet.stats.cgroups import Cgroups, Memory, Rates, Sample, sum_samples
from pykubelet.stats.disk import (
    DU_TTL_SECONDS,
    DiskUsageCache,
    existing,
    fs_json,
    logs_json,
    rootfs_json,
)
from pykubelet.stats.machine import boot_time, node_cpu, node_memory, rlimit_json
from pykubelet.stats.network import network_json

# One logger for the whole package: its records keep the name they had when stats was one module.
log = logging.getLogger("pykubelet.stats")


@dataclass
class ContainerRef:
    """What the agent knows about one running container."""

    name: str  # the k8s container name ("POD" for the sandbox)
    container_id: str
    pid: int  # the main process on the host; 0 if not running
    started_at: str  # RFC 3339
    rootfs: tuple[int, int | None] | None = None  # the writable layer (bytes, inodes), runtime-measured
    log_path: str = ""  # the file the runtime writes the container's output to
    runtime_name: str = ""  # the runtime's own name for it (cAdvisor's ``name`` label)


@dataclass
class PodRef:
    name: str
    namespace: str
    uid: str
    start_time: str  # RFC 3339
    sandbox: ContainerRef | None
    containers: list[ContainerRef]
    volumes: dict[str, str]  # emptyDir volume name -> host path


# --- JSON pieces ------------------------------------------------------------------------------------


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cpu_json(stamp: str, sample: Sample) -> dict[str, Any] | None:
    if sample.cpu_ns is None:
        return None
    cpu: dict[str, Any] = {"time": stamp}
    if sample.nanocores is not None:
        cpu["usageNanoCores"] = sample.nanocores
    cpu["usageCoreNanoSeconds"] = sample.cpu_ns
    return cpu


def _memory_json(stamp: str, memory: Memory | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    out: dict[str, Any] = {"time": stamp}
    if memory.limit is not None:
        out["availableBytes"] = max(memory.limit - memory.working_set, 0)
    out["usageBytes"] = memory.usage
    out["workingSetBytes"] = memory.working_set
    for key, value in (
        ("rssBytes", memory.rss),
        ("pageFaults", memory.page_faults),
        ("majorPageFaults", memory.major_page_faults),
    ):
        if value is not None:
            out[key] = value
    return out


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is something to report (the kubelet's omitempty)."""
    if value is not None:
        target[key] = value


# --- the provider -----------------------------------------------------------------------------------


class StatsProvider:
    """Builds the Summary from the kernel's files; keeps the previous CPU samples to compute rates.

    ``collect`` blocks (it walks volumes), so the agent runs it in a thread every ~10 s and serves the
    last result; concurrent calls are serialised so two collections never interleave their rate samples.
    ``image_fs`` is the runtime's image filesystem (``ImageFsInfo``), which the containers' ``rootfs``
    sections and the node's ``runtime.imageFs`` describe; "" leaves them out. ``clock`` returns epoch
    seconds.
    """

    def __init__(
        self,
        node_name: str,
        root_dir: str,
        proc: str = "/proc",
        cgroup_root: str = "/sys/fs/cgroup",
        *,
        image_fs: str = "",
        clock: Callable[[], float] = time.time,
        du_ttl: float = DU_TTL_SECONDS,
    ) -> None:
        self.node_name = node_name
        self.root_dir = root_dir
        self.proc = proc
        self.image_fs = image_fs
        self._clock = clock
        self._cgroups = Cgroups(proc, cgroup_root)
        self._rates = Rates()
        self._du = DiskUsageCache(clock, du_ttl)
        self._lock = threading.Lock()
        self._started = clock()
        self._seen: dict[str, str] = {}
        self.cgroup_names: dict[str, str] = {}  # container id -> its cgroup, as of the last collection

    def collect(self, pods: list[PodRef]) -> dict[str, Any]:
        with self._lock:
            self._seen = {}
            now = self._clock()
            stamp = _rfc3339(now)
            pod_stats, pod_samples = [], []
            for pod in pods:
                try:
                    entry, total = self._pod(pod, now, stamp)
                except Exception:  # one odd pod must not cost the whole summary
                    log.warning(
                        "could not collect stats for pod %s/%s", pod.namespace, pod.name, exc_info=True
                    )
                    continue
                pod_stats.append(entry)
                pod_samples.append(total)
            node = self._node(now, stamp, pods, pod_samples)
            self._rates.forget_unseen()
            self._du.expire()
            self.cgroup_names = self._seen
            return {"node": node, "pods": pod_stats}

    # --- node ---

    def _node(self, now: float, stamp: str, pods: list[PodRef], pod_samples: list[Sample]) -> dict[str, Any]:
        node: dict[str, Any] = {"nodeName": self.node_name, "systemContainers": []}
        if pods:
            node["systemContainers"].append(self._pods_container(stamp, pods, pod_samples))
        # The root cgroup's stats start at boot; without btime, when this provider began collecting.
        booted = boot_time(self.proc)
        node["startTime"] = _rfc3339(self._started if booted is None else booted)
        _put(node, "cpu", _cpu_json(stamp, node_cpu(self.proc, self._rates, now)))
        _put(node, "memory", _memory_json(stamp, node_memory(self.proc)))
        _put(node, "network", network_json(os.path.join(self.proc, "1"), stamp))
        _put(node, "fs", fs_json(existing(self.root_dir), stamp))
        image_fs = fs_json(self.image_fs, stamp) if self.image_fs else None
        if image_fs is not None:
            # What the images themselves take needs the engine (``docker system df``); only the
            # filesystem's totals are read here.
            del image_fs["usedBytes"], image_fs["inodesUsed"]
            node["runtime"] = {"imageFs": image_fs}
        _put(node, "rlimit", rlimit_json(self.proc, stamp))
        return node

    def _pods_container(self, stamp: str, pods: list[PodRef], samples: list[Sample]) -> dict[str, Any]:
        """The "pods" system container: what the kubelet reads from the kubepods cgroup, summed here."""
        total = sum_samples(samples)
        entry: dict[str, Any] = {"name": "pods", "startTime": min(_pod_start(pod, stamp) for pod in pods)}
        _put(entry, "cpu", _cpu_json(stamp, total))
        _put(entry, "memory", _memory_json(stamp, total.memory))
        return entry

    # --- pods ---

    def _pod(self, pod: PodRef, now: float, stamp: str) -> tuple[dict[str, Any], Sample]:
        sandbox = self._sample(pod.sandbox, now) if pod.sandbox else None
        measured = [(ref, s) for ref in pod.containers if (s := self._sample(ref, now)) is not None]
        containers = [self._container(ref, sample, stamp) for ref, sample in measured]
        # The pod cgroup would hold the sandbox too, so its share counts toward the pod's totals.
        total = sum_samples([s for _, s in measured] + ([sandbox] if sandbox else []))
        volumes = self._volumes(pod, stamp)
        entry: dict[str, Any] = {
            "podRef": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
            "startTime": _pod_start(pod, stamp),
            "containers": containers,
        }
        _put(entry, "cpu", _cpu_json(stamp, total))
        _put(entry, "memory", _memory_json(stamp, total.memory))
        _put(entry, "network", self._pod_network(pod, stamp))
        if volumes:
            entry["volume"] = volumes
        _put(entry, "ephemeral-storage", self._ephemeral(stamp, containers, volumes))
        if total.processes is not None:
            entry["process_stats"] = {"process_count": total.processes}
        return entry, total

    def _sample(self, ref: ContainerRef, now: float) -> Sample | None:
        if ref.pid <= 0:
            return None
        sample = self._cgroups.sample(ref.pid, ref.container_id)
        if sample is None:
            log.debug("no cgroup stats for container %s (%s): exited?", ref.name, ref.container_id)
            return None
        self._seen[ref.container_id] = sample.cgroup
        if sample.cpu_ns is not None:
            sample.nanocores = self._rates.nanocores(ref.container_id, now, sample.cpu_ns)
        return sample

    def _container(self, ref: ContainerRef, sample: Sample, stamp: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": ref.name, "startTime": ref.started_at or stamp}
        _put(entry, "cpu", _cpu_json(stamp, sample))
        _put(entry, "memory", _memory_json(stamp, sample.memory))
        _put(entry, "rootfs", rootfs_json(self.image_fs, ref.rootfs, stamp))
        _put(entry, "logs", logs_json(ref.log_path, stamp))
        return entry

    def _pod_network(self, pod: PodRef, stamp: str) -> dict[str, Any] | None:
        """The pod's namespace is the sandbox's; its containers join it, so any of them will do."""
        refs = ([pod.sandbox] if pod.sandbox else []) + pod.containers
        for ref in refs:
            if ref.pid > 0:
                network = network_json(os.path.join(self.proc, str(ref.pid)), stamp)
                if network is not None:
                    return network
        return None

    def _volumes(self, pod: PodRef, stamp: str) -> list[dict[str, Any]]:
        volumes = []
        for name, path in sorted(pod.volumes.items()):
            usage = self._du.measure(path)
            fs = fs_json(path, stamp, usage) if usage is not None else None
            if fs is not None:
                volumes.append({**fs, "name": name})
        return volumes

    def _ephemeral(
        self, stamp: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Writable layers + logs + emptyDirs, only when every part could be measured."""
        found = [c.get(key) for c in containers for key in ("rootfs", "logs")] + volumes
        parts = [part for part in found if part is not None]
        if not containers or len(parts) != len(found):
            return None
        fs = fs_json(existing(self.root_dir), stamp)
        if fs is None:
            return None
        fs["usedBytes"] = sum(part["usedBytes"] for part in parts)
        fs["inodesUsed"] = sum(part["inodesUsed"] for part in parts)
        return fs


def _pod_start(pod: PodRef, stamp: str) -> str:
    """A pod's start time, never empty: Go clients (metrics-server) reject "" as a metav1.Time.

    Before the status manager has a startTime, the earliest container start stands in, then now.
    """
    if pod.start_time:
        return pod.start_time
    refs = ([pod.sandbox] if pod.sandbox else []) + pod.containers
    return min((ref.started_at for ref in refs if ref.started_at), default=stamp)


_CPU_MEMORY_CONTAINER_KEYS = ("name", "startTime", "cpu", "memory")


def _pick(source: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: source[key] for key in keys if key in source}


def only_cpu_and_memory(summary: dict[str, Any]) -> dict[str, Any]:
    """The ``?only_cpu_and_memory=true`` view: the kubelet's ``GetCPUAndMemoryStats`` shape.

    metrics-server asks for this one; it keeps identities, start times and cpu/memory, nothing else.
    """
    node = summary["node"]
    slim_node = _pick(node, ("nodeName", "startTime", "cpu", "memory"))
    slim_node["systemContainers"] = [
        _pick(c, _CPU_MEMORY_CONTAINER_KEYS) for c in node.get("systemContainers", [])
    ]
    pods = [
        {
            **_pick(pod, ("podRef", "startTime", "cpu", "memory")),
            "containers": [_pick(c, _CPU_MEMORY_CONTAINER_KEYS) for c in pod.get("containers", [])],
        }
        for pod in summary["pods"]
    ]
    return {"node": slim_node, "pods": pods}


__all__ = ["ContainerRef", "PodRef", "StatsProvider", "only_cpu_and_memory"]
