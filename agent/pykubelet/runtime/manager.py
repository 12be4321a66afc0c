"""Desired pod -> runtime actions: the kubelet's ``kuberuntime`` manager (``SyncPod``, ``KillPod``).

One sync looks at what Docker has for the pod (by its uid label) and does the next step towards the
spec, in the kubelet's order: volumes, the sandbox (infra container), init containers one at a time,
then the app containers together. It never assumes what it did last time: everything is read back from
Docker, so a sync after an agent restart picks up exactly where the last one left off.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pykubelet import safepath, subpath, volumes
from pykubelet.events import WARNING, Recorder
from pykubelet.expansion import expand
from pykubelet.lifecycle import actions
from pykubelet.lifecycle.backoff import Backoff, format_duration
from pykubelet.lifecycle.policy import should_restart
from pykubelet.manifest import StaticPod
from pykubelet.manifest.quantity import cpu_millis, memory_bytes
from pykubelet.node import Node

if TYPE_CHECKING:
    from pykubelet.metrics import Metrics
from pykubelet.qos import oom_score_adj, pod_qos
from pykubelet.runtime import labels as L
from pykubelet.runtime.docker import DockerRuntime, RuntimeContainer, RuntimeError_
from pykubelet.runtime.naming import container_name, sandbox_name

log = logging.getLogger("pykubelet.kuberuntime")

SANDBOX_GRACE = 10
MINIMUM_GRACE = 2  # minimumGracePeriodInSeconds
CPU_PERIOD = 100_000  # quotaPeriod, microseconds
MIN_QUOTA = 1000
MIN_SHARES = 2
SANDBOX_RETRY = 5.0
_CREATE_ERRORS = ("CreateContainerError", "CreateContainerConfigError")


@dataclass(frozen=True)
class Settings:
    root_dir: str
    pod_logs_dir: str
    infra_image: str


@dataclass
class SyncResult:
    """What a sync asks of its worker: when to look again (None: wait for an event)."""

    requeue_after: float | None = None
    finished: bool = False


@dataclass(frozen=True)
class _SyncStep:
    """What one SyncPod found, handed to its init and app container steps."""

    pod: StaticPod
    sandbox: RuntimeContainer
    by_name: dict[str, list[RuntimeContainer]]  # newest first per name; empty for a new sandbox
    previous: dict[str, list[RuntimeContainer]]  # as before any new sandbox: restart counts carry on
    pod_volumes: volumes.PodVolumes


@dataclass
class PodRuntimeState:
    """Per-pod facts the status needs that Docker does not keep: the last failure of each container."""

    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)
    sandbox_error: tuple[str, str] | None = None


def _newest_first(instances: list[RuntimeContainer]) -> list[RuntimeContainer]:
    return sorted(
        instances, key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0), reverse=True
    )


def group_by_name(containers: list[RuntimeContainer]) -> dict[str, list[RuntimeContainer]]:
    groups: dict[str, list[RuntimeContainer]] = {}
    for c in containers:
        if not c.is_sandbox:
            groups.setdefault(c.name, []).append(c)
    return {name: _newest_first(items) for name, items in groups.items()}


def latest_sandbox(containers: list[RuntimeContainer]) -> RuntimeContainer | None:
    sandboxes = _newest_first([c for c in containers if c.is_sandbox])
    return sandboxes[0] if sandboxes else None


class RuntimeManager:
    def __init__(
        self,
        runtime: DockerRuntime,
        recorder: Recorder,
        node: Node,
        settings: Settings,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.runtime = runtime
        self.recorder = recorder
        self.node = node
        self.settings = settings
        self.backoff = Backoff()
        self.image_backoff = Backoff()
        self.states: dict[str, PodRuntimeState] = {}

    def state(self, uid: str) -> PodRuntimeState:
        return self.states.setdefault(uid, PodRuntimeState())

    def _oom_score(self, score: int) -> int:
        """Lowering oom_score_adj needs CAP_SYS_RESOURCE; where the host lacks it, 0 is the floor."""
        return score if self.node.can_lower_oom_score else max(score, 0)

    # -- SyncPod -------------------------------------------------------------------------------------

    async def sync_pod(self, pod: StaticPod) -> SyncResult:
        containers = await self.runtime.list_pod_containers(pod.uid)
        by_name = group_by_name(containers)
        policy = pod.spec.get("restartPolicy", "Always")
        sandbox = latest_sandbox(containers)

        if self._pod_is_done(pod, by_name, sandbox):
            if sandbox is not None and sandbox.running:
                log.info("Pod has finished: stopping its sandbox", extra={"pod": str(pod)})
                await self.runtime.stop(sandbox.id, SANDBOX_GRACE)
            return SyncResult(finished=True)

        try:
            pod_volumes = await asyncio.to_thread(volumes.setup, self.settings.root_dir, pod.uid, pod.spec)
        except volumes.VolumeError as exc:
            self.state(pod.uid).sandbox_error = ("ContainerCreating", str(exc))
            self.recorder.pod_event(pod, "FailedMount", f"MountVolume.SetUp failed: {exc}", type=WARNING)
            return SyncResult(requeue_after=SANDBOX_RETRY)

        if sandbox is None or not sandbox.running:
            if policy == "Never" and by_name:
                # A Never pod whose sandbox died has run: it will not start again (computePodActions).
                await self._kill_containers(pod, containers)
                return SyncResult(finished=True)
            sandbox = await self._new_sandbox(pod, containers, sandbox)
            if sandbox is None:
                return SyncResult(requeue_after=SANDBOX_RETRY)
            by_name = {}  # containers of the old sandbox are history now: start everything afresh
            previous = group_by_name(containers)
        else:
            previous = by_name
        self.state(pod.uid).sandbox_error = None

        step = _SyncStep(pod, sandbox, by_name, previous, pod_volumes)
        init_result = await self._sync_init_containers(step)
        if init_result is not None:
            return init_result
        return await self._sync_app_containers(step)

    def _pod_is_done(
        self, pod: StaticPod, by_name: dict[str, list[RuntimeContainer]], sandbox: RuntimeContainer | None
    ) -> bool:
        """True when no container of the pod will ever run again (restartPolicy Never / OnFailure)."""
        policy = pod.spec.get("restartPolicy", "Always")
        if policy == "Always":
            return False
        if policy == "Never":
            for spec in pod.spec.get("initContainers") or []:
                latest = (by_name.get(spec["name"]) or [None])[0]
                if latest is not None and latest.state == "exited" and latest.exit_code != 0:
                    return True
        for spec in pod.spec["containers"]:
            latest = (by_name.get(spec["name"]) or [None])[0]
            if latest is None or latest.state != "exited" or should_restart(policy, latest.exit_code):
                return False
        return True

    async def _new_sandbox(
        self, pod: StaticPod, containers: list[RuntimeContainer], old: RuntimeContainer | None
    ) -> RuntimeContainer | None:
        attempt = old.attempt + 1 if old is not None else 0
        if old is not None and old.started_at is not None:
            self.recorder.pod_event(
                pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created."
            )
            await self._kill_containers(pod, containers)
        key = f"{pod.uid}_sandbox"
        if self.backoff.remaining(key) > 0:
            return None
        sandbox_id = ""
        try:
            await self._ensure_image(pod, None, self.settings.infra_image, "IfNotPresent")
            sandbox_id = await self._create_sandbox(pod, attempt)
            await self.runtime.start(sandbox_id)
            created = await self.runtime.inspect(sandbox_id)
        except RuntimeError_ as exc:
            if sandbox_id:
                await self.runtime.remove(sandbox_id)  # a sandbox that never ran is not history
            self.backoff.next(key)
            self.state(pod.uid).sandbox_error = ("ContainerCreating", exc.message)
            self.recorder.pod_event(
                pod, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {exc.message}", type=WARNING
            )
            return None
        self.backoff.reset(key)
        for stale in containers:
            if stale.is_sandbox:
                await self.runtime.remove(stale.id)
        log.info(
            "Created pod sandbox",
            extra={
                "pod": str(pod),
                "containerID": sandbox_id[:12],
                "kv": {"podIP": created.ip if created else ""},
            },
        )
        return created

    async def _create_sandbox(self, pod: StaticPod, attempt: int) -> str:
        spec = pod.spec
        host_network = bool(spec.get("hostNetwork"))
        ports, bindings = _port_bindings(spec)
        host_config = self.runtime.host_config(
            network_mode="host" if host_network else "bridge",
            port_bindings=bindings or None,
            ipc_mode="host" if spec.get("hostIPC") else "shareable",
            pid_mode="host" if spec.get("hostPID") else None,
            cpu_shares=MIN_SHARES,
            oom_score_adj=self._oom_score(-998),
            dns=(spec.get("dnsConfig") or {}).get("nameservers") or None,
            dns_search=(spec.get("dnsConfig") or {}).get("searches") or None,
            extra_hosts={h: a["ip"] for a in spec.get("hostAliases") or [] for h in a.get("hostnames", [])}
            or None,
        )
        hostname = None if host_network else (spec.get("hostname") or pod.name)[:63]
        return await self.runtime.create(
            sandbox_name(pod.name, pod.namespace, pod.uid, attempt),
            self.settings.infra_image,
            L.sandbox_labels(pod, self.runtime.node),
            host_config,
            hostname=hostname,
            ports=ports or None,
        )

    async def _sync_init_containers(self, step: _SyncStep) -> SyncResult | None:
        """Run init containers one at a time, each to success; None once all have succeeded."""
        pod, sandbox, by_name, previous, pod_volumes = (
            step.pod, step.sandbox, step.by_name, step.previous, step.pod_volumes
        )  # fmt: skip
        policy = pod.spec.get("restartPolicy", "Always")
        for spec in pod.spec.get("initContainers") or []:
            current = [c for c in by_name.get(spec["name"], []) if c.labels.get(L.SANDBOX_ID) == sandbox.id]
            latest = current[0] if current else None
            if latest is not None and latest.state == "exited" and latest.exit_code == 0:
                continue
            reuse: int | None = None
            if latest is not None and latest.state == "created":
                await self.runtime.remove(latest.id)  # left created by a killed agent: start it anew
                latest, reuse = None, latest.attempt
            if latest is not None and latest.state == "running":
                return SyncResult()
            if latest is not None:
                if policy == "Never":
                    return SyncResult(finished=True)
                wait = self._crash_backoff(pod, spec, latest)
                if wait:
                    return SyncResult(requeue_after=wait)
            prior = (previous.get(spec["name"]) or [None])[0]
            restart_count = reuse if reuse is not None else prior.attempt + 1 if prior is not None else 0
            result = await self._start_container(pod, spec, "init", sandbox, restart_count, pod_volumes)
            return SyncResult(requeue_after=result)
        return None

    async def _sync_app_containers(self, step: _SyncStep) -> SyncResult:
        """Start what is missing or due a restart (concurrently), restart what changed, collect garbage."""
        pod, sandbox, by_name, previous, pod_volumes = (
            step.pod, step.sandbox, step.by_name, step.previous, step.pod_volumes
        )  # fmt: skip
        policy = pod.spec.get("restartPolicy", "Always")
        to_start: list[tuple[dict[str, Any], int]] = []
        waits: list[float] = []
        for spec in pod.spec["containers"]:
            instances = by_name.get(spec["name"], [])
            latest = instances[0] if instances else None
            prior = (previous.get(spec["name"]) or [None])[0]
            if latest is None:
                if (
                    prior is not None
                    and policy == "OnFailure"
                    and prior.state == "exited"
                    and prior.exit_code == 0
                ):
                    continue
                to_start.append((spec, prior.attempt + 1 if prior is not None else 0))
                continue
            if latest.running:
                if latest.hash != L.container_hash(spec):
                    self.recorder.pod_event(
                        pod,
                        "Killing",
                        f"Container {spec['name']} definition changed, will be restarted",
                        container=spec["name"],
                    )
                    await self.stop_container(pod, latest, pod_ip=self._pod_ip(pod, sandbox))
                    waits.append(0.0)
                continue
            if latest.state == "created":
                # Left created by an agent killed between create and start (syncs of one pod never overlap,
                # so nobody else is starting it): remove it and start the container anew.
                await self.runtime.remove(latest.id)
                to_start.append((spec, latest.attempt))
                continue
            if not should_restart(policy, latest.exit_code):
                continue
            wait = self._crash_backoff(pod, spec, latest)
            if wait:
                waits.append(wait)
                continue
            to_start.append((spec, latest.attempt + 1))
        started: set[str] = set()
        if to_start:
            results = await asyncio.gather(
                *(
                    self._start_container(pod, spec, "container", sandbox, count, pod_volumes)
                    for spec, count in to_start
                )
            )
            waits.extend(r for r in results if r is not None)
            started = {spec["name"] for (spec, _), r in zip(to_start, results, strict=True) if r is None}
        await self._collect_garbage(by_name, started)
        return SyncResult(requeue_after=min(waits) if waits else None)

    def _crash_backoff(self, pod: StaticPod, spec: dict[str, Any], latest: RuntimeContainer) -> float:
        """``doBackOff``: seconds to wait before restarting a container that exited; 0 to go now."""
        key = self._container_key(pod, spec)
        finished = latest.finished_at.timestamp() if latest.finished_at else time.time()
        wait = self.backoff.in_backoff_since(key, finished)
        if wait > 0:
            delay = format_duration(self.backoff.get(key))
            message = (
                f"back-off {delay} restarting failed container={spec['name']} "
                f"pod={pod.name}_{pod.namespace}({pod.uid})"
            )
            state = self.state(pod.uid)
            if state.reasons.get(spec["name"], ("",))[0] != "CrashLoopBackOff":
                self.recorder.pod_event(
                    pod,
                    "BackOff",
                    "Back-off restarting failed container "
                    f"{spec['name']} in pod {pod.name}_{pod.namespace}({pod.uid})",
                    type=WARNING,
                    container=spec["name"],
                )
            state.reasons[spec["name"]] = ("CrashLoopBackOff", message)
            return wait
        self.backoff.next(key)
        return 0.0

    # -- starting one container ----------------------------------------------------------------------

    async def _start_container(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        kind: str,
        sandbox: RuntimeContainer,
        restart_count: int,
        pod_volumes: volumes.PodVolumes,
    ) -> float | None:
        """Pull, create, start (``startContainer``). Returns a retry delay when it failed, else None."""
        name = spec["name"]
        state = self.state(pod.uid)
        init = kind == "init"
        key = self._container_key(pod, spec)
        if state.reasons.get(name, ("",))[0] in _CREATE_ERRORS and self.backoff.remaining(key) > 0:
            return self.backoff.remaining(key)
        try:
            await self._ensure_image(pod, spec, spec["image"], spec.get("imagePullPolicy", "IfNotPresent"))
            try:
                binds = await asyncio.to_thread(self._binds, pod, spec, pod_volumes)
                config = self._container_config(pod, spec, kind, sandbox, restart_count, binds)
            except (subpath.SubPathError, safepath.UnsafePathError) as exc:
                raise RuntimeError_("CreateContainerConfigError", str(exc)) from exc
            except OSError as exc:  # the pod directory (--root-dir) is not writable, or the disk is full
                raise RuntimeError_(
                    "CreateContainerConfigError",
                    f"cannot prepare the container under {self.settings.root_dir}: {exc.strerror or exc}",
                ) from exc
            container_id = await self.runtime.create(**config)
            self.recorder.pod_event(pod, "Created", f"Created container {name}", container=name, init=init)
            await self.runtime.start(container_id)
        except RuntimeError_ as exc:
            state.reasons[name] = (exc.reason, exc.message)
            if self.metrics is not None:
                self.metrics.started_container_errors.labels(kind, exc.reason).inc()
            if exc.reason not in ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull"):
                self.recorder.pod_event(
                    pod, "Failed", f"Error: {exc.message}", type=WARNING, container=name, init=init
                )
            return self._retry_delay(pod, spec, exc.reason)
        # One inspect serves postStart (PID, IP), the log link and, cached, the status that follows.
        started = await self.runtime.inspect(container_id)
        post_start = (spec.get("lifecycle") or {}).get("postStart")
        if post_start and started is not None:
            failure = await self._post_start(pod, spec, started, sandbox, post_start)
            if failure is not None:
                state.reasons[name] = ("PostStartHookError", failure)
                return max(self.backoff.remaining(key), 1.0)
        state.reasons.pop(name, None)
        if self.metrics is not None:
            self.metrics.started_containers.labels(kind).inc()
        self.recorder.pod_event(pod, "Started", f"Started container {name}", container=name, init=init)
        if started is not None and started.log_path:
            await asyncio.to_thread(self._link_log, pod, name, restart_count, started.log_path)
        return None

    async def _post_start(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        started: RuntimeContainer,
        sandbox: RuntimeContainer,
        handler: dict[str, Any],
    ) -> str | None:
        """Run postStart right after the start; if it fails, kill the container (as the kubelet does)."""
        pod_ip = self._pod_ip(pod, sandbox)
        outcome = await self._run_hook(
            pod, started, handler, "PostStart", pod.grace_period or MINIMUM_GRACE, pod_ip
        )
        if outcome.ok:
            return None
        self.recorder.pod_event(
            pod,
            "Killing",
            f"FailedPostStartHook: Container {spec['name']} will be killed",
            container=spec["name"],
        )
        await self.stop_container(pod, started, pod_ip=pod_ip, announce=False)
        return f"PostStartHook failed: {outcome.message[:300]}"

    def _pod_ip(self, pod: StaticPod | None, sandbox: RuntimeContainer | None) -> str:
        if pod is not None and pod.spec.get("hostNetwork"):
            return self.node.host_ip
        return sandbox.ip if sandbox is not None else ""

    def _retry_delay(self, pod: StaticPod, spec: dict[str, Any], reason: str) -> float:
        if reason == "ErrImagePull":
            return 1.0  # look again soon: the status then moves on to ImagePullBackOff, as kubectl shows it
        if reason == "ImagePullBackOff":
            return max(self.image_backoff.remaining(f"{pod.uid}_{spec['image']}"), 0.5)
        if reason in _CREATE_ERRORS:
            return self.backoff.next(self._container_key(pod, spec))
        return max(self.backoff.remaining(self._container_key(pod, spec)), 1.0)

    @staticmethod
    def _container_key(pod: StaticPod, spec: dict[str, Any]) -> str:
        """The back-off key of a container (``getStableKey``): a changed spec starts afresh."""
        return f"{pod.name}_{pod.namespace}_{pod.uid}_{spec['name']}_{L.container_hash(spec)}"

    async def _ensure_image(
        self, pod: StaticPod, spec: dict[str, Any] | None, image: str, policy: str
    ) -> None:
        """``EnsureImageExists``: honour the pull policy, back off failed pulls per pod and image."""
        container = spec["name"] if spec else None
        present = await self.runtime.inspect_image(image) if policy != "Always" else None
        if present is not None:
            if spec is not None:
                self.recorder.pod_event(
                    pod,
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    container=container,
                )
            return
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.recorder.pod_event(pod, "ErrImageNeverPull", message, type=WARNING, container=container)
            raise RuntimeError_("ErrImageNeverPull", message)
        key = f"{pod.uid}_{image}"
        if self.image_backoff.remaining(key) > 0:
            message = f'Back-off pulling image "{image}"'
            self.recorder.pod_event(pod, "BackOff", message, container=container)
            raise RuntimeError_("ImagePullBackOff", message)
        self.recorder.pod_event(pod, "Pulling", f'Pulling image "{image}"', container=container)
        started = time.monotonic()
        try:
            await self.runtime.pull(image)
        except RuntimeError_ as exc:
            self.image_backoff.next(key)
            self.recorder.pod_event(
                pod,
                "Failed",
                f'Failed to pull image "{image}": {exc.message}',
                type=WARNING,
                container=container,
            )
            self.recorder.pod_event(pod, "Failed", "Error: ErrImagePull", type=WARNING, container=container)
            raise
        self.image_backoff.reset(key)
        self.recorder.pod_event(
            pod,
            "Pulled",
            f'Successfully pulled image "{image}" in {time.monotonic() - started:.3f}s',
            container=container,
        )

    def _container_config(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        kind: str,
        sandbox: RuntimeContainer,
        restart_count: int,
        binds: list[str],
    ) -> dict[str, Any]:
        """The container's Docker config, from its spec (``generateContainerConfig``)."""
        pod_spec = pod.spec
        env = self._environment(pod, spec, sandbox)
        command = [expand(str(a), env) for a in spec.get("command") or []]
        args = [expand(str(a), env) for a in spec.get("args") or []]
        security = {**(pod_spec.get("securityContext") or {}), **(spec.get("securityContext") or {})}
        resources = spec.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        cpu_request = requests.get("cpu", limits.get("cpu"))
        host_network = bool(pod_spec.get("hostNetwork"))
        qos = pod_qos(pod_spec)
        memory_request = memory_bytes(requests["memory"]) if "memory" in requests else 0
        capabilities = security.get("capabilities") or {}
        termination_file = self._termination_file(pod, spec["name"], restart_count)
        host = self.runtime.host_config(
            network_mode=f"container:{sandbox.id}",
            ipc_mode=f"container:{sandbox.id}",
            pid_mode="host"
            if pod_spec.get("hostPID")
            else (f"container:{sandbox.id}" if pod_spec.get("shareProcessNamespace") else None),
            uts_mode="host" if host_network else None,
            binds=[*binds, f"{termination_file}:{spec['terminationMessagePath']}"],
            cpu_shares=max(MIN_SHARES, cpu_millis(cpu_request) * 1024 // 1000) if cpu_request else MIN_SHARES,
            cpu_period=CPU_PERIOD if "cpu" in limits else None,
            cpu_quota=max(MIN_QUOTA, cpu_millis(limits["cpu"]) * CPU_PERIOD // 1000)
            if "cpu" in limits
            else None,
            mem_limit=memory_bytes(limits["memory"]) if "memory" in limits else None,
            memswap_limit=memory_bytes(limits["memory"]) if "memory" in limits else None,
            oom_score_adj=self._oom_score(oom_score_adj(qos, memory_request, self.node.memory_capacity)),
            privileged=bool(security.get("privileged")),
            read_only=bool(security.get("readOnlyRootFilesystem")),
            security_opt=["no-new-privileges"] if security.get("allowPrivilegeEscalation") is False else None,
            cap_add=capabilities.get("add") or None,
            cap_drop=capabilities.get("drop") or None,
            group_add=[
                str(g) for g in (pod_spec.get("securityContext") or {}).get("supplementalGroups") or []
            ]
            or None,
        )
        user = None
        if security.get("runAsUser") is not None:
            user = str(security["runAsUser"])
            if security.get("runAsGroup") is not None:
                user += f":{security['runAsGroup']}"
        return {
            "name": container_name(spec["name"], pod.name, pod.namespace, pod.uid, restart_count),
            "image": spec["image"],
            "labels": L.container_labels(
                pod,
                spec,
                node=self.runtime.node,
                sandbox_id=sandbox.id,
                restart_count=restart_count,
                kind=kind,
                log_path=self._log_path(pod, spec["name"], restart_count),
            ),
            "host_config": host,
            "entrypoint": command or None,
            "command": args or ([] if command else None),
            "environment": env,
            "working_dir": spec.get("workingDir") or None,
            "user": user,
            "tty": bool(spec.get("tty")),
            "stdin_open": bool(spec.get("stdin")),
        }

    def _environment(self, pod: StaticPod, spec: dict[str, Any], sandbox: RuntimeContainer) -> dict[str, str]:
        """Env in order, each value expanded against the ones before it (``makeEnvironmentVariables``)."""
        env: dict[str, str] = {}
        pod_ip = self.node.host_ip if pod.spec.get("hostNetwork") else sandbox.ip
        for item in spec.get("env") or []:
            if item.get("valueFrom") is not None:  # ``valueFrom: null`` is absent, as the API server reads it
                env[item["name"]] = self._env_from(pod, spec, item["valueFrom"], pod_ip)
            else:
                env[item["name"]] = expand(str(item.get("value", "")), env)
        return env

    def _env_from(self, pod: StaticPod, spec: dict[str, Any], source: dict[str, Any], pod_ip: str) -> str:
        if "fieldRef" in source:
            return field_ref_value(pod, source["fieldRef"]["fieldPath"], pod_ip, self.node.host_ip)
        ref = source.get("resourceFieldRef") or {}
        resource = ref.get("resource", "")
        section, _, name = resource.partition(".")
        value = ((spec.get("resources") or {}).get(section) or {}).get(name)
        divisor = ref.get("divisor") or "1"
        if not (cpu_millis(divisor) if name == "cpu" else memory_bytes(divisor)):
            divisor = "1"  # "0" means unset, as upstream
        if name == "cpu":
            total = cpu_millis(value) if value else self.node.cpu_count * 1000
            return str(max(1, -(-total // cpu_millis(divisor))))
        total = memory_bytes(value) if value else self.node.memory_capacity
        return str(-(-total // max(memory_bytes(divisor), 1)))

    def _binds(self, pod: StaticPod, spec: dict[str, Any], pod_volumes: volumes.PodVolumes) -> list[str]:
        """Docker binds for the container's volumeMounts (blocking: a subPath is a pinned bind mount)."""
        binds = []
        for index, mount in enumerate(spec.get("volumeMounts") or []):
            source = pod_volumes.paths[mount["name"]]
            if mount.get("subPath"):
                pod_dir = volumes.pod_dir(self.settings.root_dir, pod.uid)
                source = subpath.prepare(
                    source, mount["subPath"], pod_dir, mount["name"], spec["name"], index
                )
            mode = "ro" if mount.get("readOnly") else "rw"
            binds.append(f"{source}:{mount['mountPath']}:{mode}")
        return binds

    def _termination_file(self, pod: StaticPod, name: str, restart_count: int) -> str:
        """The host file bind-mounted at terminationMessagePath, one per container instance."""
        directory = safepath.beneath(volumes.pod_dir(self.settings.root_dir, pod.uid), "containers", name)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{restart_count:08x}"
        path.touch(mode=0o666, exist_ok=True)
        os.chmod(path, 0o666)
        return str(path)

    def termination_message(self, uid: str, name: str, restart_count: int) -> str:
        try:
            path = safepath.beneath(
                volumes.pod_dir(self.settings.root_dir, uid), "containers", name, f"{restart_count:08x}"
            )
            with open(path, "rb") as fh:
                return fh.read(4096).decode(errors="replace")
        except (OSError, safepath.UnsafePathError):
            return ""

    def _pod_log_dir(self, pod: StaticPod) -> str:
        name = f"{pod.namespace}_{pod.name}_{safepath.check_uid(pod.uid)}"
        return str(safepath.beneath(self.settings.pod_logs_dir, name))

    def _log_path(self, pod: StaticPod, name: str, restart_count: int) -> str:
        return os.path.join(self._pod_log_dir(pod), name, f"{restart_count}.log")

    def _link_log(self, pod: StaticPod, name: str, restart_count: int, target: str) -> None:
        """``/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log`` -> Docker's JSON log, as dockershim did."""
        try:
            link = self._log_path(pod, name, restart_count)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(target, link)
        except Exception as exc:  # a missing log link must never fail a pod
            log.debug("could not link the container log: %s", exc, extra={"pod": str(pod), "container": name})

    async def _collect_garbage(self, by_name: dict[str, list[RuntimeContainer]], started: set[str]) -> None:
        """Keep the newest instance and the one before it (its ``lastState``); remove older dead ones.

        ``by_name`` was listed before this sync started the containers in ``started``: for those, the
        new instance is the newest, so only the first listed one is still worth keeping.
        """
        for name, instances in by_name.items():
            for old in instances[1 if name in started else 2 :]:
                if not old.running:
                    await self.runtime.remove(old.id)

    # -- KillPod -------------------------------------------------------------------------------------

    async def kill_pod(self, uid: str, pod: StaticPod | None, grace: int | None = None) -> None:
        """Stop every container of the pod (preStop first, with the grace period), then remove it all."""
        containers = await self.runtime.list_pod_containers(uid)
        await self._kill_containers(pod, containers, grace)
        # Every app container has stopped: now the infra container goes, with the same forced remove as
        # the others rather than stop-then-remove (pause only holds the namespaces; a grace period would
        # change nothing for it, and it saves a Docker call per pod).
        await asyncio.gather(*(self.runtime.remove(c.id) for c in containers))
        root = self.settings.root_dir
        await asyncio.to_thread(volumes.teardown, root, uid)
        await asyncio.to_thread(self._remove_logs, containers)
        self.states.pop(uid, None)
        self.backoff.forget_prefix(f"{pod.name}_{pod.namespace}_{uid}_" if pod else "\0")
        self.image_backoff.forget_prefix(f"{uid}_")

    def _remove_logs(self, containers: list[RuntimeContainer]) -> None:
        """Delete the pods' ``/var/log/pods`` directories named by the containers' log-path labels.

        Labels are runtime state anyone with the Docker socket can write, so a label only names a
        directory to delete when it is ``<pod-logs-dir>/<ns>_<name>_<uid>/<container>/<n>.log`` exactly.
        """
        found = {_pod_logs_of(self.settings.pod_logs_dir, c.labels.get(L.LOG_PATH)) for c in containers}
        for directory in (d for d in found if d is not None):
            if directory.is_symlink():
                directory.unlink(missing_ok=True)
            else:
                shutil.rmtree(directory, ignore_errors=True)

    async def _kill_containers(
        self, pod: StaticPod | None, containers: list[RuntimeContainer], grace: int | None = None
    ) -> None:
        running = [c for c in containers if not c.is_sandbox and c.running]
        sandbox = latest_sandbox(containers)
        pod_ip = self._pod_ip(pod, sandbox)
        await asyncio.gather(*(self.stop_container(pod, c, grace, pod_ip=pod_ip) for c in running))

    async def stop_container(
        self,
        pod: StaticPod | None,
        container: RuntimeContainer,
        grace: int | None = None,
        *,
        pod_ip: str = "",
        announce: bool = True,
    ) -> None:
        """``killContainer``: the preStop hook first (it uses up part of the grace), then docker stop."""
        if grace is None:
            try:
                grace = int(L.annotation(container.labels, L.GRACE_PERIOD, "30"))
            except ValueError:
                grace = 30
        grace = max(grace, MINIMUM_GRACE)
        if pod is not None and announce:
            self.recorder.pod_event(
                pod,
                "Killing",
                f"Stopping container {container.name}",
                container=container.name,
                init=container.kind == "init",
            )
        started = time.monotonic()
        handler = L.annotation(container.labels, L.PRESTOP_HANDLER)
        if handler:
            await self._run_hook(pod, container, json.loads(handler), "PreStop", grace, pod_ip)
        remaining = max(int(grace - (time.monotonic() - started)), MINIMUM_GRACE)
        await self.runtime.stop(container.id, remaining)

    async def _run_hook(
        self,
        pod: StaticPod | None,
        container: RuntimeContainer,
        handler: dict[str, Any],
        hook: str,
        timeout: float,
        pod_ip: str,
    ) -> actions.Outcome:
        """Run a postStart or preStop handler; a failure is an event, and never blocks the kill."""
        spec = (
            next((c for c in (pod.spec.get("containers") or []) if c["name"] == container.name), {})
            if pod
            else {}
        )
        outcome = await actions.run(
            handler,
            runtime=self.runtime,
            container_id=container.id,
            container=spec,
            pod_ip=pod_ip or container.ip,
            timeout=timeout,
        )
        if not outcome.ok and pod is not None:
            self.recorder.pod_event(
                pod,
                f"Failed{hook}Hook",
                f"{hook}Hook failed: {outcome.message[:300]}",
                type=WARNING,
                container=container.name,
            )
        return outcome


def field_ref_value(pod: StaticPod, path: str, pod_ip: str, host_ip: str) -> str:
    """The downward API value of a ``fieldRef`` (``podFieldSelectorRuntimeValue``)."""
    meta = pod.metadata
    simple = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "metadata.uid": pod.uid,
        "spec.nodeName": pod.spec.get("nodeName", ""),
        "spec.serviceAccountName": pod.spec.get("serviceAccountName", ""),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
    }
    if path in simple:
        return simple[path]
    for key in ("labels", "annotations"):
        values = {str(k): str(v) for k, v in (meta.get(key) or {}).items()}
        if path == f"metadata.{key}":
            return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
        prefix = f"metadata.{key}['"
        if path.startswith(prefix) and path.endswith("']"):
            return values.get(path[len(prefix) : -2], "")
    return ""


def _pod_logs_of(pod_logs_dir: str, log_path: str | None) -> Path | None:
    """The pod's log directory that ``log_path`` (a label) lies in, if it is one of ours; else None."""
    if not log_path:
        return None
    candidate = Path(log_path).parent.parent
    if os.path.normpath(candidate.parent) != os.path.normpath(pod_logs_dir):
        log.warning("Not deleting logs outside --pod-logs-dir named by a container label: %s", log_path)
        return None
    if not safepath.is_valid_uid(candidate.name.rpartition("_")[2]):
        return None
    try:
        return safepath.beneath(pod_logs_dir, candidate.name)
    except safepath.UnsafePathError as exc:
        log.warning("Not deleting logs named by a container label: %s", exc)
        return None


def _port_bindings(spec: dict[str, Any]) -> tuple[list[tuple[int, str]], dict[str, list[tuple[str, int]]]]:
    """hostPorts become port bindings on the sandbox (``MakePortsAndBindings``)."""
    ports: list[tuple[int, str]] = []
    bindings: dict[str, list[tuple[str, int]]] = {}
    if spec.get("hostNetwork"):
        return ports, bindings
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            host_port = port.get("hostPort")
            if not host_port:
                continue
            protocol = port.get("protocol", "TCP").lower()
            ports.append((port["containerPort"], protocol))
            bindings.setdefault(f"{port['containerPort']}/{protocol}", []).append(
                (port.get("hostIP") or "0.0.0.0", host_port)
            )
    return ports, bindings
