"""The CRI runtime: pykubelet as containerd's CRI client, implementing :class:`pykubelet.runtime.api.Runtime`.

This is the kubelet of today (1.24 on): no Docker in sight, every sandbox and container made with CRI
v1 calls over gRPC, the way ``pkg/kubelet/kuberuntime`` makes them. The differences from the Docker
runtime a learner will notice:

- the sandbox is the runtime's business: ``RunPodSandbox`` makes the pause container and the network
  namespace, and the runtime's CNI plugins give it its IP (``PodSandboxStatus.network.ip``);
- the runtime writes each container's log where the kubelet says (``log_directory`` + ``log_path``), in
  the CRI log format, so there is no symlink under /var/log/pods;
- labels and annotations are two separate maps (Docker had one, with an ``annotation.`` prefix).

Listings are filtered by the ``io.pykubelet.node`` label, so several agents (and tests) share one
containerd. ``ContainerStatus`` / ``PodSandboxStatus`` answers are cached by (id, state), as the Docker
runtime caches inspects: a container's status cannot change while its state does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timezone

from cri_api.v1 import api_pb2 as pb

from pykubelet.runtime import labels as L
from pykubelet.runtime.api import (
    Container,
    ContainerConfig,
    ContainerEvent,
    ContainerStats,
    Image,
    RuntimeError_,
    SandboxConfig,
    Summary,
)
from pykubelet.runtime.cri import convert
from pykubelet.runtime.cri.client import CriClient, CriError, NotFound, Unreachable
from pykubelet.runtime.cri.events import container_events

log = logging.getLogger("pykubelet.runtime")

STOP_MARGIN = 30.0  # a stop's deadline: the grace period, plus this for the runtime's own work
PULL_TIMEOUT = 600.0


class CriRuntime:
    """Talks CRI v1 to one runtime endpoint on behalf of one node."""

    type = "containerd"

    def __init__(self, endpoint: str, node: str) -> None:
        self.endpoint = endpoint
        self.node = node
        self.on_operation: Callable[[str, float, bool], None] | None = None
        self.client = CriClient(endpoint, lambda: self.on_operation)
        self._status_cache: dict[str, tuple[str, Container]] = {}
        self._sandbox_configs: dict[str, pb.PodSandboxConfig] = {}
        self._image_cache: dict[str, Image] = {}

    def close(self) -> None:
        self.client.close()

    # -- the runtime itself --------------------------------------------------------------------------

    async def version(self) -> dict[str, str]:
        """``Version``: the runtime's name and version, and the CRI version it speaks."""
        answer = await self.client.call("Version", pb.VersionRequest(version="v1"), pb.VersionResponse)
        return {
            "runtimeName": answer.runtime_name,
            "runtimeVersion": answer.runtime_version,
            "runtimeApiVersion": answer.runtime_api_version,
        }

    async def check_health(self, timeout: float) -> tuple[bool, str]:
        """``Status``: RuntimeReady and NetworkReady, as the kubelet's ``updateRuntimeUp`` reads them."""
        try:
            answer = await self.client.call(
                "Status", pb.StatusRequest(), pb.StatusResponse, timeout=max(timeout, 0.5)
            )
        except (Unreachable, CriError, TimeoutError) as exc:
            return False, str(exc)
        problems = [
            f"{c.type} is false: {c.reason} {c.message}".strip()
            for c in answer.status.conditions
            if c.type in ("RuntimeReady", "NetworkReady") and not c.status
        ]
        if problems:
            return False, f"{self.endpoint}: " + "; ".join(problems)
        return True, ""

    # -- reading -------------------------------------------------------------------------------------

    def _selector(self, uid: str | None) -> dict[str, str]:
        selector = {L.NODE: self.node}
        if uid:
            selector[L.POD_UID] = uid
        return selector

    async def _list(self, uid: str | None) -> tuple[list[pb.PodSandbox], list[pb.Container]]:
        selector = self._selector(uid)
        sandboxes, containers = await asyncio.gather(
            self.client.call(
                "ListPodSandbox",
                pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(label_selector=selector)),
                pb.ListPodSandboxResponse,
            ),
            self.client.call(
                "ListContainers",
                pb.ListContainersRequest(filter=pb.ContainerFilter(label_selector=selector)),
                pb.ListContainersResponse,
            ),
        )
        return list(sandboxes.items), list(containers.containers)

    async def list_pod_containers(self, uid: str | None = None) -> list[Container]:
        """Sandboxes and containers of this node (or of one pod), newest first, with their statuses."""
        sandboxes, containers = await self._list(uid)
        found = await asyncio.gather(
            *(
                self._sandbox_status(s.id, "running" if s.state == pb.SANDBOX_READY else "exited")
                for s in sandboxes
            ),
            *(
                self._container_status(c.id, convert.container_summary_state(c), c.pod_sandbox_id)
                for c in containers
            ),
        )
        records = [r for r in found if r is not None]
        records.sort(key=lambda r: r.created_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
        return records

    async def list_summaries(self) -> list[Summary]:
        """``ListPodSandbox`` + ``ListContainers`` for this node, no statuses: the PLEG's cheap relist."""
        sandboxes, containers = await self._list(None)
        summaries = [convert.sandbox_summary(s) for s in sandboxes]
        summaries += [convert.container_summary(c) for c in containers]
        return [s for s in summaries if s is not None]

    def forget(self, container_id: str) -> None:
        self._status_cache.pop(container_id, None)

    async def container_status(self, container_id: str) -> Container | None:
        return await self._container_status(container_id, "", "")

    def _cached(self, object_id: str, state: str) -> Container | None:
        cached = self._status_cache.get(object_id)
        return cached[1] if cached and state and cached[0] == state else None

    def _remember(self, record: Container | None) -> Container | None:
        if record is not None and record.state in ("running", "exited"):
            self._status_cache[record.id] = (record.state, record)
        return record

    async def _container_status(self, container_id: str, state: str, sandbox_id: str) -> Container | None:
        cached = self._cached(container_id, state)
        if cached is not None:
            return cached
        try:
            answer = await self.client.call(
                "ContainerStatus",
                pb.ContainerStatusRequest(container_id=container_id, verbose=True),
                pb.ContainerStatusResponse,
            )
        except NotFound:
            return None
        info = convert.verbose_info(answer.info)
        return self._remember(convert.container_record(answer.status, info, sandbox_id))

    async def _sandbox_status(self, sandbox_id: str, state: str) -> Container | None:
        cached = self._cached(sandbox_id, state)
        if cached is not None:
            return cached
        try:
            answer = await self.client.call(
                "PodSandboxStatus",
                pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id, verbose=True),
                pb.PodSandboxStatusResponse,
            )
        except NotFound:
            return None
        info = convert.verbose_info(answer.info)
        if sandbox_id not in self._sandbox_configs:
            config = convert.parse_sandbox_config(info)
            if config is not None:
                self._sandbox_configs[sandbox_id] = config
        return self._remember(convert.sandbox_record(answer.status, info))

    def events(self) -> AsyncIterator[ContainerEvent]:
        """``connected``, then GetContainerEvents where the runtime has it, else a 1 s poll (events.py)."""
        return container_events(self.client, self.node, self.list_summaries)

    # -- images --------------------------------------------------------------------------------------

    async def image_status(self, ref: str) -> Image | None:
        answer = await self.client.call(
            "ImageStatus",
            pb.ImageStatusRequest(image=pb.ImageSpec(image=ref)),
            pb.ImageStatusResponse,
            image=True,
        )
        if not answer.HasField("image") or not answer.image.id:
            return None
        found = convert.image(answer.image)
        self._image_cache[found.id] = found
        self._image_cache[ref] = found  # a container's image_ref may be a digest reference, not the id
        return found

    def cached_image(self, image_id: str) -> Image | None:
        return self._image_cache.get(image_id)

    async def image_fs_mountpoint(self) -> str:
        """``ImageFsInfo``: the snapshotter's directory, where images and writable layers live."""
        answer = await self.client.call(
            "ImageFsInfo", pb.ImageFsInfoRequest(), pb.ImageFsInfoResponse, image=True
        )
        return next((fs.fs_id.mountpoint for fs in answer.image_filesystems if fs.fs_id.mountpoint), "")

    async def list_container_stats(self, container_ids: Sequence[str]) -> dict[str, ContainerStats]:
        """``ListContainerStats`` of this node's containers: the writable layer the snapshotter measured."""
        answer = await self.client.call(
            "ListContainerStats",
            pb.ListContainerStatsRequest(filter=pb.ContainerStatsFilter(label_selector=self._selector(None))),
            pb.ListContainerStatsResponse,
        )
        wanted = set(container_ids)
        found: dict[str, ContainerStats] = {}
        for stats in answer.stats:
            if stats.attributes.id in wanted and stats.HasField("writable_layer"):
                layer = stats.writable_layer
                inodes = layer.inodes_used.value if layer.HasField("inodes_used") else None
                cid = stats.attributes.id
                found[cid] = ContainerStats(cid, layer.used_bytes.value, inodes)
        return found

    async def pull_image(self, ref: str) -> None:
        """``PullImage``; a failure is ErrImagePull with the runtime's words (the kubelet's ``pullImage``)."""
        try:
            await self.client.call(
                "PullImage",
                pb.PullImageRequest(image=pb.ImageSpec(image=ref)),
                pb.PullImageResponse,
                image=True,
                timeout=PULL_TIMEOUT,
            )
        except (CriError, NotFound, TimeoutError) as exc:
            raise RuntimeError_("ErrImagePull", str(exc)) from exc

    # -- sandboxes -----------------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: SandboxConfig) -> Container:
        """``RunPodSandbox`` (pause container, network namespace, CNI), then its status.

        The kubelet makes the pod's log directory first (``createPodSandbox``); the runtime makes each
        container's directory under it. A name left reserved by an agent killed between the call and its
        answer is ours: that sandbox is removed and the call made again.
        """
        request = convert.sandbox_config(config)
        if config.log_directory:
            await asyncio.to_thread(os.makedirs, config.log_directory, 0o755, True)
        try:
            sandbox_id = await self._run_sandbox(request, config)
        except CriError as exc:
            raise RuntimeError_("CreatePodSandboxError", exc.details) from exc
        self._sandbox_configs[sandbox_id] = request
        created = await self._sandbox_status(sandbox_id, "")
        if created is None:
            raise RuntimeError_(
                "CreatePodSandboxError", f"sandbox {sandbox_id[:13]} vanished after it started"
            )
        return created

    async def _run_sandbox(self, request: pb.PodSandboxConfig, config: SandboxConfig) -> str:
        for attempt in range(2):
            try:
                answer = await self.client.call(
                    "RunPodSandbox", pb.RunPodSandboxRequest(config=request), pb.RunPodSandboxResponse
                )
                return answer.pod_sandbox_id
            except CriError as exc:
                if attempt or "is reserved" not in exc.details:
                    raise
                for leftover in (await self._list(config.uid))[0]:
                    if leftover.metadata.attempt == config.attempt:
                        await self.remove_pod_sandbox(leftover.id)
        raise AssertionError("unreachable")

    async def stop_pod_sandbox(self, sandbox_id: str, grace: int) -> None:
        """``StopPodSandbox``: the containers were stopped with their grace first; this kills what is left
        and tears the network down (CNI DEL)."""
        with contextlib.suppress(NotFound):
            await self.client.call(
                "StopPodSandbox",
                pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id),
                pb.StopPodSandboxResponse,
                timeout=grace + STOP_MARGIN,
            )
        self.forget(sandbox_id)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        """``RemovePodSandbox`` (its containers go with it); a running one is stopped first, as CRI asks."""
        with contextlib.suppress(NotFound):
            try:
                await self._remove_sandbox(sandbox_id)
            except CriError as exc:
                if "stop" not in exc.details.lower():  # "sandbox container ... is not fully stopped"
                    raise
                await self.stop_pod_sandbox(sandbox_id, 0)
                await self._remove_sandbox(sandbox_id)
        self.forget(sandbox_id)
        self._sandbox_configs.pop(sandbox_id, None)

    async def _remove_sandbox(self, sandbox_id: str) -> None:
        await self.client.call(
            "RemovePodSandbox",
            pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id),
            pb.RemovePodSandboxResponse,
        )

    # -- containers ----------------------------------------------------------------------------------

    async def create_container(self, sandbox: Container, config: ContainerConfig) -> str:
        """``CreateContainer`` in ``sandbox``, with the sandbox config it was made with."""
        sandbox_config = self._sandbox_configs.get(sandbox.id)
        if sandbox_config is None:
            await self._sandbox_status(sandbox.id, "")  # reads the config back from the runtime
            sandbox_config = self._sandbox_configs.get(sandbox.id) or convert.minimal_sandbox_config(sandbox)
        request = convert.container_request(sandbox.id, sandbox_config, config)
        for attempt in range(2):
            try:
                answer = await self.client.call("CreateContainer", request, pb.CreateContainerResponse)
                return answer.container_id
            except (CriError, NotFound) as exc:
                details = str(exc)
                if attempt or "is reserved" not in details:
                    raise RuntimeError_("CreateContainerError", details) from exc
                await self._remove_leftover(sandbox, config)
        raise AssertionError("unreachable")

    async def _remove_leftover(self, sandbox: Container, config: ContainerConfig) -> None:
        """Remove the container whose name (pod, name, attempt) a killed agent left reserved."""
        for listed in (await self._list(sandbox.pod_uid))[1]:
            same = listed.metadata.name == config.name and listed.metadata.attempt == config.attempt
            if same and listed.pod_sandbox_id == sandbox.id:
                await self.remove_container(listed.id)

    async def start_container(self, container_id: str) -> None:
        try:
            await self.client.call(
                "StartContainer",
                pb.StartContainerRequest(container_id=container_id),
                pb.StartContainerResponse,
            )
        except (CriError, NotFound) as exc:
            raise RuntimeError_("RunContainerError", str(exc)) from exc
        finally:
            self.forget(container_id)

    async def stop_container(self, container_id: str, grace: int) -> None:
        """``StopContainer`` with ``timeout = grace``: the image's stop signal, SIGKILL after the grace."""
        with contextlib.suppress(NotFound):
            await self.client.call(
                "StopContainer",
                pb.StopContainerRequest(container_id=container_id, timeout=max(grace, 0)),
                pb.StopContainerResponse,
                timeout=max(grace, 0) + STOP_MARGIN,
            )
        self.forget(container_id)

    async def remove_container(self, container_id: str) -> None:
        with contextlib.suppress(NotFound):
            await self.client.call(
                "RemoveContainer",
                pb.RemoveContainerRequest(container_id=container_id),
                pb.RemoveContainerResponse,
            )
        self.forget(container_id)

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> tuple[int, str]:
        """``ExecSync`` (hooks, exec probes): (exit code, stdout then stderr).

        The runtime enforces ``timeout`` (whole seconds, at least 1); the gRPC deadline is a little longer
        so its own timeout answer arrives first. Raises TimeoutError when the command outlives it.
        """
        seconds = max(math.ceil(timeout), 1)
        try:
            answer = await self.client.call(
                "ExecSync",
                pb.ExecSyncRequest(container_id=container_id, cmd=command, timeout=seconds),
                pb.ExecSyncResponse,
                timeout=seconds + 5,
            )
        except CriError as exc:
            if "timeout" in exc.details and "exceeded" in exc.details:
                raise TimeoutError(f"command timed out after {timeout:g}s") from None
            raise
        except TimeoutError:
            raise TimeoutError(f"command timed out after {timeout:g}s") from None
        output = answer.stdout + answer.stderr
        return answer.exit_code, output.decode(errors="replace")
