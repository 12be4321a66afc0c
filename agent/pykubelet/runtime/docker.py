"""The Docker adapter: the dockershim of pykubelet.

Every call into the Docker SDK is blocking, so each one runs on a small thread pool and the event loop
only awaits it (a slow engine must never stall the file watcher or the read-only server). The adapter
translates Docker's view (``docker inspect``) into :class:`RuntimeContainer`, the runtime-neutral
record the rest of the agent reasons about, the way dockershim turned Docker state into CRI state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions

from pykubelet.runtime import labels as L
from pykubelet.runtime.naming import parse_name

log = logging.getLogger("pykubelet.runtime")

T = TypeVar("T")

# Docker 20.10 (Debian 12, Ubuntu 22.04's docker.io) speaks API 1.41; pinning it keeps the client
# working against those engines without a version round-trip at start-up (which fails if the engine
# is down, and the agent must start anyway and wait for it).
API_VERSION = "1.41"
ZERO_TIME = "0001-01-01T00:00:00Z"


class RuntimeError_(Exception):
    """A runtime operation failed; ``reason`` is the kubelet's word for it (ErrImagePull, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class RuntimeContainer:
    """One Docker container of a pod, read from its labels and ``docker inspect``."""

    id: str
    name: str
    pod_uid: str
    pod_name: str
    namespace: str
    kind: str  # "sandbox" | "init" | "container"
    attempt: int  # the restart count (the sandbox's attempt for the sandbox)
    state: str  # "created" | "running" | "exited" | "unknown"
    labels: dict[str, str] = field(repr=False)
    exit_code: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str = ""
    message: str = ""
    image: str = ""
    image_id: str = ""
    ip: str = ""
    hash: str = ""
    pid: int = 0
    log_path: str = ""  # Docker's log file of this container (json-file driver); "" for other drivers

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def container_id(self) -> str:
        return f"docker://{self.id}"

    @property
    def source(self) -> str:
        return self.labels.get(L.SOURCE, "")


def parse_time(value: str | None) -> datetime | None:
    """RFC 3339 as Docker and the kubelet write it (nanoseconds, ``Z`` or an offset) -> an aware datetime.

    Python reads at most microseconds, so the fraction is cut to six digits; Go's zero time is None.
    """
    if not value or value.startswith("0001-01-01"):
        return None
    text = re.sub(r"\.(\d+)", lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.replace("Z", "+00:00"))
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def from_inspect(info: dict[str, Any]) -> RuntimeContainer | None:
    """Build a RuntimeContainer from ``docker inspect`` output; None for containers that are not ours."""
    labels = info.get("Config", {}).get("Labels") or {}
    uid = labels.get(L.POD_UID)
    parsed = parse_name(info.get("Name", ""))
    if not uid or parsed is None:
        return None
    state = info.get("State", {})
    is_sandbox = labels.get(L.DOCKER_TYPE) == L.TYPE_SANDBOX
    kind = "sandbox" if is_sandbox else L.annotation(labels, L.CONTAINER_KIND, "container")
    if is_sandbox:
        attempt = parsed.attempt
    else:
        try:
            attempt = int(L.annotation(labels, L.RESTART_COUNT, str(parsed.attempt)))
        except ValueError:
            attempt = parsed.attempt
    record = RuntimeContainer(
        id=info["Id"],
        name=labels.get(L.CONTAINER_NAME, parsed.container),
        pod_uid=uid,
        pod_name=labels.get(L.POD_NAME, parsed.pod_name),
        namespace=labels.get(L.POD_NAMESPACE, parsed.namespace),
        kind=kind,
        attempt=attempt,
        state="unknown",
        labels=labels,
        created_at=parse_time(info.get("Created")),
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        image=info.get("Config", {}).get("Image", ""),
        image_id=info.get("Image", ""),
        hash=L.annotation(labels, L.CONTAINER_HASH),
        ip=(info.get("NetworkSettings") or {}).get("IPAddress") or "",
        pid=int(state.get("Pid") or 0),
        log_path=info.get("LogPath") or "",
    )
    _apply_state(record, state)
    return record


