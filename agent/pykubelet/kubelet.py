"""The agent: wires the config source, pod workers, runtime, PLEG, status and server into one loop.

Like the kubelet's ``syncLoop``, it is mostly a dispatcher: the file source says which pods should
exist, the PLEG says which pods changed, and the pod workers do the work. It also owns the two
decisions that need the whole picture: which of two files claiming one pod name wins (the pod already
running does, else the first file in sorted order) and which runtime pods are orphans to remove.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pykubelet import status as pod_status
from pykubelet import volumes
from pykubelet.config.file import FileSource, Snapshot
from pykubelet.events import Recorder
from pykubelet.manifest import FieldError, ManifestError, StaticPod
from pykubelet.node import Node, discover
from pykubelet.options import Options
from pykubelet.pleg import PLEG
from pykubelet.podworkers import PodWorkers
from pykubelet.runtime.docker import DockerRuntime
from pykubelet.runtime.manager import RuntimeManager, Settings, SyncResult

log = logging.getLogger("pykubelet.kubelet")

HOUSEKEEPING_PERIOD = 2.0


class Kubelet:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.node: Node = discover(options.node_name)
        self.runtime = DockerRuntime(options.runtime_endpoint, self.node.name)
        self.recorder = Recorder(self.node.name)
        self.manager = RuntimeManager(
            self.runtime,
            self.recorder,
            self.node,
            Settings(options.root_dir, options.pod_logs_dir, options.pod_infra_container_image),
        )
        self.workers = PodWorkers(self._sync_pod, self._kill_pod, self._pod_gone)
        self.pleg = PLEG(self.runtime, self.workers.nudge, self._on_runtime_back)
        self.source = FileSource(
            options.pod_manifest_path, self.node.name, options.file_check_frequency, self._on_snapshot
        )
        self.desired: dict[str, StaticPod] = {}
        self.file_errors: dict[str, ManifestError] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.started_at = time.time()
        self.last_housekeeping = time.monotonic()
        self._adopted = False
        self._server: Any = None

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
        if self.options.read_only_port:
            from pykubelet.server import start_server

            self._server = await start_server(self, self.options.address, self.options.read_only_port)
        await self.pleg.start()
        await self.source.start()
        housekeeping = asyncio.create_task(self._housekeeping_loop(), name="housekeeping")
        try:
            await stop.wait()
        finally:
            log.info("Shutting down; pods keep running and are adopted at the next start")
            housekeeping.cancel()
            await self.source.stop()
            await self.pleg.stop()
            await self.workers.stop()
            if self._server is not None:
                await self._server.cleanup()
            self.runtime.close()

    # -- desired state from the source ---------------------------------------------------------------

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        errors = {path: r.error for path, r in snapshot.items() if r.error is not None}
        candidates = sorted(
            (r.pod for r in snapshot.values() if r.pod is not None),
            key=lambda p: (p.uid not in self.desired, p.source),
        )
        wanted: dict[str, StaticPod] = {}
        by_name: dict[str, StaticPod] = {}
        for pod in candidates:
            holder = by_name.get(pod.full_name)
            if holder is not None:
                errors[pod.source] = ManifestError(
                    pod.source,
                    [
                        FieldError(
                            "metadata.name",
                            "Duplicate value",
                            f"pod {pod.name} in namespace {pod.namespace} already comes from "
                            f"{holder.source}; "
                            "rename one of them (each static pod needs a unique name)",
                            pod.metadata.get("name"),
                        )
                    ],
                )
                continue
            by_name[pod.full_name] = pod
            wanted[pod.uid] = pod
        for path, error in errors.items():
            previous = self.file_errors.get(path)
            if previous is None or str(previous) != str(error):
                self.recorder.file_event(path, "FailedValidation", str(error))
        for path in set(self.file_errors) - set(errors):
            log.info("Manifest error cleared", extra={"file": path})
        self.file_errors = errors
        self._apply_desired(wanted)

    def _apply_desired(self, wanted: dict[str, StaticPod]) -> None:
        previous = self.desired
        self.desired = wanted
        for uid in previous.keys() - wanted.keys():
            pod = previous[uid]
            log.info("Pod removed from its source: stopping it", extra={"pod": str(pod), "file": pod.source})
            self.workers.terminate(uid, pod.full_name, pod)
        for uid in wanted.keys() - previous.keys():
            pod = wanted[uid]
            log.info("Pod added", extra={"pod": str(pod), "file": pod.source, "uid": uid})
            self.workers.update(pod)

    # -- runtime -------------------------------------------------------------------------------------

    async def _sync_pod(self, pod: StaticPod) -> SyncResult:
        result = await self.manager.sync_pod(pod)
        await self._update_status(pod)
        return result

    async def _update_status(self, pod: StaticPod) -> None:
        containers = await self.runtime.list_pod_containers(pod.uid)
        previous = self.statuses.get(pod.uid)
        status = pod_status.generate(
            pod,
            containers,
            self.manager.state(pod.uid),
            previous,
            host_ip=self.node.host_ip,
            termination=self.manager.termination_message,
            images=self.runtime.image_info,
        )
        for c in containers:
            if c.image_id and self.runtime.image_info(c.image_id) is None:
                await self.runtime.inspect_image(c.image_id)
        if previous is None or previous.get("phase") != status["phase"]:
            log.info("Pod phase is now %s", status["phase"], extra={"pod": str(pod)})
        self.statuses[pod.uid] = status

    async def _kill_pod(self, uid: str, pod: StaticPod | None) -> None:
        await self.manager.kill_pod(uid, pod)
        log.info("Pod removed: containers and volumes deleted", extra={"pod": str(pod) if pod else uid})

    def _pod_gone(self, uid: str) -> None:
        self.statuses.pop(uid, None)
        pod = self.desired.get(uid)
        if pod is not None:  # the file came back while the pod was being stopped
            self.workers.update(pod)

    def _on_runtime_back(self) -> None:
        for uid in list(self.workers.workers):
            self.workers.nudge(uid)

    # -- housekeeping: orphans -----------------------------------------------------------------------

    async def _housekeeping_loop(self) -> None:
        while True:
            self.last_housekeeping = time.monotonic()
            try:
                await self._remove_orphans()
            except Exception as exc:
                log.warning("Housekeeping failed, will retry: %s", exc)
            await asyncio.sleep(HOUSEKEEPING_PERIOD if not self._adopted else HOUSEKEEPING_PERIOD * 5)

    async def _remove_orphans(self) -> None:
        """Pods in Docker (or pod dirs on disk) whose manifest is gone: remove them.

        Only after the source has delivered a complete listing, so a restart never mistakes
        "not read yet" for "deleted".
        """
        if not self.source.seen:
            return
        summaries = await self.runtime.list_summaries()
        running: dict[str, str] = {}
        for s in summaries:
            labels = s.get("Labels") or {}
            uid = labels.get("io.kubernetes.pod.uid")
            if uid:
                running[uid] = (
                    f"{labels.get('io.kubernetes.pod.name', uid)}_"
                    f"{labels.get('io.kubernetes.pod.namespace', '')}"
                )
        for uid, full_name in running.items():
            if uid not in self.desired and uid not in self.workers.workers:
                log.info("Removing orphaned pod (its manifest is gone)", extra={"uid": uid, "pod": full_name})
                self.workers.terminate(uid, full_name)
        if not self._adopted:
            adopted = [uid for uid in running if uid in self.desired]
            if adopted:
                log.info("Adopted %d running pod(s) from the runtime", len(adopted))
            self._adopted = True
        for uid in await asyncio.to_thread(volumes.known_pod_dirs, self.options.root_dir):
            if uid not in self.desired and uid not in running and uid not in self.workers.workers:
                await asyncio.to_thread(volumes.teardown, self.options.root_dir, uid)

    # -- views for the server ------------------------------------------------------------------------

    def pod_list(self) -> dict[str, Any]:
        items = []
        for uid, pod in sorted(self.desired.items(), key=lambda kv: (kv[1].namespace, kv[1].name)):
            item = {
                "metadata": pod.metadata,
                "spec": pod.spec,
                "status": self.statuses.get(uid) or {"phase": "Pending"},
            }
            items.append(item)
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
