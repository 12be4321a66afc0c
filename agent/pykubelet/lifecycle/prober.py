"""Liveness, readiness and startup probes (``pkg/kubelet/prober``): one worker per probe per container.

Each worker is its own asyncio task, probing every ``periodSeconds`` with its own timeout, so a slow
or hanging probe delays nothing but itself. Results change only after ``successThreshold`` /
``failureThreshold`` consecutive outcomes. Readiness drives the container's ``ready`` (and the pod's
Ready conditions); startup holds the other probes back until it succeeds; a failed liveness or
startup probe gets the container killed, and the restart policy takes it from there.

Workers are keyed by container instance: a restarted container gets fresh workers and fresh results,
as in the kubelet, where results belong to a container ID.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest

from pykubelet import supervisor
from pykubelet.events import WARNING, Recorder
from pykubelet.lifecycle import actions
from pykubelet.manifest import StaticPod
from pykubelet.runtime.api import Container, Runtime

log = logging.getLogger("pykubelet.prober")

PROBES = (("startupProbe", "Startup"), ("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"))
KillFn = Callable[[StaticPod, Container, str, int | None], Awaitable[None]]


@dataclass
class _Worker:
    task: asyncio.Task[None]
    result: bool | None  # None: not known yet


@dataclass
class _ContainerProbes:
    workers: dict[str, _Worker] = field(default_factory=dict)


class ProbeManager:
    def __init__(
        self, runtime: Runtime, recorder: Recorder, on_change: Callable[[str], None], kill: KillFn
    ) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.on_change = on_change
        self.kill = kill
        self._containers: dict[str, _ContainerProbes] = {}
        self._pod_of: dict[str, str] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.probe_total = Counter(
            "prober_probe_total",
            "Cumulative number of a liveness, readiness or startup probe for a container by result.",
            ["probe_type", "result", "container", "pod", "namespace", "pod_uid"],
            registry=self.registry,
        )

    # -- which workers exist -------------------------------------------------------------------------

    def sync(self, pod: StaticPod, pod_ip: str, containers: list[Container]) -> None:
        """Start workers for running containers with probes; stop those of containers that are gone."""
        specs = {c["name"]: c for c in pod.spec.get("containers") or []}
        running = {c.id: c for c in containers if c.running and c.kind == "container" and c.name in specs}
        for cid in [cid for cid, uid in self._pod_of.items() if uid == pod.uid and cid not in running]:
            self._forget(cid)
        for cid, container in running.items():
            if cid in self._containers:
                continue
            spec = specs[container.name]
            probes = _ContainerProbes()
            for key, kind in PROBES:
                if spec.get(key):
                    initial = None if kind != "Liveness" else True
                    task = supervisor.spawn(  # a bug in one probe restarts that probe, quietly never
                        f"probe-{kind.lower()}-{container.name}",
                        functools.partial(self._work, pod, container, spec, key, kind, pod_ip),
                        forever=False,
                    )
                    probes.workers[kind] = _Worker(task, initial)
            self._containers[cid] = probes
            self._pod_of[cid] = pod.uid

    def stop_pod(self, uid: str) -> None:
        for cid in [cid for cid, owner in self._pod_of.items() if owner == uid]:
            self._forget(cid)

    def _forget(self, container_id: str) -> None:
        probes = self._containers.pop(container_id, None)
        self._pod_of.pop(container_id, None)
        for worker in probes.workers.values() if probes else []:
            worker.task.cancel()

    # -- results -------------------------------------------------------------------------------------

    def flags(self, container: Container) -> tuple[bool, bool]:
        """(started, ready) of a running container, as ``UpdatePodStatus`` sets them."""
        probes = self._containers.get(container.id)
        if not container.running:
            return False, False
        if probes is None:
            return True, True
        startup = probes.workers.get("Startup")
        started = startup is None or startup.result is True
        readiness = probes.workers.get("Readiness")
        ready = started and (readiness is None or readiness.result is True)
        return started, ready

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- one probe -----------------------------------------------------------------------------------

    async def _work(
        self,
        pod: StaticPod,
        container: Container,
        spec: dict[str, Any],
        key: str,
        kind: str,
        pod_ip: str,
    ) -> None:
        probe = spec[key]
        period = max(float(probe.get("periodSeconds", 10)), 1.0)
        timeout = max(float(probe.get("timeoutSeconds", 1)), 1.0)
        success_needed = int(probe.get("successThreshold", 1))
        failure_needed = int(probe.get("failureThreshold", 3))
        started = container.started_at.timestamp() if container.started_at else time.time()
        delay = max(float(probe.get("initialDelaySeconds", 0)) - (time.time() - started), 0.0)
        await asyncio.sleep(delay)
        successes = failures = 0
        while True:
            probes = self._containers.get(container.id)
            if probes is None:
                return
            startup = probes.workers.get("Startup")
            if kind != "Startup" and startup is not None and startup.result is not True:
                await asyncio.sleep(period)  # startup holds the others back
                continue
            outcome = await actions.run(
                probe,
                runtime=self.runtime,
                container_id=container.id,
                container=spec,
                pod_ip=pod_ip,
                timeout=timeout,
            )
            self.probe_total.labels(
                kind.lower(),
                "successful" if outcome.ok else "failed",
                container.name,
                pod.name,
                pod.namespace,
                pod.uid,
            ).inc()
            if outcome.ok:
                successes, failures = successes + 1, 0
            else:
                successes, failures = 0, failures + 1
                self.recorder.pod_event(
                    pod,
                    "Unhealthy",
                    f"{kind} probe failed: {outcome.message}",
                    type=WARNING,
                    container=container.name,
                )
            worker = probes.workers[kind]
            before = worker.result
            if outcome.ok and successes >= success_needed:
                worker.result = True
            elif not outcome.ok and failures >= failure_needed:
                worker.result = False
            if worker.result != before:
                log.info(
                    "%s probe result is now %s",
                    kind,
                    "success" if worker.result else "failure",
                    extra={"pod": str(pod), "container": container.name},
                )
                self.on_change(pod.uid)
            if worker.result is False and kind in ("Liveness", "Startup"):
                grace = probe.get("terminationGracePeriodSeconds")
                self.recorder.pod_event(
                    pod,
                    "Killing",
                    f"Container {container.name} failed {kind.lower()} probe, will be restarted",
                    container=container.name,
                )
                await self.kill(pod, container, kind, grace)
                return
            await asyncio.sleep(period)