def _apply_state(record: RuntimeContainer, state: dict[str, Any]) -> None:
    """Docker state -> CRI state and reason, as dockershim's ``ContainerStatus`` did."""
    record.exit_code = int(state.get("ExitCode") or 0)
    if state.get("Running"):
        record.state = "running"
    elif record.finished_at is not None:
        record.state = "exited"
        if state.get("OOMKilled"):
            record.reason = "OOMKilled"
        else:
            record.reason = "Completed" if record.exit_code == 0 else "Error"
        record.message = state.get("Error") or ""
    elif record.exit_code != 0:
        # Created but failed to start (a command not found in the image, say).
        record.state = "exited"
        record.reason = "ContainerCannotRun"
        record.message = state.get("Error") or ""
        record.started_at = record.finished_at = record.created_at
    else:
        record.state = "created"


class _SharedListing:
    """``docker ps`` for many askers at once: who asks while a listing is in flight joins the next one.

    Fifty pods deleted (or added) together would otherwise make fifty listings, each walking every
    container in the engine while it is busiest. Each asker still gets a listing that *started after*
    it asked, so it sees everything it did before asking; one asker alone gets a listing of its pod.
    """

    def __init__(self, fetch: Callable[[set[str]], Awaitable[list[dict[str, Any]]]]) -> None:
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self._next: tuple[set[str], asyncio.Future[list[dict[str, Any]]]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, uid: str) -> list[dict[str, Any]]:
        """The summaries of one pod's containers, or of the node's when ``uid`` is empty."""
        if self._next is None:
            future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
            future.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved if nobody waits
            self._next = (set(), future)
            task = asyncio.create_task(self._run(self._next))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        uids, future = self._next
        uids.add(uid)
        summaries = await asyncio.shield(future)
        if not uid:
            return summaries
        return [s for s in summaries if (s.get("Labels") or {}).get(L.POD_UID) == uid]

    async def _run(self, batch: tuple[set[str], asyncio.Future[list[dict[str, Any]]]]) -> None:
        uids, future = batch
        try:
            async with self._lock:  # one listing at a time; askers meanwhile gather in the next batch
                if self._next is batch:
                    self._next = None
                future.set_result(await self._fetch(uids))
        except asyncio.CancelledError:  # closing, even while waiting for the lock: nobody waits forever
            if self._next is batch:
                self._next = None
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


