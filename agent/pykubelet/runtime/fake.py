"""An in-memory :class:`~pykubelet.runtime.api.Runtime`: the unit tests' Docker.

The kubelet tests its runtime manager, pod workers and PLEG against ``container/testing/fake_runtime.go``
and the CRI's ``FakeRuntimeService`` rather than a real engine; httpx does the same with its
``MockTransport``. :class:`FakeRuntime` plays that part here. It keeps sandboxes and containers as the
runtime-neutral records, with the labels and annotations the agent wrote, so everything the agent reads
back (restart counts, spec hashes, preStop handlers) round-trips exactly as it does through Docker.

What it does on its own is what an engine does: ``create`` -> ``created``, ``start`` -> ``running``,
``stop`` -> ``exited``, ``remove`` -> gone, each with times, and an event (``die``, ``destroy``) on the
stream that :meth:`FakeRuntime.events` yields, the same events ``runtime/docker/convert.py`` lets through.
What goes wrong is a knob a test turns (all plain attributes, so a test reads as a sentence):

- ``fake.exit(ref, code)``: a running container (id or container name) exits; ``event=False`` makes the
  change silent, for the PLEG's relist to find;
- ``fake.crash_on_start[name] = code``: every instance of ``name`` exits right after it starts;
- ``fake.fail_start[name] = RuntimeError_(reason, message)``, likewise ``fail_create`` and
  ``fail_sandbox`` (a message): the call raises, as a bad command or a full disk does;
- ``fake.hang_on_stop.add(name)``: the container ignores SIGTERM; ``stop`` takes the whole grace period
  (scaled by ``grace_scale`` so tests stay fast) and the container is SIGKILLed (exit 137);
- ``fake.lose_sandbox(uid)``: the pod's sandbox dies (or is removed), as when the pause process is killed;
- ``fake.pull_errors[ref] = message``: pulling ``ref`` fails (ErrImagePull); ``fake.images`` holds what is
  present, anything else pulls fine;
- ``fake.exec_results[("cat", "/tmp/ready")] = (1, "no such file")``: what a command run by exec returns
  (default ``(0, "")``); ``exec_delay`` makes commands slow (a timeout raises TimeoutError);
- ``fake.writable_layer_bytes = n``: what :meth:`FakeRuntime.list_container_stats` says each container's
  writable layer holds (``image_fs`` is the image filesystem's directory, "" for unknown);
- ``fake.set_down("reason")``: the engine is gone: every call raises ConnectionError, ``check_health``
  says why, and an open event stream breaks; ``fake.set_up()`` brings it back.

Every call is recorded in ``fake.calls`` as ``(operation, args)``; :meth:`FakeRuntime.ops` and
:meth:`FakeRuntime.args` read them back, so a test can assert what the executor did and in which order.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

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

__all__ = ["DEFAULT_IMAGES", "FakeRuntime"]

DEFAULT_IMAGES = ("busybox:1.35", "nginx:1.22", "registry.k8s.io/pause:3.10")
SIGKILL_EXIT = 137


def _image(ref: str) -> Image:
    """A stable image record for ``ref`` (the id is a hash of the reference, as a digest would be)."""
    digest = hashlib.sha256(ref.encode()).hexdigest()
    name = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    return Image(id=f"sha256:{digest}", repo_tags=(ref,), repo_digests=(f"{name}@sha256:{digest}",), size=1)


class FakeRuntime:
    """The whole :class:`~pykubelet.runtime.api.Runtime` in memory; see the module docstring for knobs."""

    type = "fake"

    def __init__(
        self,
        node: str = "node-a",
        *,
        images: tuple[str, ...] = DEFAULT_IMAGES,
        endpoint: str = "fake://",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` stamps created/started/finished times: the tests' back-off clock, so that a crash
        "10 s ago" is 10 s ago for the crash-loop back-off too."""
        self.endpoint = endpoint
        self.node = node
        self.on_operation: Callable[[str, float, bool], None] | None = None
        self.containers: dict[str, Container] = {}  # by id: sandboxes and containers alike
        self.images: dict[str, Image] = {ref: _image(ref) for ref in images}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.closed = False
        # -- knobs
        self.crash_on_start: dict[str, int] = {}
        self.fail_create: dict[str, RuntimeError_] = {}
        self.fail_start: dict[str, RuntimeError_] = {}
        self.fail_sandbox: str | None = None
        self.hang_on_stop: set[str] = set()
        self.grace_scale = 0.001  # seconds slept per grace-period second by a container that hangs
        self.pull_errors: dict[str, str] = {}
        self.exec_results: dict[tuple[str, ...], tuple[int, str]] = {}
        self.exec_delay = 0.0
        self.down: str | None = None
        self.writable_layer_bytes = 4096
        self.image_fs = ""
        # -- internals
        self._ids = itertools.count(1)
        self._ips = itertools.count(2)
        self._clock = clock
        self._last_time = datetime.fromtimestamp(clock(), timezone.utc)
        self._subscribers: list[asyncio.Queue[ContainerEvent | BaseException]] = []

    # -- reading the record ----------------------------------------------------------------------------

    def ops(self, *names: str) -> list[str]:
        """The operations called so far, in order (only those in ``names`` when given)."""
        return [op for op, _ in self.calls if not names or op in names]

    def args(self, operation: str) -> list[tuple[Any, ...]]:
        """The arguments of every call of ``operation``, in order."""
        return [args for op, args in self.calls if op == operation]

    def pod(self, uid: str) -> list[Container]:
        """Everything of pod ``uid`` (no call recorded: this is the test looking, not the agent)."""
        return [c for c in self.containers.values() if c.pod_uid == uid]

    def find(self, ref: str) -> Container:
        """A container by id, or the newest non-sandbox container (or sandbox, ``"POD"``) named ``ref``."""
        if ref in self.containers:
            return self.containers[ref]
        named = [c for c in self.containers.values() if c.name == ref]
        if not named:
            raise KeyError(f"no container {ref!r} in the fake runtime")
        return max(named, key=lambda c: (c.attempt, c.created_at or self._last_time))

    # -- knobs that act ----------------------------------------------------------------------------------

    def exit(self, ref: str, code: int = 0, *, event: bool = True, reason: str = "") -> Container:
        """A running container ends with ``code`` (``reason`` defaults to Completed / Error)."""
        container = self.find(ref)
        self._finish(container, code, reason or ("Completed" if code == 0 else "Error"), event=event)
        return container

    def lose_sandbox(self, uid: str, *, remove: bool = False, event: bool = True) -> None:
        """The pod's newest sandbox dies (``remove``: vanishes altogether), as when pause is killed."""
        sandboxes = [c for c in self.pod(uid) if c.is_sandbox]
        if not sandboxes:
            raise KeyError(f"pod {uid} has no sandbox in the fake runtime")
        sandbox = max(sandboxes, key=lambda c: c.attempt)
        if remove:
            del self.containers[sandbox.id]
            self._emit(sandbox, "destroy", event)
        else:
            self._finish(sandbox, SIGKILL_EXIT, "Error", event=event)

    def set_down(self, reason: str = "connection refused") -> None:
        """The engine goes away: calls raise, streams break, until :meth:`set_up`."""
        self.down = reason
        for queue in self._subscribers:
            queue.put_nowait(ConnectionError(f"the engine at {self.endpoint} went away: {reason}"))

    def set_up(self) -> None:
        self.down = None

    # -- the runtime itself --------------------------------------------------------------------------------

    async def version(self) -> dict[str, str]:
        self._call("version")
        return {"runtimeName": "fake", "runtimeVersion": "0.0.0", "runtimeApiVersion": "v1"}

    async def check_health(self, timeout: float) -> tuple[bool, str]:
        """Never raises, as Docker's ping does not: a down engine is an answer, not an error."""
        self.calls.append(("check_health", (timeout,)))
        return (False, f"cannot reach {self.endpoint}: {self.down}") if self.down else (True, "")

    def close(self) -> None:
        self.calls.append(("close", ()))
        self.closed = True

    # -- sandboxes -----------------------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: SandboxConfig) -> Container:
        self._call("run_pod_sandbox", config)
        if self.fail_sandbox is not None:
            raise RuntimeError_("RunPodSandboxError", self.fail_sandbox)
        if config.image not in self.images:
            raise RuntimeError_("RunPodSandboxError", f"No such image: {config.image}")
        sandbox = self._new(
            name="POD",
            kind="sandbox",
            attempt=config.attempt,
            labels={**config.labels, L.CONTAINER_NAME: "POD"},
            annotations=dict(config.annotations),
            image=config.image,
            ip="" if config.host_network else f"10.88.0.{next(self._ips)}",
        )
        self._run(sandbox)
        return self._copy(sandbox)

    async def stop_pod_sandbox(self, sandbox_id: str, grace: int) -> None:
        await self.stop_container(sandbox_id, grace, _operation="stop_pod_sandbox")

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        await self.remove_container(sandbox_id, _operation="remove_pod_sandbox")

    # -- containers ----------------------------------------------------------------------------------------

    async def create_container(self, sandbox: Container, config: ContainerConfig) -> str:
        self._call("create_container", sandbox.id, config)
        failure = self.fail_create.get(config.name)
        if failure is not None:
            raise failure
        if config.image not in self.images:
            raise RuntimeError_("CreateContainerError", f"No such image: {config.image}")
        container = self._new(
            name=config.name,
            kind=config.kind,
            attempt=config.attempt,
            labels=dict(config.labels),
            annotations=dict(config.annotations),
            image=config.image,
            sandbox_id=sandbox.id,
            hash=config.annotations.get(L.CONTAINER_HASH, ""),
        )
        return container.id

    async def start_container(self, container_id: str) -> None:
        self._call("start_container", container_id)
        container = self.containers.get(container_id)
        if container is None:
            raise RuntimeError_("RunContainerError", f"No such container: {container_id}")
        failure = self.fail_start.get(container.name)
        if failure is not None:
            # Docker leaves such a container exited with the engine's error (ContainerCannotRun).
            self._finish(container, 128, "ContainerCannotRun", event=False, message=failure.message)
            raise failure
        self._run(container)
        if container.name in self.crash_on_start:
            code = self.crash_on_start[container.name]
            self._finish(container, code, "Completed" if code == 0 else "Error", event=True)

    async def stop_container(
        self, container_id: str, grace: int, *, _operation: str = "stop_container"
    ) -> None:
        """SIGTERM, then SIGKILL after ``grace``: a container in ``hang_on_stop`` uses all of it."""
        self._call(_operation, container_id, grace)
        container = self.containers.get(container_id)
        if container is None or not container.running:
            return
        if container.name in self.hang_on_stop:
            await asyncio.sleep(grace * self.grace_scale)
            self._finish(container, SIGKILL_EXIT, "Error", event=True)
        else:
            self._finish(container, 0, "Completed", event=True)

    async def remove_container(self, container_id: str, *, _operation: str = "remove_container") -> None:
        self._call(_operation, container_id)
        container = self.containers.pop(container_id, None)
        if container is not None:
            self._emit(container, "destroy", True)

    async def container_status(self, container_id: str) -> Container | None:
        self._call("container_status", container_id)
        container = self.containers.get(container_id)
        return self._copy(container) if container is not None else None

    async def list_pod_containers(self, uid: str | None = None) -> list[Container]:
        self._call("list_pod_containers", uid)
        found = [self._copy(c) for c in self.containers.values() if uid is None or c.pod_uid == uid]
        return sorted(found, key=lambda c: c.created_at or self._last_time, reverse=True)

    async def list_summaries(self) -> list[Summary]:
        self._call("list_summaries")
        return [Summary(c.id, c.pod_uid, c.pod_name, c.namespace, c.state) for c in self.containers.values()]

    def forget(self, container_id: str) -> None:
        """Nothing is cached here; the call is recorded so PLEG tests can see what was invalidated."""
        self.calls.append(("forget", (container_id,)))

    async def events(self) -> AsyncIterator[ContainerEvent]:
        """``connected`` first (as the Docker runtime says once its stream is open), then each event."""
        self._call("events")
        queue: asyncio.Queue[ContainerEvent | BaseException] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            yield ContainerEvent("", "", "connected")
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._subscribers.remove(queue)

    # -- images --------------------------------------------------------------------------------------------

    async def image_status(self, ref: str) -> Image | None:
        self._call("image_status", ref)
        return self.images.get(ref) or next((i for i in self.images.values() if i.id == ref), None)

    def cached_image(self, image_id: str) -> Image | None:
        return next((i for i in self.images.values() if i.id == image_id), None)

    async def pull_image(self, ref: str) -> None:
        self._call("pull_image", ref)
        if ref in self.pull_errors:
            raise RuntimeError_("ErrImagePull", self.pull_errors[ref])
        self.images[ref] = _image(ref)

    async def image_fs_mountpoint(self) -> str:
        self._call("image_fs_mountpoint")
        return self.image_fs

    # -- stats -----------------------------------------------------------------------------------------------

    async def list_container_stats(self, container_ids: Sequence[str]) -> dict[str, ContainerStats]:
        self._call("list_container_stats", tuple(container_ids))
        return {
            cid: ContainerStats(cid, self.writable_layer_bytes, 1)
            for cid in container_ids
            if cid in self.containers and not self.containers[cid].is_sandbox
        }

    # -- exec ----------------------------------------------------------------------------------------------

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> tuple[int, str]:
        self._call("exec_sync", container_id, tuple(command), timeout)
        container = self.containers.get(container_id)
        if container is None or not container.running:
            raise RuntimeError_("ExecError", f"container {container_id[:12]} is not running")
        if self.exec_delay:
            if self.exec_delay > timeout:
                await asyncio.sleep(timeout)
                raise TimeoutError(f"command timed out after {timeout:g}s")
            await asyncio.sleep(self.exec_delay)
        return self.exec_results.get(tuple(command), (0, ""))

    # -- internals -----------------------------------------------------------------------------------------

    def _call(self, operation: str, *args: Any) -> None:
        """Record a call and fail it when the engine is down; report it as the metrics hook expects."""
        self.calls.append((operation, args))
        if self.on_operation is not None:
            self.on_operation(operation, 0.0, self.down is None)
        if self.down is not None:
            raise ConnectionError(f"cannot reach the engine at {self.endpoint}: {self.down}")

    def _now(self) -> datetime:
        """The clock's time, strictly increasing, so "newest first" never depends on timer resolution."""
        now = datetime.fromtimestamp(self._clock(), timezone.utc)
        self._last_time = max(now, self._last_time + timedelta(microseconds=1))
        return self._last_time

    def _new(self, *, labels: dict[str, str], **fields: Any) -> Container:
        container_id = hashlib.sha256(f"fake-{next(self._ids)}".encode()).hexdigest()
        image = self.images.get(fields["image"])
        container = Container(
            id=container_id,
            pod_uid=labels.get(L.POD_UID, ""),
            pod_name=labels.get(L.POD_NAME, ""),
            namespace=labels.get(L.POD_NAMESPACE, ""),
            state="created",
            labels=labels,
            created_at=self._now(),
            image_id=image.id if image is not None else "",
            runtime="fake",
            runtime_name=container_id,
            **fields,
        )
        self.containers[container_id] = container
        return container

    def _run(self, container: Container) -> None:
        container.state = "running"
        container.started_at = self._now()
        container.pid = 1000 + next(self._ids)

    def _finish(
        self, container: Container, code: int, reason: str, *, event: bool, message: str = ""
    ) -> None:
        container.state = "exited"
        container.exit_code = code
        container.reason = reason
        container.message = message
        container.finished_at = self._now()
        container.started_at = container.started_at or container.finished_at
        container.pid = 0
        self._emit(container, "die", event)

    def _emit(self, container: Container, action: str, event: bool) -> None:
        if event:
            for queue in self._subscribers:
                queue.put_nowait(ContainerEvent(container.pod_uid, container.id, action))

    @staticmethod
    def _copy(container: Container) -> Container:
        """What a runtime hands out is a snapshot: the caller's record does not change under it."""
        return dataclasses.replace(
            container, labels=dict(container.labels), annotations=dict(container.annotations)
        )
