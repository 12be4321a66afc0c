"""The pod lifecycle event generator: runtime events, with a relist as the safety net.

The kubelet's PLEG relists the runtime to notice containers that died (``GenericPLEG``) and, with the
evented PLEG, also listens to the runtime's event stream. pykubelet does both: the stream
(``Runtime.events``) wakes a pod's worker within milliseconds of a container's exit, and a cheap relist
(``Runtime.list_summaries``: no inspect) every few seconds catches anything the stream missed. When the
runtime goes away the stream breaks: the PLEG marks the runtime unhealthy, retries with back-off, and on
reconnect wakes every pod so they are all re-checked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from pykubelet import supervisor
from pykubelet.runtime.api import Runtime

log = logging.getLogger("pykubelet.pleg")

RELIST_PERIOD = 10.0
RECONNECT_DELAY = 1.0  # the first wait after the event stream breaks; doubles up to MAX_RECONNECT_DELAY
MAX_RECONNECT_DELAY = 10.0


class PLEG:
    def __init__(
        self,
        runtime: Runtime,
        on_pod_event: Callable[[str], None],
        on_reconnect: Callable[[], None],
        relist_period: float = RELIST_PERIOD,
        on_health: Callable[[bool, str], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.on_pod_event = on_pod_event
        self.on_reconnect = on_reconnect
        self.on_health = on_health  # the node's one runtime-health owner (RuntimeState.set) hears of changes
        self.relist_period = relist_period
        self.healthy = False  # the event stream is connected (the node's health is RuntimeState's)
        self.last_relist = 0.0
        self.runtime_error = "not connected yet"
        self._snapshot: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            supervisor.spawn("pleg-events", self._watch_events),
            supervisor.spawn("pleg-relist", self._relist_loop),
        ]

    async def stop(self) -> None:
        await supervisor.cancel_all(self._tasks)

    # -- the event stream ----------------------------------------------------------------------------

    async def _watch_events(self) -> None:
        """Follow the runtime's events; when the stream breaks, say so and reconnect with back-off."""
        delay = RECONNECT_DELAY
        while True:
            try:
                async for event in self.runtime.events():
                    if event.action == "connected":
                        self._set_health(True, "")
                        delay = RECONNECT_DELAY
                    else:
                        self._deliver(event.pod_uid, event.container_id)
                reason = "the event stream ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
            self._set_health(False, reason)  # (whoever shows it says "container runtime is down: ...")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY)

    def _deliver(self, uid: str, container_id: str) -> None:
        if container_id:
            self.runtime.forget(container_id)
        self.on_pod_event(uid)

    def _set_health(self, healthy: bool, error: str) -> None:
        was = self.healthy
        self.healthy = healthy
        self.runtime_error = error
        if healthy == was:
            return
        if healthy:
            log.info("Connected to the container runtime", extra={"kv": {"endpoint": self.runtime.endpoint}})
        else:
            log.error("Lost the container runtime: %s", error)
        if self.on_health is not None:
            self.on_health(healthy, error)
        if healthy:
            self.on_reconnect()

    # -- the relist ----------------------------------------------------------------------------------

    async def _relist_loop(self) -> None:
        while True:
            await asyncio.sleep(self.relist_period)
            await self.relist()

    async def relist(self) -> None:
        """List the node's containers; one whose state changed since last time wakes its pod."""
        try:
            summaries = await self.runtime.list_summaries()
        except Exception as exc:
            self._set_health(False, str(exc) or type(exc).__name__)
            return
        self.last_relist = time.monotonic()
        snapshot = {s.id: s.state for s in summaries}
        owners = {s.id: s.pod_uid for s in summaries}
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
