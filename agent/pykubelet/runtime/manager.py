"""``SyncPod`` and ``KillPod``: carry out what :func:`~pykubelet.runtime.actions.compute_pod_actions` decided.

The kubelet's ``kuberuntime`` manager, through the runtime interface only: volumes, the sandbox, init
containers one at a time, then the app containers together, hooks and grace periods around them. It never
assumes what it did last time: everything is read back from the runtime, so a sync after an agent restart
picks up exactly where the last one left off. Starting one container lives in ``runtime/containers.py``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pykubelet import podcgroups, safepath, volumes
from pykubelet.manifest import StaticPod
from pykubelet.runtime import configs
from pykubelet.runtime.actions import PodActions, ToStart, compute_pod_actions, group_by_name, latest_sandbox
from pykubelet.runtime.api import Container, RuntimeError_
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.containers import ContainerRunner, PodRuntimeState, classify

if TYPE_CHECKING:
    pass

__all__ = ["PodRuntimeState", "RuntimeManager", "Settings", "SyncResult"]

log = logging.getLogger("pykubelet.kuberuntime")

SANDBOX_GRACE = 10
MAX_DEAD_PER_CONTAINER = 1  # --maximum-dead-containers-per-container
SANDBOX_RETRY = 5.0


@dataclass
class SyncResult:
    """What a sync asks of its worker: when to look again (None: wait for an event)."""

    requeue_after: float | None = None
    finished: bool = False


class RuntimeManager(ContainerRunner):
    """The executor: one :class:`PodActions` at a time, through the :class:`Runtime` interface
    (constructed as :class:`ContainerRunner`)."""

    # -- SyncPod -------------------------------------------------------------------------------------

    async def sync_pod(self, pod: StaticPod) -> SyncResult:
        containers = classify(pod, await self.runtime.list_pod_containers(pod.uid))
        actions = compute_pod_actions(pod.spec, containers, self.liveness_failed)
        if actions.finished:
            if actions.stop_sandbox is not None:
                log.info("Pod has finished: stopping its sandbox", extra={"pod": str(pod)})
                await self.runtime.stop_pod_sandbox(actions.stop_sandbox.id, SANDBOX_GRACE)
            if actions.kill_pod:
                await self.kill_containers(pod, containers)
            return SyncResult(finished=True)
        try:
            pod_volumes = await asyncio.to_thread(volumes.setup, self.settings.root_dir, pod.uid, pod.spec)
        except volumes.VolumeError as exc:
            self.state(pod.uid).sandbox_error = ("ContainerCreating", str(exc))
            self.recorder.pod_event(pod, "FailedMount", f"MountVolume.SetUp failed: {exc}", type="Warning")
            return SyncResult(requeue_after=SANDBOX_RETRY)
        sandbox = actions.sandbox
        if actions.create_sandbox:
            sandbox = await self._new_sandbox(pod, containers, actions)
        if sandbox is None:
            return SyncResult(requeue_after=SANDBOX_RETRY)
        self.state(pod.uid).sandbox_error = None
        for stale in actions.remove:
            await self.runtime.remove_container(stale.id)
        if actions.init_running:
            return SyncResult()
        if actions.init is not None:
            return SyncResult(requeue_after=await self._start(pod, actions.init, sandbox, pod_volumes))
        waits = [
            await self._kill(pod, sandbox, kill.container, kill.reason, kill.grace) for kill in actions.kill
        ]
        results = await asyncio.gather(*(self._start(pod, s, sandbox, pod_volumes) for s in actions.start))
        waits.extend(r for r in results if r is not None)
        await self._collect_garbage(containers + ([sandbox] if actions.create_sandbox else []))
        return SyncResult(requeue_after=min(waits) if waits else None)

    async def _start(
        self, pod: StaticPod, step: ToStart, sandbox: Container, pod_volumes: volumes.PodVolumes
    ) -> float | None:
        """Start one container unless its crash-loop back-off says wait; the wait, or None once started."""
        if step.restarts is not None:
            wait = self.crash_backoff(pod, step.spec, step.restarts)
            if wait:
                return wait
        return await self.start_container(pod, step.spec, step.kind, sandbox, step.restart_count, pod_volumes)

    async def _kill(
        self, pod: StaticPod, sandbox: Container, container: Container, reason: str, grace: int | None
    ) -> float:
        """Stop a running container that changed or failed its liveness probe; look again at once."""
        ip = configs.pod_ip(pod.spec, self.node.host_ip, sandbox)
        if reason == "changed":
            self.recorder.pod_event(
                pod,
                "Killing",
                f"Container {container.name} definition changed, will be restarted",
                container=container.name,
            )
            await self.stop_container(pod, container, pod_ip=ip)
        else:  # the prober announced it ("failed liveness probe, will be restarted")
            await self.stop_container(pod, container, grace, pod_ip=ip, announce=False)
            self.liveness_failed.pop(container.id, None)
        return 0.0

    async def _new_sandbox(
        self, pod: StaticPod, containers: list[Container], actions: PodActions
    ) -> Container | None:
        """``createPodSandbox``, after killing what ran in the old one; None while it cannot be made."""
        if actions.kill_pod:
            self.recorder.pod_event(
                pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created."
            )
            await self.kill_containers(pod, containers)
        key = f"{pod.uid}_sandbox"
        if self.backoff.remaining(key) > 0:
            return None
        try:
            await self.images.ensure(pod, None, self.settings.infra_image, "IfNotPresent")
            dns = await self._pod_dns(pod)
            config = configs.sandbox_config(
                pod,
                node=self.node,
                settings=self.settings,
                attempt=actions.sandbox_attempt,
                log_directory=str(self.pod_log_dir(pod.namespace, pod.name, pod.uid)),
                dns=dns,
            )
            created = await self.runtime.run_pod_sandbox(config)
        except RuntimeError_ as exc:
            self.backoff.next(key)
            self.state(pod.uid).sandbox_error = ("ContainerCreating", exc.message)
            self.recorder.pod_event(
                pod,
                "FailedCreatePodSandBox",
                f"Failed to create pod sandbox: {exc.message}",
                type="Warning",
            )
            return None
        self.backoff.reset(key)
        log.info(
            "Created pod sandbox",
            extra={"pod": str(pod), "containerID": created.id[:12], "kv": {"podIP": created.ip}},
        )
        return created

    async def _pod_dns(self, pod: StaticPod) -> configs.PodDNS:
        """``GetPodDNS`` for a new sandbox: the pod's resolv.conf written, MissingClusterDNS announced."""
        try:
            dns = await asyncio.to_thread(self.write_resolv_conf, pod)
        except OSError as exc:
            raise RuntimeError_(
                "CreatePodSandboxError",
                f"cannot write the pod's resolv.conf under {self.settings.root_dir}: {exc.strerror or exc}",
            ) from exc
        if dns.missing_cluster_dns:
            message = f'pod: "{pod.name}_{pod.namespace}({pod.uid})". {configs.MISSING_CLUSTER_DNS}'
            self.recorder.pod_event(pod, "MissingClusterDNS", message, type="Warning")
        return dns

    async def _collect_garbage(self, containers: list[Container]) -> None:
        """The kubelet's container GC for one pod that still exists (``kuberuntime_gc.go``), run after
        each sync rather than once a minute: of each container, the newest dead instance stays (its
        ``lastState``; ``--maximum-dead-containers-per-container`` defaults to 1) and older dead ones
        go; the newest sandbox stays, older ones go once they are not running and no container left
        refers to them (``evictSandboxes``).

        ``containers`` was listed before this sync (plus a sandbox it made): instances it started are
        running, so never counted among the dead, and what it stopped is collected by the next sync.
        """
        doomed = [
            old
            for instances in group_by_name(containers).values()
            for old in [c for c in instances if not c.running][MAX_DEAD_PER_CONTAINER:]
        ]
        for old in doomed:
            await self.runtime.remove_container(old.id)
            self._log_messages.pop(old.id, None)
        gone = {c.id for c in doomed}
        referenced = {c.sandbox_id for c in containers if not c.is_sandbox and c.id not in gone}
        sandboxes = sorted(
            (c for c in containers if c.is_sandbox),
            key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0),
            reverse=True,
        )
        for old in sandboxes[1:]:
            if not old.running and old.id not in referenced:
                await self.runtime.remove_pod_sandbox(old.id)

    # -- KillPod -------------------------------------------------------------------------------------

    async def kill_pod(self, uid: str, pod: StaticPod | None, grace: int | None = None) -> None:
        """Stop every container of the pod (preStop first, with the grace period), then remove it all."""
        containers = classify(pod, await self.runtime.list_pod_containers(uid))
        await self.kill_containers(pod, containers, grace)
        # Every app container has stopped: now the sandbox goes with a forced remove like the others
        # (pause only holds the namespaces; a grace period would change nothing for it).
        await asyncio.gather(
            *(
                self.runtime.remove_pod_sandbox(c.id) if c.is_sandbox else self.runtime.remove_container(c.id)
                for c in containers
            )
        )
        await asyncio.to_thread(volumes.teardown, self.settings.root_dir, uid)
        await asyncio.to_thread(self._remove_logs, containers)
        if self.settings.cgroup_driver == "systemd":
            await asyncio.to_thread(podcgroups.release, uid)
        self.states.pop(uid, None)
        self.backoff.forget_prefix(f"{pod.name}_{pod.namespace}_{uid}_" if pod else "\0")
        self.images.forget(uid)
        for c in containers:
            self.liveness_failed.pop(c.id, None)
            self._log_messages.pop(c.id, None)

    def _remove_logs(self, containers: list[Container]) -> None:
        """Delete the pods' ``/var/log/pods/<ns>_<name>_<uid>`` directories (never anything else)."""
        for pod in {(c.namespace, c.pod_name, c.pod_uid) for c in containers}:
            try:
                directory = self.pod_log_dir(*pod)
            except safepath.UnsafePathError as exc:
                log.warning("Not deleting pod logs named by runtime labels: %s", exc)
                continue
            if directory.is_symlink():
                directory.unlink(missing_ok=True)
            else:
                shutil.rmtree(directory, ignore_errors=True)

    async def kill_containers(
        self, pod: StaticPod | None, containers: list[Container], grace: int | None = None
    ) -> None:
        running = [c for c in containers if not c.is_sandbox and c.running]
        sandbox = latest_sandbox(containers)
        ip = configs.pod_ip(pod.spec if pod else {}, self.node.host_ip, sandbox)
        await asyncio.gather(*(self.stop_container(pod, c, grace, pod_ip=ip) for c in running))