class DockerRuntime:
    """Talks to one Docker engine on behalf of one node (the ``io.pykubelet.node`` label scopes it)."""

    def __init__(self, endpoint: str, node: str, *, threads: int = 16, timeout: int = 60) -> None:
        self.endpoint = endpoint
        self.node = node
        self._threads = threads
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="docker")
        self._client: docker.APIClient | None = None
        self._inspect_cache: dict[str, tuple[str, RuntimeContainer]] = {}
        self._image_cache: dict[str, dict[str, Any]] = {}
        self._exec_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="exec")
        self._stop_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="stop")
        self._exec_clients: dict[int, docker.APIClient] = {}
        self._listing = _SharedListing(self._list)
        self.on_operation: Callable[[str, float, bool], None] | None = None

    @property
    def client(self) -> docker.APIClient:
        if self._client is None:
            self._client = docker.APIClient(
                base_url=self.endpoint,
                version=API_VERSION,
                timeout=self._timeout,
                max_pool_size=self._threads,
            )
        return self._client

    def new_client(self, timeout: int | None = None) -> docker.APIClient:
        """A separate connection, for long-lived streams (events) that must not hold a pool slot."""
        return docker.APIClient(base_url=self.endpoint, version=API_VERSION, timeout=timeout)

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

    # -- reading -------------------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            return bool(await self.call("version", self.client.ping))
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            return False

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

    async def list_pod_containers(self, uid: str | None = None) -> list[RuntimeContainer]:
        """All containers of this node (or of one pod), newest first, inspected.

        ``docker ps`` gives no exit codes or times, so each container is inspected; a container's
        inspect output cannot change while its state does not, so it is cached by (id, state).
        """
        return await self._inspect_all(await self._listing.get(uid or ""))

    async def _inspect_all(self, summaries: list[dict[str, Any]]) -> list[RuntimeContainer]:
        async def one(summary: dict[str, Any]) -> RuntimeContainer | None:
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

    async def list_summaries(self) -> list[dict[str, Any]]:
        """``docker ps -a`` for this node, without inspecting: the cheap relist of the PLEG."""
        return await self._listing.get("")

    async def _list(self, uids: set[str]) -> list[dict[str, Any]]:
        """One ``docker ps -a``: for one pod when only one asked, else for the whole node."""
        label_filter = [f"{L.NODE}={self.node}"]
        if len(uids) == 1 and "" not in uids:
            label_filter.append(f"{L.POD_UID}={next(iter(uids))}")
        return await self.call(
            "list_containers", self.client.containers, all=True, filters={"label": label_filter}
        )

    async def inspect_image(self, ref: str) -> dict[str, Any] | None:
        try:
            info = await self.call("image_status", self.client.inspect_image, ref)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.NotFound:
            return None
        self._image_cache[info["Id"]] = info
        return info

    def image_info(self, image_id: str) -> dict[str, Any] | None:
        """An already-inspected image by id (for imageID in statuses); never calls Docker."""
        return self._image_cache.get(image_id)

    # -- images --------------------------------------------------------------------------------------

    async def pull(self, ref: str) -> None:
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

    # -- containers ----------------------------------------------------------------------------------

    async def create(
        self, name: str, image: str, labels: dict[str, str], host_config: dict[str, Any], **config: Any
    ) -> str:
        async def create() -> dict[str, Any]:
            return await self.call(
                "create_container",
                self.client.create_container,
                image,
                name=name,
                labels=labels,
                host_config=host_config,
                **config,
            )

        try:
            created = await create()
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise RuntimeError_("CreateContainerError", _explain(exc)) from exc
            # A name left behind by an agent killed between create and record: it is ours, by name.
            await self.remove_by_name(name)
            created = await create()
        return created["Id"]

    def host_config(self, **kwargs: Any) -> dict[str, Any]:
        return self.client.create_host_config(**kwargs)

    async def start(self, container_id: str) -> None:
        try:
            await self.call("start_container", self.client.start, container_id)
        except docker.errors.APIError as exc:
            raise RuntimeError_("RunContainerError", _explain(exc)) from exc
        finally:
            self.forget(container_id)

    async def inspect(self, container_id: str) -> RuntimeContainer | None:
        try:
            info = await self.call("inspect_container", self.client.inspect_container, container_id)
        except docker.errors.NotFound:
            return None
        return self._remember(info, (info.get("State") or {}).get("Status", ""))

    def _remember(self, info: dict[str, Any], state: str) -> RuntimeContainer | None:
        """Translate an inspect and keep it for the next listing that finds the container in ``state``."""
        record = from_inspect(info)
        if record is not None and state in ("running", "exited"):
            self._inspect_cache[info["Id"]] = (state, record)
        return record

    async def stop(self, container_id: str, grace: int) -> None:
        """``docker stop -t grace``: the image's stop signal (or SIGTERM), SIGKILL after ``grace``."""
        with contextlib.suppress(docker.errors.NotFound):
            try:
                # On its own wide pool: a stop waits out the grace period, and 50 pods stopping at once
                # must neither queue behind each other nor starve the other pods' calls.
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

    async def remove(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            try:
                await self.call("remove_container", self.client.remove_container, container_id, force=True)
            except docker.errors.APIError as exc:
                if "already in progress" not in str(exc):
                    raise
        self.forget(container_id)

    async def remove_by_name(self, name: str) -> None:
        found = await self.call(
            "list_containers", self.client.containers, all=True, filters={"name": f"^/{name}$"}
        )
        for summary in found:
            labels = summary.get("Labels") or {}
            if labels.get(L.NODE) == self.node:
                await self.remove(summary["Id"])

    async def exec(self, container_id: str, command: list[str], timeout: float) -> tuple[int, str]:
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

    def events(self, client: docker.APIClient) -> Iterator[dict[str, Any]]:
        """The engine's container events for this node (blocking; the PLEG runs it on a thread)."""
        return client.events(decode=True, filters={"type": "container", "label": [f"{L.NODE}={self.node}"]})


def _explain(exc: docker.errors.APIError) -> str:
    """The engine's own sentence, without docker-py's HTTP preamble."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return f"Error response from daemon: {explanation}"
    return str(exc)
