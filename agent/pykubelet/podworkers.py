"""One worker per pod uid (``pkg/kubelet/pod_workers.go``).

Each pod's work is serialised in its own asyncio task, so a slow pull or a 30 s grace period of one pod
never holds up another; across pods everything runs in parallel. Anything else (the file source, the
PLEG, a back-off timer) only *nudges* a worker; the worker is the one writer of its pod.

Every worker looks at its pod again at least once per ``--sync-frequency`` (the kubelet's
``syncFrequency``, default 1m) even when no event came: a container that vanished without an event
(a runtime restarted, an event lost) is noticed and repaired within one period. A sync may ask to be
called back sooner (a back-off ending, a grace period running out), never later.

A pod with the same full name as one still terminating waits for it ("Pod cannot start yet" in newer
kubelets): an edited manifest's new pod must not fight the old one for its hostPort.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pykubelet import supervisor
from pykubelet.manifest import StaticPod
from pykubelet.runtime.manager import SyncResult

log = logging.getLogger("pykubelet.podworkers")

SyncFn = Callable[[StaticPod], Awaitable[SyncResult]]
KillFn = Callable[[str, "StaticPod | None"], Awaitable[None]]

DEFAULT_RESYNC_INTERVAL = 60.0  # the kubelet's default syncFrequency
ERROR_RETRY = 5.0


@dataclass
class PodWorker:
    uid: str
    pod: StaticPod | None
    full_name: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    terminating: bool = False
    task: asyncio.Task[None] | None = None
    last_sync: float = 0.0


class PodWorkers:
    def __init__(
        self,
        sync: SyncFn,
        kill: KillFn,
        on_gone: Callable[[str], None],
        resync_interval: float = DEFAULT_RESYNC_INTERVAL,
    ) -> None:
        if not resync_interval > 0:  # 0 would make every worker spin without sleeping
            raise ValueError(f"resync_interval must be more than 0 s, not {resync_interval!r}")
        self.resync_interval = resync_interval  # --sync-frequency
        self._sync = sync
        self._kill = kill
        self._on_gone = on_gone
        self.workers: dict[str, PodWorker] = {}
        self.last_activity = time.monotonic()

    def update(self, pod: StaticPod) -> None:
        """Make sure the pod has a worker (creating starts it); a known pod just gets a nudge."""
        worker = self.workers.get(pod.uid)
        if worker is None:
            worker = PodWorker(pod.uid, pod, pod.full_name)
            self.workers[pod.uid] = worker
            worker.task = self._spawn(worker)
        elif not worker.terminating:
            worker.pod = pod
        worker.wake.set()

    def terminate(self, uid: str, full_name: str, pod: StaticPod | None = None) -> None:
        """Stop and remove a pod (its file is gone, or its containers are orphans)."""
        worker = self.workers.get(uid)
        if worker is None:
            worker = PodWorker(uid, pod, full_name)
            self.workers[uid] = worker
            worker.task = self._spawn(worker)
        worker.terminating = True
        worker.wake.set()

    def _spawn(self, worker: PodWorker) -> asyncio.Task[None]:
        """The worker's loop, supervised: a bug in one sync costs that pod a restart of its loop, no more."""
        return supervisor.spawn(f"pod-{worker.uid[:8]}", lambda: self._run(worker), forever=False)

    def nudge(self, uid: str) -> None:
        worker = self.workers.get(uid)
        if worker is not None:
            worker.wake.set()

    def nudge_all(self) -> None:
        """Wake every worker: the runtime came back, so whatever it missed meanwhile is re-checked now."""
        for worker in self.workers.values():
            worker.wake.set()

    def is_terminating(self, full_name: str, except_uid: str) -> bool:
        return any(
            w.terminating and w.full_name == full_name and w.uid != except_uid for w in self.workers.values()
        )

    async def _run(self, worker: PodWorker) -> None:
        delay: float | None = None
        while True:
            if delay is None or delay > self.resync_interval:
                delay = self.resync_interval
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(worker.wake.wait(), timeout=delay)
            worker.wake.clear()
            self.last_activity = time.monotonic()
            if worker.terminating:
                if await self._terminate(worker):
                    return
                delay = ERROR_RETRY
                continue
            assert worker.pod is not None
            if self.is_terminating(worker.full_name, worker.uid):
                delay = None  # the old pod's end nudges us
                continue
            try:
                result = await self._sync(worker.pod)
                delay = result.requeue_after
                worker.last_sync = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error(
                    "Error syncing pod, will retry: %s",
                    exc,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                    extra={"pod": str(worker.pod)},
                )
                delay = ERROR_RETRY

    async def _terminate(self, worker: PodWorker) -> bool:
        try:
            await self._kill(worker.uid, worker.pod)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error(
                "Error killing pod, will retry: %s", exc, extra={"pod": worker.full_name, "uid": worker.uid}
            )
            return False
        self.workers.pop(worker.uid, None)
        self._on_gone(worker.uid)
        for other in self.workers.values():
            if other.full_name == worker.full_name:
                other.wake.set()
        return True

    async def stop(self) -> None:
        """Cancel every worker (the agent is shutting down; the pods keep running)."""
        await supervisor.cancel_all([w.task for w in self.workers.values() if w.task is not None])
