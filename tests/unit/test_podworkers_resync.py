"""``--sync-frequency``: every pod worker looks at its pod again at least once per period, unasked.

A container can vanish without an event (the runtime restarted, an event was lost); the periodic
resync is what repairs it. These tests drive :class:`PodWorkers` with a recording sync function: no
runtime, no Docker. Waits are bounded, and nothing asserts how fast anything is.
"""

from __future__ import annotations

import asyncio

import pytest

from pykubelet.manifest import StaticPod
from pykubelet.podworkers import DEFAULT_RESYNC_INTERVAL, PodWorkers
from pykubelet.runtime.manager import SyncResult

WEB = StaticPod(
    "uid-web",
    "web",
    "default",
    "/m/web.yaml",
    {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}},
)


class SyncLog:
    def __init__(self, requeue_after: float | None = None) -> None:
        self.syncs = 0
        self.requeue_after = requeue_after
        self.enough = asyncio.Event()

    async def sync(self, pod: StaticPod) -> SyncResult:
        self.syncs += 1
        if self.syncs >= 3:
            self.enough.set()
        return SyncResult(requeue_after=self.requeue_after)

    async def kill(self, uid: str, pod: StaticPod | None) -> None:
        return None


async def run_until_three_syncs(workers: PodWorkers, recorder: SyncLog) -> None:
    workers.update(WEB)
    try:
        await asyncio.wait_for(recorder.enough.wait(), timeout=10)
    finally:
        await workers.stop()


async def test_a_quiet_pod_is_synced_again_every_sync_frequency() -> None:
    recorder = SyncLog()  # the sync asks for nothing: only the resync brings the worker back
    workers = PodWorkers(recorder.sync, recorder.kill, lambda uid: None, resync_interval=0.05)
    await run_until_three_syncs(workers, recorder)
    assert recorder.syncs >= 3


async def test_a_later_requeue_is_cut_to_the_sync_frequency() -> None:
    recorder = SyncLog(requeue_after=3600)
    workers = PodWorkers(recorder.sync, recorder.kill, lambda uid: None, resync_interval=0.05)
    await run_until_three_syncs(workers, recorder)
    assert recorder.syncs >= 3


async def test_without_events_the_default_period_holds_the_worker_back() -> None:
    recorder = SyncLog()
    workers = PodWorkers(recorder.sync, recorder.kill, lambda uid: None)
    assert workers.resync_interval == DEFAULT_RESYNC_INTERVAL == 60.0
    workers.update(WEB)
    for _ in range(20):
        await asyncio.sleep(0.01)
    await workers.stop()
    assert recorder.syncs == 1  # the first sync only: the next is a minute away


@pytest.mark.parametrize("interval", [0, -1.0, float("nan")])
def test_a_period_that_would_spin_is_refused(interval: float) -> None:
    recorder = SyncLog()
    with pytest.raises(ValueError, match="resync_interval must be more than 0 s"):
        PodWorkers(recorder.sync, recorder.kill, lambda uid: None, resync_interval=interval)
