"""The agent: wires the sources, PodConfig, pod workers, runtime, PLEG, status and server into one loop.

Like the kubelet's ``syncLoop`` it is a dispatcher and no more: PodConfig says which pods should exist,
the PLEG says which pods changed, the pod workers do the work, and the status manager keeps what the
read-only port serves. Each decision lives with its owner (``config/podconfig.py`` merges sources,
``admission.py`` admits, ``housekeeping.py`` removes orphans, ``eviction.py`` evicts,
``runtimestate.py`` says whether the runtime is up); this module only connects them. It implements the
server's :class:`~pykubelet.server.host.Host`, so the server needs nothing else of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from pykubelet import status as pod_status
from pykubelet import supervisor
from pykubelet.admission import admit_new_pods, default_node_labels
from pykubelet.config.podconfig import DesiredPods, PodConfig, make_sources
from pykubelet.events import WARNING, Recorder
from pykubelet.eviction import EvictionManager
from pykubelet.housekeeping import Housekeeping
from pykubelet.lifecycle.prober import ProbeManager
from pykubelet.machine import machine_info
from pykubelet.manifest import StaticPod
from pykubelet.metrics import Metrics
from pykubelet.node import Node, discover
from pykubelet.options import Options, node_labels
from pykubelet.pleg import PLEG
from pykubelet.podworkers import PodWorkers
from pykubelet.runtime import configs, new_runtime
from pykubelet.runtime.actions import latest_sandbox
from pykubelet.runtime.api import Container
from pykubelet.runtime.manager import RuntimeManager, Settings, SyncResult
from pykubelet.runtimestate import RuntimeState
from pykubelet.server.host import NodeFacts, PodDetail
from pykubelet.statscollector import StatsCollector
from pykubelet.statusmanager import StatusManager

log = logging.getLogger("pykubelet.kubelet")

SYNCLOOP_MAX_AGE = 60.0  # /healthz fails "syncloop" when housekeeping has not run for this long


class Kubelet:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.node: Node = discover(options.node_name, options.node_ip)
        self.runtime = new_runtime(options.runtime_endpoint, self.node.name)
        self.runtime_health = RuntimeState(self.runtime)
        self.metrics = Metrics(self._metrics_snapshot)
        self.runtime.on_operation = self.metrics.runtime_operation
        self.recorder = Recorder(self.node.name)
        self.manager = RuntimeManager(
            self.runtime,
            self.recorder,
            self.node,
            Settings(
                options.root_dir,
                options.pod_logs_dir,
                options.pod_infra_container_image,
                cgroup_driver=options.cgroup_driver,
            ),
            metrics=self.metrics,
        )
        self.workers = PodWorkers(self._sync_pod, self._kill_pod, self._pod_gone, options.sync_frequency)
        self.pleg = PLEG(
            self.runtime, self.workers.nudge, self.workers.nudge_all, on_health=self.runtime_health.set
        )
        self.prober = ProbeManager(self.runtime, self.recorder, self.workers.nudge, self._kill_for_probe)
        self.config = PodConfig(self.recorder, self._on_pods_changed, self.metrics.manifest_rejected)
        self.status = StatusManager(
            self.node.host_ip, lambda: self.config.desired, self.metrics.pod_start.observe
        )
        self.housekeeping = Housekeeping(self.runtime, options.root_dir, self.config, self.workers)
        self.eviction = EvictionManager(self.status, self.recorder, self.workers.terminate)
        self.stats = StatsCollector(
            self.node.name,
            options.root_dir,
            self.runtime,
            lambda: self.config.desired,
            self.status,
            lambda summary: self.eviction.synchronize(summary, self.config.desired),
        )
        self.sources = make_sources(options, self.node.name, self.config)
        self.node_labels = {**default_node_labels(self.node.name), **node_labels(options.node_labels)}
        self._facts = NodeFacts(
            self.node.name,
            options.root_dir,
            options.pod_manifest_path,
            options.pod_infra_container_image,
            time.time(),
        )
        self._synced_once: set[str] = set()
        self._machine: dict[str, Any] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info(
            "Starting pykubelet",
            extra={
                "kv": {
                    "node": self.node.name,
                    "manifests": self.options.pod_manifest_path,
                    "runtime": self.runtime.endpoint,
                    "rootDir": self.options.root_dir,
                }
            },
        )
        if not self.node.can_lower_oom_score:
            log.warning(
                "This host's capability bounding set lacks CAP_SYS_RESOURCE: negative oom_score_adj "
                "values (-998 for sandboxes, -997 for Guaranteed pods) are raised to 0"
            )
        server = None
        if self.options.read_only_port:
            from pykubelet.server import start_server

            server = await start_server(
                self, self.options.address, self.options.read_only_port, enable_ui=self.options.enable_ui
            )
        await self.pleg.start()
        for source in self.sources:
            await source.start()
        background = [
            supervisor.spawn("housekeeping", self.housekeeping.run),
            supervisor.spawn("runtime-health", self.runtime_health.run),
            supervisor.spawn("stats", self.stats.run),
        ]
        try:
            await stop.wait()
        finally:
            log.info("Shutting down; pods keep running and are adopted at the next start")
            await supervisor.cancel_all(background)
            for source in self.sources:
                await source.stop()
            await self.pleg.stop()
            await self.workers.stop()
            if server is not None:
                await server.cleanup()
            self.runtime.close()

    # -- desired state: PodConfig's merged set -------------------------------------------------------

    def _on_pods_changed(self, previous: DesiredPods, wanted: DesiredPods) -> None:
        """Admit the new pods, stop the removed ones, start the admitted ones (``HandlePodAdditions``)."""
        self.status.keep_rejections(wanted.keys())
        capacity = (self.node.cpu_count * 1000, self.node.memory_capacity)
        for uid, rejection in admit_new_pods(
            previous, wanted, self.status.rejected, self.node_labels, capacity
        ).items():
            self.status.reject(uid, rejection)
            self.recorder.pod_event(wanted[uid], rejection.reason, rejection.message, type=WARNING)
        removed = [previous[uid] for uid in previous.keys() - wanted.keys()]
        for pod in removed:
            log.info("Pod removed from its source: stopping it", extra={"pod": str(pod), "file": pod.source})
            self.workers.terminate(pod.uid, pod.full_name, pod)
        removed_names = {pod.full_name for pod in removed}
        for uid in wanted.keys() - previous.keys():
            pod = wanted[uid]
            if self.status.is_rejected(uid):
                continue
            log.info("Pod added", extra={"pod": str(pod), "file": pod.source, "uid": uid})
            self.status.pod_added(uid)
            if pod.full_name in removed_names:
                self.metrics.restarted_pods.labels("true").inc()
            self.workers.update(pod)
        self.status.desired_changed()

    # -- the pod workers' callbacks ------------------------------------------------------------------

    async def _sync_pod(self, pod: StaticPod) -> SyncResult:
        operation = "sync" if pod.uid in self._synced_once else "create"
        started = time.monotonic()
        try:
            result = await self.manager.sync_pod(pod)
        except asyncio.CancelledError:
            raise  # shutting down: no more runtime calls (the runtime may be the reason we are stuck)
        except Exception:
            await self._update_status_quietly(pod)  # a failed sync still shows in /pods
            raise
        finally:
            self.metrics.pod_worker.labels(operation).observe(time.monotonic() - started)
            self._synced_once.add(pod.uid)
        await self._update_status(pod)
        return result

    async def _update_status_quietly(self, pod: StaticPod) -> None:
        try:
            await self._update_status(pod)
        except Exception as exc:
            log.debug("Could not update the status: %s", exc, extra={"pod": str(pod)})

    async def _update_status(self, pod: StaticPod) -> None:
        """``generateAPIPodStatus`` from what the runtime reports now, handed to the status manager."""
        containers = await self.runtime.list_pod_containers(pod.uid)
        pod_ip = configs.pod_ip(pod.spec, self.node.host_ip, latest_sandbox(containers))
        self.prober.sync(pod, pod_ip, containers)  # before the status: new containers start unready
        status = pod_status.generate(
            pod,
            containers,
            self.manager.state(pod.uid),
            self.status.get(pod.uid),
            host_ip=self.node.host_ip,
            termination=self.manager.termination_message,
            images=self.runtime.cached_image,
            probes=self.prober.flags,
        )
        for c in containers:
            if c.image_id and self.runtime.cached_image(c.image_id) is None:
                await self.runtime.image_status(c.image_id)
        self.status.set_status(pod, status)

    async def _kill_pod(self, uid: str, pod: StaticPod | None) -> None:
        self.prober.stop_pod(uid)
        await self.manager.kill_pod(uid, pod)
        log.info("Pod removed: containers and volumes deleted", extra={"pod": str(pod) if pod else uid})

    async def _kill_for_probe(
        self, pod: StaticPod, container: Container, kind: str, grace: int | None
    ) -> None:
        """A failed liveness or startup probe: the pod's next sync kills the container
        (``computePodActions``); its restart policy decides what next."""
        self.manager.liveness_failed[container.id] = grace
        self.workers.nudge(pod.uid)

    def _pod_gone(self, uid: str) -> None:
        self.status.forget(uid)
        self._synced_once.discard(uid)
        pod = self.config.desired.get(uid)
        if pod is not None and not self.status.is_rejected(uid):  # the file came back while it stopped
            self.workers.update(pod)

    # -- Host: what the read-only port reads ---------------------------------------------------------

    def node_facts(self) -> NodeFacts:
        return self._facts

    def health_checks(self) -> list[tuple[str, str | None]]:
        age = time.monotonic() - self.housekeeping.last_run
        syncloop = None if age < SYNCLOOP_MAX_AGE else f"sync Loop took longer than expected ({age:.0f}s)"
        ok, error = self.runtime_state()
        runtime = None if ok else f"container runtime is down: {error}"
        return [("ping", None), ("log", None), ("syncloop", syncloop), ("runtime", runtime)]

    def runtime_state(self) -> tuple[bool, str]:
        return self.runtime_health.ok, self.runtime_health.error

    def pod_list(self) -> dict[str, Any]:
        return self.status.pod_list()

    def pod_list_json(self) -> bytes:
        return self.status.pod_list_json()

    def pod_detail(self, uid: str) -> PodDetail:
        pod, state = self.config.desired.get(uid), self.manager.states.get(uid)
        return PodDetail(pod.source if pod else None, state.sandbox_error if state else None)

    def events(self) -> list[dict[str, Any]]:
        return self.recorder.list()

    def manifest_report(self) -> list[dict[str, Any]]:
        return self.config.manifest_report()

    def machine_info(self) -> dict[str, Any]:
        if self._machine is None:
            self._machine = machine_info()
        return self._machine

    def stats_summary_json(self, only_cpu_and_memory: bool = False) -> bytes:
        return self.stats.summary_json(only_cpu_and_memory)

    def cadvisor_names(self) -> Mapping[tuple[str, str], tuple[str, str]]:
        return self.stats.cadvisor_names()

    def metrics_text(self) -> bytes:
        return self.metrics.render()

    def probe_metrics_text(self) -> bytes:
        return self.prober.render()

    def _metrics_snapshot(self) -> dict[str, Any]:
        return {
            **self.status.gauges(),
            "desired_pods": len(self.config.desired),
            "manifest_errors": list(self.config.errors),
            "runtime_up": self.runtime_health.ok,
        }
