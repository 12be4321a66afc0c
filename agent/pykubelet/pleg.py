"""The pod lifecycle event generator: Docker events, with a relist as the safety net.

The kubelet's PLEG relists the runtime to notice containers that died; pykubelet listens to Docker's
event stream instead (one long-lived connection on its own thread), so a container's exit wakes its
pod's worker within milliseconds, and relists cheaply (``docker ps``, no inspect) every few seconds in
case an event was lost. When the engine goes away the stream breaks: the PLEG marks the runtime
unhealthy, retries with back-off, and on reconnect wakes every pod so they are all re-checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pykubelet import supervisor
from pykubelet.runtime import labels as L
from pykubelet.runtime.docker import DockerRuntime

log = logging.getLogger("pykubelet.pleg")

RELIST_PERIOD = 10.0
# What a pod's worker did not cause itself: a container that died, was killed, stopped or removed.
# "create" and "start" are the worker's own doings (it already knows); waking it for them would make
# every pod start cost a second sync. A container started behind pykubelet's back is seen by the relist.
_INTERESTING = {"die", "destroy", "oom", "kill", "stop"}


class PLEG:
    def __init__(
        self,
        runtime: DockerRuntime,
        on_pod_event: Callable[[str], None],
        on_reconnect: Callable[[], None],
        relist_period: float = RELIST_PERIOD,
    ) -> None:
        self.runtime = runtime
        self.on_pod_event = on_pod_event
        self.on_reconnect = on_reconnect
        self.relist_period = relist_period
        self.healthy = False
        self.last_relist = 0.0
        self.runtime_error = "not connected yet"
        self._snapshot: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self._stop = threading.Event()
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._watch_events, name="pleg-events", daemon=True)
        self._thread.start()
        self._tasks.append(supervisor.spawn("pleg-relist", self._relist_loop))

    async def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):  # a half-dead stream may raise on close; we are leaving
                stream.close()
        await supervisor.cancel_all(self._tasks)

    # -- the event stream (a thread: docker-py's stream is blocking) ----------------------------------

    def _watch_events(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                client = self.runtime.new_client(timeout=None)
                client.ping()
                self._stream = self.runtime.events(client)
                self._set_health(True, "")
                delay = 1.0
                for event in self._stream:
                    if self._stop.is_set():
                        return
                    self._handle(event)
            except Exception as exc:
                if self._stop.is_set():
                    return
                self._set_health(False, f"container runtime is down: {exc}")
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, 10.0)

    def _handle(self, event: dict[str, Any]) -> None:
        if event.get("Action", "").split(":")[0] not in _INTERESTING:
            return
        actor = event.get("Actor") or {}
        uid = (actor.get("Attributes") or {}).get(L.POD_UID)
        if uid and self._loop is not None:
            cid = actor.get("ID", "")
            self._loop.call_soon_threadsafe(self._deliver, uid, cid)

    def _deliver(self, uid: str, container_id: str) -> None:
        if container_id:
            self.runtime.forget(container_id)
        self.on_pod_event(uid)

    def _set_health(self, healthy: bool, error: str) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._apply_health, healthy, error)

    def _apply_health(self, healthy: bool, error: str) -> None:
        was = self.healthy
        self.healthy = healthy
        self.runtime_error = error
        if healthy and not was:
            log.info("Connected to the container runtime", extra={"kv": {"endpoint": self.runtime.endpoint}})
            self.on_reconnect()
        elif not healthy and was:
            log.error("Lost the container runtime: %s", error)

    # -- the relist ----------------------------------------------------------------------------------

    async def _relist_loop(self) -> None:
        while True:
            await asyncio.sleep(self.relist_period)
            await self.relist()

    async def relist(self) -> None:
        """``docker ps -a`` for the node; a container whose state changed since last time wakes its pod."""
        try:
            summaries = await self.runtime.list_summaries()
        except Exception as exc:
            self._apply_health(False, f"container runtime is down: {exc}")
            return
        self.last_relist = time.monotonic()
        snapshot = {s["Id"]: f"{s.get('State')}" for s in summaries}
        owners = {s["Id"]: (s.get("Labels") or {}).get(L.POD_UID, "") for s in summaries}
        changed = {
            cid
            for cid in snapshot.keys() | self._snapshot.keys()
            if snapshot.get(cid) != self._snapshot.get(cid)
        }
        previous_owners = self._owners
        self._snapshot, self._owners = snapshot, owners
        for cid in changed:
            self.runtime.forget(cid)
            uid = owners.get(cid) or previous_owners.get(cid)
            if uid:
                self.on_pod_event(uid)
