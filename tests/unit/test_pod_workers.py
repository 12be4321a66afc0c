"""PodWorkers (``pkg/kubelet/pod_workers.go``): one serial worker per pod, all pods in parallel.

The sync and kill functions are stand-ins that record what they were asked and when, so each test
states one property of the workers themselves: nudges during a sync coalesce into one more sync, two
pods sync at once, a removed pod is killed and forgotten, a new pod with the same name waits for the
old one to go, and a sync or kill that raises is tried again. Every wait is bounded (``until``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from pykubelet import podworkers
from pykubelet.manifest import StaticPod
from pykubelet.podworkers import PodWorkers
from pykubelet.runtime.manager import SyncResult
from tests.unit.conftest import TIMEOUT, make_pod, until


class Calls:
    """Records syncs and kills; ``gate`` (when set) holds every sync until the test opens it."""

    def __init__(self) -> None:
        self.syncs: Counter[str] = Counter()
        self.kills: list[tuple[str, StaticPod | None]] = []
        self.gone: list[str] = []
        self.active: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()
        self.total_at_once = 0
        self.gate: asyncio.Event | None = None
        self.failures: Counter[str] = Counter()  # uid -> how many more syncs or kills should raise

    async def sync(self, pod: StaticPod) -> SyncResult:
        self.active[pod.uid] += 1
        self.most_at_once[pod.uid] = max(self.most_at_once[pod.uid], self.active[pod.uid])
        self.total_at_once = max(self.total_at_once, sum(self.active.values()))
        try:
            if self.gate is not None:
                await self.gate.wait()
            self.syncs[pod.uid] += 1
            self._maybe_fail(pod.uid, "sync")
            return SyncResult()
        finally:
            self.active[pod.uid] -= 1

    async def kill(self, uid: str, pod: StaticPod | None) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.kills.append((uid, pod))
        self._maybe_fail(uid, "kill")

    def on_gone(self, uid: str) -> None:
        self.gone.append(uid)

    def _maybe_fail(self, uid: str, what: str) -> None:
        if self.failures[uid] > 0:
            self.failures[uid] -= 1
            raise ConnectionError(f"{what} failed: the engine is restarting")


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def workers(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PodWorkers]:
    monkeypatch.setattr(podworkers, "ERROR_RETRY", 0.01)
    pod_workers = PodWorkers(calls.sync, calls.kill, calls.on_gone)
    yield pod_workers
    await pod_workers.stop()


async def test_nudges_during_a_sync_coalesce_into_one_more_sync(workers: PodWorkers, calls: Calls) -> None:
    pod = make_pod()
    calls.gate = asyncio.Event()
    workers.update(pod)
    await until("the first sync to begin", lambda: calls.active[pod.uid] == 1)
    for _ in range(5):
        workers.nudge(pod.uid)
        workers.update(pod)
    calls.gate.set()
    await until("two syncs", lambda: calls.syncs[pod.uid] == 2)
    await asyncio.sleep(0.05)
    assert calls.syncs[pod.uid] == 2 and calls.most_at_once[pod.uid] == 1


async def test_different_pods_sync_at_the_same_time(workers: PodWorkers, calls: Calls) -> None:
    calls.gate = asyncio.Event()
    pods = [make_pod("one"), make_pod("two")]
    for pod in pods:
        workers.update(pod)
    await until("both pods inside their sync at once", lambda: calls.total_at_once == 2)
    calls.gate.set()
    await until("both synced", lambda: all(calls.syncs[p.uid] == 1 for p in pods))


async def test_terminate_kills_the_pod_then_forgets_it(workers: PodWorkers, calls: Calls) -> None:
    pod = make_pod()
    workers.update(pod)
    await until("the first sync", lambda: calls.syncs[pod.uid] == 1)
    task = workers.workers[pod.uid].task
    workers.terminate(pod.uid, pod.full_name, pod)
    await until("the pod gone", lambda: calls.gone == [pod.uid])
    assert calls.kills == [(pod.uid, pod)] and pod.uid not in workers.workers
    assert task is not None
    await asyncio.wait_for(task, TIMEOUT)  # the worker's loop has ended


async def test_an_orphan_without_a_spec_is_terminated_by_uid(workers: PodWorkers, calls: Calls) -> None:
    workers.terminate("0" * 32, "gone_default")
    await until("the orphan killed", lambda: calls.gone == ["0" * 32])
    assert calls.kills == [("0" * 32, None)] and calls.syncs == Counter()


async def test_a_new_pod_waits_until_the_old_one_of_the_same_name_is_gone(
    workers: PodWorkers, calls: Calls
) -> None:
    old = make_pod(containers=[{"name": "app", "image": "busybox:1.35"}])
    new = make_pod(containers=[{"name": "app", "image": "nginx:1.22"}])
    assert old.full_name == new.full_name and old.uid != new.uid
    workers.update(old)
    await until("the old pod synced", lambda: calls.syncs[old.uid] == 1)
    calls.gate = asyncio.Event()
    workers.terminate(old.uid, old.full_name, old)
    workers.update(new)
    await asyncio.sleep(0.05)
    assert calls.syncs[new.uid] == 0 and workers.is_terminating(new.full_name, new.uid)
    calls.gate.set()
    await until("the new pod synced once the old one is gone", lambda: calls.syncs[new.uid] == 1)
    assert calls.gone == [old.uid]


async def test_a_failing_sync_is_retried(workers: PodWorkers, calls: Calls) -> None:
    pod = make_pod()
    calls.failures[pod.uid] = 2
    workers.update(pod)
    await until("a sync that succeeds after two failures", lambda: calls.syncs[pod.uid] == 3)
    assert workers.workers[pod.uid].last_sync > 0


async def test_a_failing_kill_is_retried_and_the_pod_stays_known_meanwhile(
    workers: PodWorkers, calls: Calls
) -> None:
    pod = make_pod()
    calls.failures[pod.uid] = 1
    workers.terminate(pod.uid, pod.full_name, pod)
    await until("a second kill", lambda: len(calls.kills) == 2)
    await until("the pod gone", lambda: calls.gone == [pod.uid])


async def test_a_requested_requeue_syncs_again_without_a_nudge(calls: Calls) -> None:
    async def sync_soon(pod: StaticPod) -> SyncResult:
        await calls.sync(pod)
        return SyncResult(requeue_after=0.01)

    workers = PodWorkers(sync_soon, calls.kill, calls.on_gone)
    try:
        pod = make_pod()
        workers.update(pod)
        await until("three syncs from one update", lambda: calls.syncs[pod.uid] >= 3)
    finally:
        await workers.stop()


async def test_stop_cancels_every_worker_and_leaves_the_pods_alone(workers: PodWorkers, calls: Calls) -> None:
    pods = [make_pod("one"), make_pod("two")]
    for pod in pods:
        workers.update(pod)
    await until("both synced", lambda: all(calls.syncs[p.uid] == 1 for p in pods))
    tasks = [w.task for w in workers.workers.values() if w.task is not None]
    await workers.stop()
    assert all(t.done() for t in tasks) and calls.kills == []
