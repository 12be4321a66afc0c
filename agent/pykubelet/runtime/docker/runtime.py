"""The Docker runtime: the dockershim of pykubelet, implementing :class:`pykubelet.runtime.api.Runtime`.

Every call into the Docker SDK is blocking, so each one runs on a small thread pool and the event loop
only awaits it (a slow engine must never stall the file watcher or the read-only server). Docker's view
(``docker inspect``) becomes the runtime-neutral :class:`~pykubelet.runtime.api.Container` in
``convert.py``, the way dockershim turned Docker state into CRI state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions

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
from pykubelet.runtime.docker import convert
from pykubelet.runtime.docker.listing import SharedListing
from pykubelet.runtime.docker.stats import WritableLayers

log = logging.getLogger("pykubelet.runtime")

T = TypeVar("T")

# Docker 20.10 (Debian 12, Ubuntu 22.04's docker.io) speaks API 1.41; pinning it keeps the client
# working against those engines without a version round-trip at start-up (which fails if the engine
# is down, and the agent must start anyway and wait for it).
API_VERSION = "1.41"
# Stops wait out grace periods, so they get threads of their own: 50 pods stopping at once must neither
# queue behind each other nor starve the other pods' calls.
STOP_THREADS = 64


class DockerRuntime:
    """Talks to one Docker engine on behalf of one node (the ``io.pykubelet.node`` label scopes it)."""

    type = "docker"

    def __init__(self, endpoint: str, node: str, *, threads: int = 16, timeout: int = 60) -> None:
        self.endpoint = endpoint
        self.node = node
        self._threads = threads
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="docker")
        self._client: docker.APIClient | None = None
        self._inspect_cache: dict[str, tuple[str, Container]] = {}
        self._image_cache: dict[str, Image] = {}
        self._exec_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="exec")
        self._stop_pool = ThreadPoolExecutor(max_workers=STOP_THREADS, thread_name_prefix="stop")
        self._exec_clients: dict[int, docker.APIClient] = {}
        self._listing = SharedListing(self._list)
        self._docker_root: str | None = None
        self._layers = WritableLayers()
        self.on_operation: Callable[[str, float, bool], None] | None = None

    @property
    def client(self) -> docker.APIClient:
        if self._client is None:
            # A connection kept for each thread that calls through it (the pool's and the stops'), so a
            # burst of stops does not open and throw away a connection per call.
            self._client = self._configured(
                docker.APIClient(
                    base_url=self.endpoint,
                    version=API_VERSION,
                    timeout=self._timeout,
                    max_pool_size=self._threads + STOP_THREADS,
                )
            )
        return self._client

    def new_client(self, timeout: int | None = None) -> docker.APIClient:
        """A separate connection, for long-lived streams (events) that must not hold a pool slot."""
        # None: no read timeout (an event stream waits forever); docker-py takes it, its stubs say int.
        return self._configured(
            docker.APIClient(base_url=self.endpoint, version=API_VERSION, timeout=timeout)  # type: ignore[arg-type]
        )

    def _configured(self, client: docker.APIClient) -> docker.APIClient:
        """No proxy settings looked up on every call for a unix socket, which no proxy can reach (requests
        reads them from the environment per request: a fifth of a call's CPU in the agent)."""
        if self.endpoint.startswith("unix://"):
            client.trust_env = False
        return client

    async def call(
        self,
        operation: str,
        fn: Callable[..., T],
        *args: Any,
        pool: ThreadPoolExecutor | None = None,
        **kwargs: Any,
    ) -> T:
        """Run one blocking SDK call off the event loop, timing it for the runtime metrics."""
        loop = asyncio.get_running_loop()
        start = time.monotonic()
        ok = False
        try:
            result = await loop.run_in_executor(pool or self._pool, lambda: fn(*args, **kwargs))
            ok = True
            return result
        finally:
            if self.on_operation is not None:
                self.on_operation(operation, time.monotonic() - start, ok)

    def close(self) -> None:
        self._listing.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    # -- the runtime itself --------------------------------------------------------------------------

    async def version(self) -> dict[str, str]:
        """``Version``: the engine's name and version (``docker version``)."""
        info = await self.call("version", self.client.version)
        return {
            "runtimeName": "docker",
            "runtimeVersion": str(info.get("Version", "")),
            "runtimeApiVersion": str(info.get("ApiVersion", "")),
        }

    async def check_health(self, timeout: float) -> tuple[bool, str]:
        """Ping the engine on a fresh short-timeout connection, so a hung engine is noticed in seconds.

        Not on the shared pool: when the engine hangs, the pool's threads are the ones stuck.
        """

        def ping() -> None:
            client = self.new_client(timeout=max(int(timeout), 1))
            try:
                client.ping()
            finally:
                client.close()

        try:
            await asyncio.wait_for(asyncio.to_thread(ping), timeout + 1)
        except asyncio.TimeoutError:
            return False, f"no answer from {self.endpoint} within {timeout:g}s"
        except Exception as exc:
            return False, str(exc) or type(exc).__name__
        return True, ""

    # -- reading -------------------------------------------------------------------------------------

    async def list_pod_containers(self, uid: str | None = None) -> list[Container]:
        """All containers of this node (or of one pod), newest first, inspected.

        ``docker ps`` gives no exit codes or times, so each container is inspected; a container's
        inspect output cannot change while its state does not, so it is cached by (id, state).
        """
        return await self._inspect_all(await self._listing.get(uid or ""))

    async def _inspect_all(self, summaries: list[dict[str, Any]]) -> list[Container]:
        async def one(summary: dict[str, Any]) -> Container | None:
            cid, state = summary["Id"], summary.get("State", "")
            cached = self._inspect_cache.get(cid)
            if cached and cached[0] == state:
                return cached[1]
            try:
                info = await self.call("inspect_container", self.client.inspect_container, cid)
            except docker.errors.NotFound:
                return None
            return self._remember(info, state)

        records = [r for r in await asyncio.gather(*(one(s) for s in summaries)) if r is not None]
        records.sort(key=lambda r: r.created_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
        return records

    def forget(self, container_id: str) -> None:
        """Drop a cached inspect (an event said the container changed)."""
        self._inspect_cache.pop(container_id, None)

    async def list_summaries(self) -> list[Summary]:
        """``docker ps -a`` for this node, without inspecting: the cheap relist of the PLEG."""
        return [s for s in map(convert.summary, await self._listing.get("")) if s is not None]

    async def _list(self, uids: set[str]) -> list[dict[str, Any]]:
        """One ``docker ps -a``: for one pod when only one asked, else for the whole node."""
        label_filter = [f"{L.NODE}={self.node}"]
        if len(uids) == 1 and "" not in uids:
            label_filter.append(f"{L.POD_UID}={next(iter(uids))}")
        return await self.call(
            "list_containers", self.client.containers, all=True, filters={"label": label_filter}
        )

    async def container_status(self, container_id: str) -> Container | None:
        try:
            info = await self.call("inspect_container", self.client.inspect_container, container_id)
        except docker.errors.NotFound:
            return None
        return self._remember(info, (info.get("State") or {}).get("Status", ""))

    def _remember(self, info: dict[str, Any], state: str) -> Container | None:
        """Translate an inspect and keep it for the next listing that finds the container in ``state``."""
        record = convert.from_inspect(info)
        if record is not None and state in ("running", "exited"):
            self._inspect_cache[info["Id"]] = (state, record)
        return record

    async def events(self) -> AsyncIterator[ContainerEvent]:
        """The engine's container events for this node, beginning with a ``connected`` one.

        docker-py's stream is blocking, so it runs on a thread of its own (not a pool slot: it never
        ends) and hands events to the loop; closing the stream is what stops the thread.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ContainerEvent | BaseException] = asyncio.Queue()
        client = self.new_client(timeout=None)
        streams: list[Any] = []

        def put(item: ContainerEvent | BaseException) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def pump() -> None:
            try:
                client.ping()
                stream = client.events(
                    decode=True,
                    filters={
                        "type": "container",
                        "label": [f"{L.NODE}={self.node}"],
                        "event": list(convert.WAKING_EVENTS),
                    },
                )
                streams.append(stream)
                put(ContainerEvent("", "", "connected"))
                for raw in stream:
                    event = convert.event(raw)
                    if event is not None:
                        put(event)
                put(ConnectionError("the engine closed its event stream"))
            except Exception as exc:
                put(exc)

        threading.Thread(target=pump, name="docker-events", daemon=True).start()
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for stream in streams:
                with contextlib.suppress(Exception):  # a half-dead stream may raise on close
                    stream.close()
            with contextlib.suppress(Exception):
                client.close()

    # -- images --------------------------------------------------------------------------------------

    async def image_status(self, ref: str) -> Image | None:
        try:
            info = await self.call("image_status", self.client.inspect_image, ref)
        except docker.errors.NotFound:  # ImageNotFound is a NotFound
            return None
        found = convert.image(info)
        self._image_cache[found.id] = found
        return found

    def cached_image(self, image_id: str) -> Image | None:
        return self._image_cache.get(image_id)

    async def image_fs_mountpoint(self) -> str:
        """The engine's root directory (``DockerRootDir``): images and writable layers live there."""
        if self._docker_root is None:
            info = await self.call("info", self.client.info)
            self._docker_root = str(info.get("DockerRootDir") or "/var/lib/docker")
        return self._docker_root

    async def list_container_stats(self, container_ids: Sequence[str]) -> dict[str, ContainerStats]:
        """The containers' overlay2 writable layers, measured on disk as cAdvisor's Docker handler does."""
        root = await self.image_fs_mountpoint()
        return await asyncio.to_thread(self._layers.measure, root, list(container_ids))

    async def pull_image(self, ref: str) -> None:
        """Pull an image; a failure raises RuntimeError_("ErrImagePull", <the engine's message>)."""

        def pull() -> None:
            for chunk in self.client.pull(ref, stream=True, decode=True):
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise RuntimeError_("ErrImagePull", str(chunk["error"]))

        try:
            await self.call("pull_image", pull)
        except RuntimeError_:
            raise
        except docker.errors.APIError as exc:
            raise RuntimeError_("ErrImagePull", _explain(exc)) from exc
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RuntimeError_("ErrImagePull", str(exc)) from exc

    # -- sandboxes -----------------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: SandboxConfig) -> Container:
        """Create and start the infra container; one that fails to start is removed, not left behind."""
        host, create = convert.sandbox_create(config)
        sandbox_id = await self._create(host, **create)
        try:
            await self.start_container(sandbox_id)
            created = await self.container_status(sandbox_id)
            if created is None:
                raise RuntimeError_("RunContainerError", f"sandbox {sandbox_id[:12]} vanished after start")
        except BaseException:
            with contextlib.suppress(Exception):
                await self.remove_container(sandbox_id)
            raise
        return created

    async def stop_pod_sandbox(self, sandbox_id: str, grace: int) -> None:
        await self.stop_container(sandbox_id, grace)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        await self.remove_container(sandbox_id)

    # -- containers ----------------------------------------------------------------------------------

    async def create_container(self, sandbox: Container, config: ContainerConfig) -> str:
        host, create = convert.container_create(sandbox, config)
        return await self._create(host, **create)

    async def _create(self, host: dict[str, Any], *, name: str, image: str, **config: Any) -> str:
        host_config = self.client.create_host_config(**host)

        async def create() -> dict[str, Any]:
            return await self.call(
                "create_container",
                self.client.create_container,
                image,
                name=name,
                host_config=host_config,
                **config,
            )

        try:
            created = await create()
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise RuntimeError_("CreateContainerError", _explain(exc)) from exc
            # A name left behind by an agent killed between create and record: it is ours, by name.
            await self._remove_by_name(name)
            created = await create()
        return str(created["Id"])

    async def start_container(self, container_id: str) -> None:
        try:
            await self.call("start_container", self.client.start, container_id)
        except docker.errors.APIError as exc:
            raise RuntimeError_("RunContainerError", _explain(exc)) from exc
        finally:
            self.forget(container_id)

    async def stop_container(self, container_id: str, grace: int) -> None:
        """``docker stop -t grace``: the image's stop signal (or SIGTERM), SIGKILL after ``grace``."""
        with contextlib.suppress(docker.errors.NotFound):
            try:
                # On its own wide pool (STOP_THREADS): a stop waits out the grace period.
                await self.call(
                    "stop_container",
                    self.client.stop,
                    container_id,
                    timeout=max(grace, 0),
                    pool=self._stop_pool,
                )
            except docker.errors.APIError as exc:
                if exc.status_code != 304:  # already stopped
                    raise
        self.forget(container_id)

    async def remove_container(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            try:
                await self.call("remove_container", self.client.remove_container, container_id, force=True)
            except docker.errors.APIError as exc:
                if "already in progress" not in str(exc):
                    raise
        self.forget(container_id)

    async def _remove_by_name(self, name: str) -> None:
        found = await self.call(
            "list_containers", self.client.containers, all=True, filters={"name": f"^/{name}$"}
        )
        for listed in found:
            labels = listed.get("Labels") or {}
            if labels.get(L.NODE) == self.node:
                await self.remove_container(listed["Id"])

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> tuple[int, str]:
        """Run a command in a running container (hooks, exec probes): (exit code, output).

        On its own small pool and a connection whose read timeout is the command's, so a command that
        hangs frees its thread when the timeout passes and never starves the pods' own Docker calls.
        Raises TimeoutError when the command outlives ``timeout``.
        """
        client = self._exec_client(timeout)

        def run() -> tuple[int, str]:
            exec_id = client.exec_create(container_id, command)["Id"]
            try:
                output = client.exec_start(exec_id)
            except requests.exceptions.ReadTimeout:
                raise TimeoutError(f"command timed out after {timeout:g}s") from None
            code = client.exec_inspect(exec_id).get("ExitCode")
            return (code if code is not None else -1), output.decode(errors="replace")

        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(loop.run_in_executor(self._exec_pool, run), timeout + 2)
        except asyncio.TimeoutError:
            raise TimeoutError(f"command timed out after {timeout:g}s") from None
        finally:
            if self.on_operation is not None:
                self.on_operation("exec_sync", time.monotonic() - started, True)
        return result

    def _exec_client(self, timeout: float) -> docker.APIClient:
        seconds = max(int(timeout + 0.999), 1)
        client = self._exec_clients.get(seconds)
        if client is None:
            client = self._exec_clients[seconds] = self.new_client(timeout=seconds)
        return client


def _explain(exc: docker.errors.APIError) -> str:
    """The engine's own sentence, without docker-py's HTTP preamble."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return f"Error response from daemon: {explanation}"
    return str(exc)
