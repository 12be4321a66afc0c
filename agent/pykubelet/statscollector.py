"""The stats housekeeping: ``/stats/summary`` collected in the background, served from memory.

The kubelet's summary comes from cAdvisor, which refreshes its numbers on a 10 s housekeeping loop;
requests read the cache. pykubelet does the same: every :data:`STATS_PERIOD` one runtime listing for
the whole node (not one per pod) says which containers run with which PIDs and log files, one
``ListContainerStats`` call gives their writable layers (the runtime's to measure, as in the kubelet's
``cri_stats_provider.go``), the stats provider reads cgroup and disk figures off the event loop, and the
result is kept as encoded JSON, once per view, so a scraper polling ``/stats/summary`` never causes a
runtime call or a walk of the disk.
Each fresh summary is handed on (to the eviction manager, which checks emptyDir limits against it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pykubelet import status as pod_status
from pykubelet import volumes
from pykubelet.manifest import StaticPod
from pykubelet.runtime.api import Container, ContainerStats, Runtime
from pykubelet.stats import ContainerRef, PodRef, StatsProvider, only_cpu_and_memory
from pykubelet.statusmanager import StatusManager

log = logging.getLogger("pykubelet.stats")

STATS_PERIOD = 10.0  # the kubelet's housekeeping interval for stats

Summary = dict[str, Any]


class StatsCollector:
    """Collects the summary every :data:`STATS_PERIOD`; ``summary_json`` answers requests from the cache."""

    def __init__(
        self,
        node_name: str,
        root_dir: str,
        runtime: Runtime,
        desired: Callable[[], Mapping[str, StaticPod]],
        status: StatusManager,
        on_summary: Callable[[Summary], None],
    ) -> None:
        self._root_dir = root_dir
        self._runtime = runtime
        self._desired = desired
        self._status = status
        self._on_summary = on_summary
        self._provider = StatsProvider(node_name, root_dir)
        self.summary: Summary = {"node": {"nodeName": node_name}, "pods": []}
        self._json: dict[bool, bytes] = {}
        self._names: dict[tuple[str, str], tuple[str, str]] = {}

    def cadvisor_names(self) -> Mapping[tuple[str, str], tuple[str, str]]:
        """(pod uid, container name) -> (its cgroup, the runtime's name for it): cAdvisor's ``id`` and
        ``name`` labels, which only the runtime and the kernel know."""
        return self._names

    async def run(self) -> None:
        """Collect every period; a failure is logged and retried next period (the loop is supervised)."""
        while True:
            try:
                refs = await self.pod_refs()
                self._provider.image_fs = await self._image_fs()
                self.summary = await asyncio.to_thread(self._provider.collect, refs)
                self._names = {
                    (pod.uid, c.name): (self._provider.cgroup_names.get(c.container_id, ""), c.runtime_name)
                    for pod in refs
                    for c in pod.containers
                }
                self._json.clear()
                self._on_summary(self.summary)
            except Exception as exc:
                log.warning("Collecting stats failed, will retry: %s", exc)
            await asyncio.sleep(STATS_PERIOD)

    async def _image_fs(self) -> str:
        """Where the runtime keeps images (ImageFsInfo); the last answer if it cannot say now, since the
        rest of the summary does not need it."""
        try:
            return await self._runtime.image_fs_mountpoint()
        except Exception as exc:
            log.debug("The runtime could not say where its images are: %s", exc)
            return self._provider.image_fs

    def summary_json(self, only_cpu_and_memory_view: bool = False) -> bytes:
        """``/stats/summary``, encoded once per collection rather than once per request."""
        cached = self._json.get(only_cpu_and_memory_view)
        if cached is None:
            view = only_cpu_and_memory(self.summary) if only_cpu_and_memory_view else self.summary
            cached = self._json[only_cpu_and_memory_view] = json.dumps(view).encode()
        return cached

    async def pod_refs(self) -> list[PodRef]:
        """What the stats provider needs of each desired pod: its running containers' PIDs, its emptyDirs."""
        by_pod: dict[str, list[Container]] = {}
        for c in await self._runtime.list_pod_containers():  # one listing for the node, not one per pod
            if c.running:
                by_pod.setdefault(c.pod_uid, []).append(c)
        ids = [c.id for running in by_pod.values() for c in running if not c.is_sandbox]
        try:
            layers = await self._runtime.list_container_stats(ids) if ids else {}
        except Exception as exc:  # the rest of the summary does not need it
            log.debug("The runtime could not measure writable layers: %s", exc)
            layers = {}
        refs = []
        for uid, pod in list(self._desired().items()):
            status = self._status.get(uid) or {}
            running = by_pod.get(uid, [])
            refs.append(
                PodRef(
                    name=pod.name,
                    namespace=pod.namespace,
                    uid=uid,
                    start_time=status.get("startTime", ""),
                    sandbox=next((_ref(c) for c in running if c.is_sandbox), None),
                    containers=[_ref(c, layers.get(c.id)) for c in running if not c.is_sandbox],
                    volumes={
                        v["name"]: str(volumes.empty_dir_path(self._root_dir, uid, v["name"]))
                        for v in pod.spec.get("volumes") or []
                        if "emptyDir" in v
                    },
                )
            )
        return refs


def _ref(c: Container, layer: ContainerStats | None = None) -> ContainerRef:
    return ContainerRef(
        c.name,
        c.id,
        c.pid,
        pod_status.rfc3339(c.started_at) or "",
        rootfs=(layer.writable_layer_bytes, layer.writable_layer_inodes) if layer else None,
        log_path=c.log_path,
        runtime_name=c.runtime_name,
    )
