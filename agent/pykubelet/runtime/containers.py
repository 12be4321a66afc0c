"""``startContainer`` and ``killContainer`` (``kuberuntime_container.go``): one container at a time.

Starting is: the image (pull policy and back-off), the mounts (volumes, safe subPaths, the termination-
message file), the config (``configs.container_config``), create, start, postStart, the
``/var/log/pods`` link. Stopping is: preStop inside the grace period, then the runtime's stop with what
is left of it (at least the kubelet's 2 s minimum). Failures become the kubelet's waiting reasons
(CreateContainerConfigError, ErrImagePull, CrashLoopBackOff ...) kept per pod for the status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pykubelet import podlogs, safepath, subpath, volumes
from pykubelet.events import WARNING, Recorder
from pykubelet.lifecycle import actions
from pykubelet.lifecycle.backoff import Backoff, format_duration
from pykubelet.manifest import StaticPod
from pykubelet.node import Node
from pykubelet.runtime import configs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container, Mount, Runtime, RuntimeError_
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.images import ImageManager

if TYPE_CHECKING:
    from pykubelet.metrics import Metrics

log = logging.getLogger("pykubelet.kuberuntime")

MINIMUM_GRACE = 2  # minimumGracePeriodInSeconds
MAX_TERMINATION_MESSAGE = 4096  # MaxContainerTerminationMessageLength
MAX_LOG_LINES = 80  # MaxContainerTerminationMessageLogLines
MAX_LOG_BYTES = 2048  # MaxContainerTerminationMessageLogLength
ETC_HOSTS = "/etc/hosts"
ETC_RESOLV_CONF = "/etc/resolv.conf"
HOSTS_FILE = "etc-hosts"  # the kubelet's name, under the pod directory
RESOLV_CONF_FILE = "resolv.conf"  # pykubelet's: dockershim rewrote the sandbox's own file instead
_CREATE_ERRORS = ("CreateContainerError", "CreateContainerConfigError")
_PULL_ERRORS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull")


@dataclass
class PodRuntimeState:
    """Per-pod facts the status needs that the runtime does not keep: the last failure of each container."""

    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)
    sandbox_error: tuple[str, str] | None = None


def is_init(pod: StaticPod | None, name: str) -> bool:
    """Whether ``name`` is one of the pod's init containers: the spec says so, as in the kubelet (no
    runtime label does; a container of a pod no longer known is treated as an app container)."""
    return pod is not None and any(c.get("name") == name for c in pod.spec.get("initContainers") or [])


def classify(pod: StaticPod | None, containers: list[Container]) -> list[Container]:
    """Set each listed container's kind from the pod spec (the runtime's records cannot know it)."""
    for container in containers:
        if not container.is_sandbox:
            container.kind = "init" if is_init(pod, container.name) else "container"
    return containers


def _falls_back_to_logs(container: Container) -> bool:
    """FallbackToLogsOnError applies to a failed container that ran (not ContainerCannotRun)."""
    return (
        container.state == "exited"
        and container.exit_code != 0
        and container.reason != "ContainerCannotRun"
        and container.annotations.get(L.TERMINATION_MESSAGE_POLICY) == "FallbackToLogsOnError"
    )


class ContainerRunner:
    """Starts and stops single containers of pods; :class:`~pykubelet.runtime.manager.RuntimeManager`
    decides which."""

    def __init__(
        self,
        runtime: Runtime,
        recorder: Recorder,
        node: Node,
        settings: Settings,
        metrics: Metrics | None = None,
    ) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.node = node
        self.settings = settings
        self.metrics = metrics
        self.backoff = Backoff()
        self.images = ImageManager(runtime, recorder)
        self.states: dict[str, PodRuntimeState] = {}
        # container id -> grace period of the probe that failed it: SyncPod kills those (computePodActions)
        self.liveness_failed: dict[str, int | None] = {}
        self._log_messages: dict[str, str] = {}  # container id -> its log tail (an exited container's)

    def state(self, uid: str) -> PodRuntimeState:
        return self.states.setdefault(uid, PodRuntimeState())

    # -- starting ------------------------------------------------------------------------------------

    async def start_container(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        kind: str,
        sandbox: Container,
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
            policy = spec.get("imagePullPolicy", "IfNotPresent")
            await self.images.ensure(pod, name, spec["image"], policy)
            await self._verify_non_root(pod, spec)
            ip = configs.pod_ip(pod.spec, self.node.host_ip, sandbox)
            mounts = await self._prepare_mounts(pod, spec, restart_count, pod_volumes, ip)
            config = configs.container_config(
                pod,
                spec,
                kind=kind,
                restart_count=restart_count,
                node=self.node,
                sandbox=sandbox,
                mounts=mounts,
                log_path=self._log_path(pod, name, restart_count),
            )
            container_id = await self.runtime.create_container(sandbox, config)
            self.recorder.pod_event(pod, "Created", f"Created container {name}", container=name, init=init)
            await self.runtime.start_container(container_id)
        except RuntimeError_ as exc:
            state.reasons[name] = (exc.reason, exc.message)
            if self.metrics is not None:
                self.metrics.started_container_errors.labels(kind, exc.reason).inc()
            if exc.reason not in _PULL_ERRORS:
                self.recorder.pod_event(
                    pod, "Failed", f"Error: {exc.message}", type=WARNING, container=name, init=init
                )
            return self._retry_delay(pod, spec, exc.reason)
        # One status read serves postStart (PID, IP), the log link and, cached, the status that follows.
        started = await self.runtime.container_status(container_id)
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

    async def _verify_non_root(self, pod: StaticPod, spec: dict[str, Any]) -> None:
        """runAsNonRoot against the image's user (``verifyRunAsNonRoot``): CreateContainerConfigError."""
        user = ""
        if configs.needs_image_user(pod.spec, spec):
            image = await self.runtime.image_status(spec["image"])
            user = image.user if image is not None else ""
        problem = configs.verify_run_as_non_root(pod, spec, user)
        if problem is not None:
            raise RuntimeError_("CreateContainerConfigError", problem)

    async def _prepare_mounts(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        restart_count: int,
        pod_volumes: volumes.PodVolumes,
        ip: str,
    ) -> tuple[Mount, ...]:
        """The container's mounts, made on disk off the loop; a problem is CreateContainerConfigError."""
        try:
            return await asyncio.to_thread(self._mounts, pod, spec, restart_count, pod_volumes, ip)
        except (subpath.SubPathError, safepath.UnsafePathError) as exc:
            raise RuntimeError_("CreateContainerConfigError", str(exc)) from exc
        except OSError as exc:  # the pod directory (--root-dir) is not writable, or the disk is full
            raise RuntimeError_(
                "CreateContainerConfigError",
                f"cannot prepare the container under {self.settings.root_dir}: {exc.strerror or exc}",
            ) from exc

    def _mounts(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        restart_count: int,
        pod_volumes: volumes.PodVolumes,
        ip: str,
    ) -> tuple[Mount, ...]:
        """``makeMounts``: each volumeMount (a subPath as a pinned bind mount), the pod's /etc/hosts
        (rewritten at each start, as the kubelet does, once the pod has an IP) and /etc/resolv.conf,
        unless the container mounts something there itself, then the termination file."""
        mounts = []
        for index, mount in enumerate(spec.get("volumeMounts") or []):
            source = pod_volumes.paths[mount["name"]]
            if mount.get("subPath"):
                pod_dir = volumes.pod_dir(self.settings.root_dir, pod.uid)
                source = subpath.prepare(
                    source, mount["subPath"], pod_dir, mount["name"], spec["name"], index
                )
            mounts.append(Mount(source, mount["mountPath"], bool(mount.get("readOnly"))))
        taken = {m.container_path for m in mounts}
        if ip and ETC_HOSTS not in taken:
            mounts.append(Mount(self._write_hosts_file(pod, ip), ETC_HOSTS))
        if ETC_RESOLV_CONF not in taken:
            resolv = volumes.pod_dir(self.settings.root_dir, pod.uid) / RESOLV_CONF_FILE
            if not resolv.exists():  # made with the sandbox; an agent upgrade may find it missing
                self.write_resolv_conf(pod)
            mounts.append(Mount(str(resolv), ETC_RESOLV_CONF))
        termination = self._termination_file(pod, spec["name"], restart_count)
        mounts.append(Mount(termination, spec["terminationMessagePath"]))
        return tuple(mounts)

    def _write_hosts_file(self, pod: StaticPod, ip: str) -> str:
        """``ensureHostsFile``: ``<pod dir>/etc-hosts``, 0644; a hostNetwork pod's copies the node's."""
        node_hosts = ""
        if pod.spec.get("hostNetwork"):
            node_hosts = Path(self.settings.hosts_file).read_text(errors="replace")
        text = configs.hosts_file(pod, ip, node_hosts)
        return str(volumes.write_pod_file(self.settings.root_dir, pod.uid, HOSTS_FILE, text))

    def write_resolv_conf(self, pod: StaticPod) -> configs.PodDNS:
        """The pod's resolver settings (``GetPodDNS``), written to ``<pod dir>/resolv.conf``."""
        try:
            host = Path(self.settings.resolv_conf).read_text(errors="replace")
        except OSError as exc:
            log.warning("Cannot read %s (%s): the pod gets no resolver settings from the host",
                        self.settings.resolv_conf, exc.strerror, extra={"pod": str(pod)})  # fmt: skip
            host = ""
        dns = configs.pod_dns(pod.spec, host)
        volumes.write_pod_file(self.settings.root_dir, pod.uid, RESOLV_CONF_FILE, dns.resolv_conf())
        return dns

    async def _post_start(
        self,
        pod: StaticPod,
        spec: dict[str, Any],
        started: Container,
        sandbox: Container,
        handler: dict[str, Any],
    ) -> str | None:
        """Run postStart right after the start; if it fails, kill the container (as the kubelet does)."""
        ip = configs.pod_ip(pod.spec, self.node.host_ip, sandbox)
        outcome = await self._run_hook(
            pod, started, handler, "PostStart", pod.grace_period or MINIMUM_GRACE, ip
        )
        if outcome.ok:
            return None
        self.recorder.pod_event(
            pod,
            "Killing",
            f"FailedPostStartHook: Container {spec['name']} will be killed",
            container=spec["name"],
        )
        await self.stop_container(pod, started, pod_ip=ip, announce=False)
        return f"PostStartHook failed: {outcome.message[:300]}"

    def crash_backoff(self, pod: StaticPod, spec: dict[str, Any], latest: Container) -> float:
        """``doBackOff``: seconds to wait before restarting a container that exited; 0 to go now."""
        key = self._container_key(pod, spec)
        finished = latest.finished_at.timestamp() if latest.finished_at else time.time()
        wait = self.backoff.in_backoff_since(key, finished)
        if wait <= 0:
            self.backoff.next(key)
            return 0.0
        delay = format_duration(self.backoff.get(key))
        full_name = f"{pod.name}_{pod.namespace}({pod.uid})"
        message = f"back-off {delay} restarting failed container={spec['name']} pod={full_name}"
        state = self.state(pod.uid)
        if state.reasons.get(spec["name"], ("",))[0] != "CrashLoopBackOff":
            self.recorder.pod_event(
                pod,
                "BackOff",
                f"Back-off restarting failed container {spec['name']} in pod {full_name}",
                type=WARNING,
                container=spec["name"],
            )
        state.reasons[spec["name"]] = ("CrashLoopBackOff", message)
        return wait

    def _retry_delay(self, pod: StaticPod, spec: dict[str, Any], reason: str) -> float:
        if reason == "ErrImagePull":
            return 1.0  # look again soon: the status then moves on to ImagePullBackOff, as kubectl shows it
        if reason == "ImagePullBackOff":
            return max(self.images.remaining(pod, spec["image"]), 0.5)
        if reason in _CREATE_ERRORS:
            return self.backoff.next(self._container_key(pod, spec))
        return max(self.backoff.remaining(self._container_key(pod, spec)), 1.0)

    @staticmethod
    def _container_key(pod: StaticPod, spec: dict[str, Any]) -> str:
        """The back-off key of a container (``getStableKey``): a changed spec starts afresh."""
        return f"{pod.name}_{pod.namespace}_{pod.uid}_{spec['name']}_{L.container_hash(spec)}"

    # -- files of a container: termination message, logs ---------------------------------------------

    def _termination_file(self, pod: StaticPod, name: str, restart_count: int) -> str:
        """The host file bind-mounted at terminationMessagePath, one per container instance."""
        directory = safepath.beneath(volumes.pod_dir(self.settings.root_dir, pod.uid), "containers", name)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{restart_count:08x}"
        path.touch(mode=0o666, exist_ok=True)
        os.chmod(path, 0o666)
        return str(path)

    def termination_message(
        self, uid: str, name: str, restart_count: int, container: Container | None = None
    ) -> str:
        """The message of an exited container (``getTerminationMessage``): the LAST 4096 bytes of its
        termination file, as the kubelet's ``tail.ReadAtMost`` keeps them. Given the container, and its
        ``terminationMessagePolicy`` is FallbackToLogsOnError, an empty file and a failure (not one that
        never ran) read the tail of its log instead: the last 80 lines, at most 2048 bytes of them."""
        try:
            path = safepath.beneath(
                volumes.pod_dir(self.settings.root_dir, uid), "containers", name, f"{restart_count:08x}"
            )
            message = podlogs.read_last_bytes(path, MAX_TERMINATION_MESSAGE).decode(errors="replace")
        except (OSError, safepath.UnsafePathError):
            message = ""
        if message or container is None or not _falls_back_to_logs(container):
            return message
        if container.id not in self._log_messages:
            self._log_messages[container.id] = self._log_tail(container)
        return self._log_messages[container.id]

    def _log_tail(self, container: Container) -> str:
        """``readLastStringFromContainerLogs``: via the ``/var/log/pods`` link, else the runtime's file."""
        candidates = [container.log_path]
        with contextlib.suppress(safepath.UnsafePathError):
            candidates.insert(0, str(self._kubelet_log(container)))
        for path in filter(None, candidates):
            try:
                return podlogs.tail(path, MAX_LOG_LINES, MAX_LOG_BYTES).decode(errors="replace")
            except OSError:
                continue
        return ""

    def _kubelet_log(self, container: Container) -> Path:
        return podlogs.container_log_path(
            self.settings.pod_logs_dir,
            container.namespace,
            container.pod_name,
            container.pod_uid,
            container.name,
            container.attempt,
        )

    def pod_log_dir(self, namespace: str, name: str, uid: str) -> Path:
        """``/var/log/pods/<ns>_<name>_<uid>``, checked to be one plain name under --pod-logs-dir."""
        return safepath.beneath(self.settings.pod_logs_dir, f"{namespace}_{name}_{safepath.check_uid(uid)}")

    def _log_path(self, pod: StaticPod, name: str, restart_count: int) -> str:
        logs_dir = self.settings.pod_logs_dir
        return str(
            podlogs.container_log_path(logs_dir, pod.namespace, pod.name, pod.uid, name, restart_count)
        )

    def _link_log(self, pod: StaticPod, name: str, restart_count: int, target: str) -> None:
        """``/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log`` -> the runtime's log, as dockershim did."""
        try:
            link = self._log_path(pod, name, restart_count)
            if link == target:  # the runtime writes the kubelet's path itself (CRI)
                return
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(target, link)
        except Exception as exc:  # a missing log link must never fail a pod
            log.debug("could not link the container log: %s", exc, extra={"pod": str(pod), "container": name})

    # -- stopping ------------------------------------------------------------------------------------

    async def stop_container(
        self,
        pod: StaticPod | None,
        container: Container,
        grace: int | None = None,
        *,
        pod_ip: str = "",
        announce: bool = True,
    ) -> None:
        """``killContainer``: the preStop hook first (it uses up part of the grace), then the runtime stop."""
        grace = max(L.grace_period(container.annotations) if grace is None else grace, MINIMUM_GRACE)
        if pod is not None and announce:
            self.recorder.pod_event(
                pod,
                "Killing",
                f"Stopping container {container.name}",
                container=container.name,
                init=is_init(pod, container.name),
            )
        started = time.monotonic()
        handler = container.annotations.get(L.PRESTOP_HANDLER)
        if handler:
            await self._run_hook(pod, container, json.loads(handler), "PreStop", grace, pod_ip)
        # ``killContainer``: the grace less the whole seconds preStop took (int(5 - 0.001) would be 4).
        remaining = max(grace - int(time.monotonic() - started), MINIMUM_GRACE)
        await self.runtime.stop_container(container.id, remaining)

    async def _run_hook(
        self,
        pod: StaticPod | None,
        container: Container,
        handler: dict[str, Any],
        hook: str,
        timeout: float,
        pod_ip: str,
    ) -> actions.Outcome:
        """Run a postStart or preStop handler; a failure is an event, and never blocks the kill."""
        specs = (pod.spec.get("containers") or []) if pod else []
        spec: dict[str, Any] = next((c for c in specs if c["name"] == container.name), {})
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
