"""The agent: wires the config source, pod workers, runtime, PLEG, status and server into one loop.

Like the kubelet's ``syncLoop``, it is mostly a dispatcher: the file source says which pods should
exist, the PLEG says which pods changed, and the pod workers do the work. It also owns the two
decisions that need the whole picture: which of two files claiming one pod name wins (the pod already
running does, else the first file in sorted order) and which runtime pods are orphans to remove.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from pykubelet import status as pod_status
from pykubelet import supervisor, volumes
from pykubelet.admission import Rejection, admit, default_node_labels
from pykubelet.config.file import FileSource, Snapshot
from pykubelet.config.url import URLSource
from pykubelet.events import WARNING, Recorder
from pykubelet.lifecycle.prober import ProbeManager
from pykubelet.machine import machine_info
from pykubelet.manifest import FieldError, ManifestError, StaticPod
from pykubelet.manifest.quantity import memory_bytes
from pykubelet.metrics import Metrics
from pykubelet.node import Node, discover
from pykubelet.options import Options, node_labels, parse_headers
from pykubelet.pleg import PLEG
from pykubelet.podworkers import PodWorkers
from pykubelet.qos import pod_qos
from pykubelet.runtime import configs, new_runtime
from pykubelet.runtime.actions import latest_sandbox
from pykubelet.runtime.api import Container
from pykubelet.runtime.manager import RuntimeManager, Settings, SyncResult
from pykubelet.stats import ContainerRef, PodRef, StatsProvider
from pykubelet.stats import only_cpu_and_memory as cpu_and_memory_view

log = logging.getLogger("pykubelet.kubelet")

HOUSEKEEPING_PERIOD = 2.0
STATS_PERIOD = 10.0  # the kubelet's housekeeping interval for stats
RUNTIME_PING_PERIOD = 5.0
RUNTIME_PING_TIMEOUT = 3.0
SYNCLOOP_MAX_AGE = 60.0


class Kubelet:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.node: Node = discover(options.node_name, options.node_ip)
        self.runtime = new_runtime(options.runtime_endpoint, self.node.name)
        self.metrics = Metrics(self._metrics_snapshot)
        self.runtime.on_operation = self.metrics.runtime_operation
        self.recorder = Recorder(self.node.name)
        self.manager = RuntimeManager(
            self.runtime,
            self.recorder,
            self.node,
            Settings(options.root_dir, options.pod_logs_dir, options.pod_infra_container_image),
            metrics=self.metrics,
        )
        self.workers = PodWorkers(self._sync_pod, self._kill_pod, self._pod_gone)
        self.pleg = PLEG(self.runtime, self.workers.nudge, self._on_runtime_back)
        self.prober = ProbeManager(self.runtime, self.recorder, self.workers.nudge, self._kill_for_probe)
        self.sources: dict[str, FileSource | URLSource] = {}
        if options.pod_manifest_path:
            self.sources["file"] = FileSource(
                options.pod_manifest_path,
                self.node.name,
                options.file_check_frequency,
                lambda snapshot: self._on_snapshot("file", snapshot),
                strict=options.strict_manifests,
            )
        if options.manifest_url:
            self.sources["http"] = URLSource(
                options.manifest_url,
                parse_headers(options.manifest_url_header),
                self.node.name,
                options.http_check_frequency,
                lambda snapshot: self._on_snapshot("http", snapshot),
                strict=options.strict_manifests,
            )
        self._snapshots: dict[str, Snapshot] = {}
        self.rejected: dict[str, Rejection] = {}
        self.node_labels = {**default_node_labels(self.node.name), **node_labels(options.node_labels)}
        self.desired: dict[str, StaticPod] = {}
        self.file_errors: dict[str, ManifestError] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.started_at = time.time()
        self.last_housekeeping = time.monotonic()
        self._adopted = False
        self._server: Any = None
        self._added_at: dict[str, float] = {}
        self._started_pods: set[str] = set()
        self._synced_once: set[str] = set()
        self._pods_json: bytes | None = None
        self._machine: dict[str, Any] | None = None
        self._stats = StatsProvider(self.node.name, options.root_dir)
        self._summary: dict[str, Any] = {"node": {"nodeName": self.node.name}, "pods": []}
        self._summary_json: dict[bool, bytes] = {}
        self.runtime_ok = False
        self.runtime_error = "not checked yet"

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
        for source in self.sources.values():
            await source.start()
        background = [
            supervisor.spawn("housekeeping", self._housekeeping_loop),
            supervisor.spawn("runtime-health", self._runtime_health_loop),
            supervisor.spawn("stats", self._stats_loop),
        ]
        try:
            await stop.wait()
        finally:
            log.info("Shutting down; pods keep running and are adopted at the next start")
            await supervisor.cancel_all(background)
            for source in self.sources.values():
                await source.stop()
            await self.pleg.stop()
            await self.workers.stop()
            if self._server is not None:
                await self._server.cleanup()
            self.runtime.close()

    # -- desired state from the source ---------------------------------------------------------------

    def _on_snapshot(self, source: str, update: Snapshot) -> None:
        """A source's full set changed: merge every source's set, then diff against what runs."""
        self._snapshots[source] = update
        snapshot = {key: result for each in self._snapshots.values() for key, result in each.items()}
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
        self._admit(previous, wanted)
        for uid in previous.keys() - wanted.keys():
            pod = previous[uid]
            log.info("Pod removed from its source: stopping it", extra={"pod": str(pod), "file": pod.source})
            self.workers.terminate(uid, pod.full_name, pod)
        removed_names = {previous[uid].full_name for uid in previous.keys() - wanted.keys()}
        for uid in wanted.keys() - previous.keys():
            pod = wanted[uid]
            if uid in self.rejected:
                continue
            log.info("Pod added", extra={"pod": str(pod), "file": pod.source, "uid": uid})
            self._added_at.setdefault(uid, time.monotonic())
            if pod.full_name in removed_names:
                self.metrics.restarted_pods.labels("true").inc()
            self.workers.update(pod)
        self._pods_json = None

    def _admit(self, previous: dict[str, StaticPod], wanted: dict[str, StaticPod]) -> None:
        """Check each new pod against the node (ports, nodeSelector, capacity); reject what does not fit."""
        for uid in set(self.rejected) - wanted.keys():
            del self.rejected[uid]
        admitted = [pod for uid, pod in wanted.items() if uid in previous and uid not in self.rejected]
        capacity = (self.node.cpu_count * 1000, self.node.memory_capacity)
        for uid, pod in sorted(wanted.items(), key=lambda kv: kv[1].source):
            if uid in previous or uid in self.rejected:
                continue
            rejection = admit(pod, admitted, self.node_labels, capacity)
            if rejection is None:
                admitted.append(pod)
                continue
            self.rejected[uid] = Rejection(rejection.reason, f"Pod was rejected: {rejection.message}")
            self.recorder.pod_event(pod, rejection.reason, self.rejected[uid].message, type=WARNING)

    # -- runtime -------------------------------------------------------------------------------------

    async def _sync_pod(self, pod: StaticPod) -> SyncResult:
        operation = "sync" if pod.uid in self._synced_once else "create"
        started = time.monotonic()
        try:
            result = await self.manager.sync_pod(pod)
        except asyncio.CancelledError:
            raise  # shutting down: no more Docker calls (the engine may be the reason we are stuck)
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
        containers = await self.runtime.list_pod_containers(pod.uid)
        previous = self.statuses.get(pod.uid)
        pod_ip = configs.pod_ip(pod.spec, self.node.host_ip, latest_sandbox(containers))
        self.prober.sync(pod, pod_ip, containers)  # before the status: new containers start unready
        status = pod_status.generate(
            pod,
            containers,
            self.manager.state(pod.uid),
            previous,
            host_ip=self.node.host_ip,
            termination=self.manager.termination_message,
            images=self.runtime.cached_image,
            probes=self.prober.flags,
        )
        for c in containers:
            if c.image_id and self.runtime.cached_image(c.image_id) is None:
                await self.runtime.image_status(c.image_id)
        if previous is None or previous.get("phase") != status["phase"]:
            log.info("Pod phase is now %s", status["phase"], extra={"pod": str(pod)})
        if pod.uid not in self._started_pods and all(
            "running" in c["state"] for c in status["containerStatuses"]
        ):
            self._started_pods.add(pod.uid)
            self.metrics.pod_start.observe(time.monotonic() - self._added_at.get(pod.uid, time.monotonic()))
        if previous != status:
            self._pods_json = None
        self.statuses[pod.uid] = status

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
        self.statuses.pop(uid, None)
        self._pods_json = None
        self._added_at.pop(uid, None)
        self._started_pods.discard(uid)
        self._synced_once.discard(uid)
        pod = self.desired.get(uid)
        if pod is not None and uid not in self.rejected:  # the file came back while the pod was stopping
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
        if not all(source.seen for source in self.sources.values()):
            return
        running = {
            s.pod_uid: f"{s.pod_name or s.pod_uid}_{s.namespace}" for s in await self.runtime.list_summaries()
        }
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

    # -- runtime health and stats (in the background: requests never wait on Docker) -----------------

    async def _runtime_health_loop(self) -> None:
        while True:
            ok, error = await self.runtime.check_health(RUNTIME_PING_TIMEOUT)
            if ok != self.runtime_ok:
                if ok:
                    log.info("The container runtime answers")
                else:
                    log.error("The container runtime does not answer: %s", error)
            self.runtime_ok, self.runtime_error = ok, error
            await asyncio.sleep(RUNTIME_PING_PERIOD)

    async def _stats_loop(self) -> None:
        while True:
            try:
                refs = await self._pod_refs()
                self._summary = await asyncio.to_thread(self._stats.collect, refs)
                self._summary_json.clear()
                self._enforce_empty_dir_limits(self._summary)
            except Exception as exc:
                log.warning("Collecting stats failed, will retry: %s", exc)
            await asyncio.sleep(STATS_PERIOD)

    def _enforce_empty_dir_limits(self, summary: dict[str, Any]) -> None:
        """A disk-backed emptyDir over its sizeLimit gets its pod evicted, as the kubelet's eviction manager
        does: the containers and volumes go, and the pod stays listed as Failed/Evicted until its file
        changes."""
        for stats in summary.get("pods", []):
            uid = stats.get("podRef", {}).get("uid", "")
            pod = self.desired.get(uid)
            if pod is None or uid in self.rejected:
                continue
            limits = {
                v["name"]: v["emptyDir"]["sizeLimit"]
                for v in pod.spec.get("volumes") or []
                if (v.get("emptyDir") or {}).get("sizeLimit") and v["emptyDir"].get("medium") != "Memory"
            }
            for volume in stats.get("volume", []):
                limit = limits.get(volume.get("name"))
                if limit is not None and volume.get("usedBytes", 0) > memory_bytes(limit):
                    message = f'Usage of EmptyDir volume "{volume["name"]}" exceeds the limit "{limit}". '
                    self.rejected[uid] = Rejection("Evicted", message)
                    self.recorder.pod_event(pod, "Evicted", message, type=WARNING)
                    self.workers.terminate(uid, pod.full_name, pod)
                    break

    async def _pod_refs(self) -> list[PodRef]:
        """What the stats provider needs of each pod: its running containers' PIDs and its emptyDirs."""
        refs = []
        by_pod: dict[str, list[Container]] = {}
        for c in await self.runtime.list_pod_containers():  # one listing for the node, not one per pod
            if c.running:
                by_pod.setdefault(c.pod_uid, []).append(c)
        for uid, pod in list(self.desired.items()):
            status = self.statuses.get(uid) or {}
            running = by_pod.get(uid, [])

            def ref(c: Container) -> ContainerRef:
                return ContainerRef(c.name, c.id, c.pid, pod_status.rfc3339(c.started_at) or "")

            sandbox = next((ref(c) for c in running if c.is_sandbox), None)
            refs.append(
                PodRef(
                    name=pod.name,
                    namespace=pod.namespace,
                    uid=uid,
                    start_time=status.get("startTime", ""),
                    sandbox=sandbox,
                    containers=[ref(c) for c in running if not c.is_sandbox],
                    volumes={
                        v["name"]: str(volumes.empty_dir_path(self.options.root_dir, uid, v["name"]))
                        for v in pod.spec.get("volumes") or []
                        if "emptyDir" in v
                    },
                )
            )
        return refs

    # -- views for the server ------------------------------------------------------------------------

    def health_checks(self) -> list[tuple[str, str | None]]:
        """(check, failure reason or None), in the order ``/healthz?verbose`` lists them."""
        age = time.monotonic() - self.last_housekeeping
        syncloop = None if age < SYNCLOOP_MAX_AGE else f"sync Loop took longer than expected ({age:.0f}s)"
        runtime = None if self.runtime_ok else f"container runtime is down: {self.runtime_error}"
        return [("ping", None), ("log", None), ("syncloop", syncloop), ("runtime", runtime)]

    def pod_list(self) -> dict[str, Any]:
        items = []
        for uid, pod in sorted(self.desired.items(), key=lambda kv: (kv[1].namespace, kv[1].name)):
            status = (
                self.statuses.get(uid)
                or self._rejected_status(uid)
                or {"phase": "Pending", "qosClass": pod_qos(pod.spec)}
            )
            items.append({"metadata": pod.metadata, "spec": pod.spec, "status": status})
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}

    def _rejected_status(self, uid: str) -> dict[str, Any] | None:
        rejection = self.rejected.get(uid)
        if rejection is None:
            return None
        pod = self.desired[uid]
        return {
            "phase": "Failed",
            "reason": rejection.reason,
            "message": rejection.message,
            "hostIP": self.node.host_ip,
            "qosClass": pod_qos(pod.spec),
            "startTime": pod_status.now(),
        }

    def pod_list_json(self) -> bytes:
        """``/pods``, encoded once per change rather than once per request."""
        if self._pods_json is None:
            self._pods_json = json.dumps(self.pod_list()).encode()
        return self._pods_json

    def manifest_report(self) -> list[dict[str, Any]]:
        """Each manifest file and what it yields: a pod, or the error that keeps it from running.

        ``warnings`` are the manifest's fields that pykubelet ignores or does not support yet, and its
        unknown fields (see ``manifest/fields.py``).
        """
        report: list[dict[str, Any]] = [
            {
                "file": pod.source,
                "pod": f"{pod.namespace}/{pod.name}",
                "uid": pod.uid,
                "warnings": [{"field": w.path, "message": str(w)} for w in pod.warnings],
            }
            for pod in self.desired.values()
        ]
        for path, error in self.file_errors.items():
            fields = [{"field": e.path, "message": str(e)} for e in error.errors]
            warnings = [{"field": w.path, "message": str(w)} for w in error.warnings]
            report.append({"file": path, "error": error.reason, "fields": fields, "warnings": warnings})
        return sorted(report, key=lambda r: r["file"])

    def machine_info(self) -> dict[str, Any]:
        if self._machine is None:
            self._machine = machine_info()
        return self._machine

    def stats_summary_json(self, only_cpu_and_memory: bool = False) -> bytes:
        """``/stats/summary``, encoded once per collection (every 10 s) rather than once per request."""
        cached = self._summary_json.get(only_cpu_and_memory)
        if cached is None:
            view = cpu_and_memory_view(self._summary) if only_cpu_and_memory else self._summary
            cached = self._summary_json[only_cpu_and_memory] = json.dumps(view).encode()
        return cached

    def _metrics_snapshot(self) -> dict[str, Any]:
        running_pods = 0
        by_state = {"running": 0, "exited": 0, "created": 0, "unknown": 0}
        kinds = {"running": "running", "terminated": "exited", "waiting": "created"}
        for status in self.statuses.values():
            if status.get("podIP") and status.get("phase") in ("Running", "Pending"):
                running_pods += 1
            for c in status.get("containerStatuses", []) + status.get("initContainerStatuses", []):
                by_state[kinds.get(next(iter(c["state"]), ""), "unknown")] += 1
        return {
            "running_pods": running_pods,
            "containers_by_state": by_state,
            "desired_pods": len(self.desired),
            "manifest_errors": list(self.file_errors),
            "runtime_up": self.runtime_ok,
        }
