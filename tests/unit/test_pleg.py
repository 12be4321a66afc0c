"""The PLEG against FakeRuntime: events wake the pod they are about, the relist catches what no event said,
and a broken stream marks the runtime down until it reconnects and says so (``on_reconnect``: the kubelet
then nudges every pod worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pykubelet import pleg as pleg_module
from pykubelet.pleg import PLEG
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import make_pod, until


class Woken:
    """What the PLEG told its owner: pods woken, in order, and how often the runtime came back."""

    def __init__(self) -> None:
        self.pods: list[str] = []
        self.reconnects = 0

    def pod(self, uid: str) -> None:
        self.pods.append(uid)

    def reconnect(self) -> None:
        self.reconnects += 1


@pytest.fixture
def woken() -> Woken:
    return Woken()


@pytest.fixture
async def two_pods(manager: RuntimeManager) -> tuple[str, str]:
    """Two running pods in the fake runtime; their uids."""
    one, two = make_pod("one"), make_pod("two")
    await manager.sync_pod(one)
    await manager.sync_pod(two)
    return one.uid, two.uid


@pytest.fixture
async def pleg(fake: FakeRuntime, woken: Woken, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PLEG]:
    monkeypatch.setattr(pleg_module, "MAX_RECONNECT_DELAY", 0.05)
    generator = PLEG(fake, woken.pod, woken.reconnect, relist_period=60.0)  # relists are the tests' to call
    yield generator
    await generator.stop()


def app_of(fake: FakeRuntime, uid: str) -> str:
    return next(c.id for c in fake.pod(uid) if c.name == "app")


async def test_an_event_wakes_the_pod_it_is_about(
    fake: FakeRuntime, pleg: PLEG, woken: Woken, two_pods: tuple[str, str]
) -> None:
    one, _ = two_pods
    await pleg.start()
    await until("the stream connected", lambda: pleg.healthy)
    assert woken.reconnects == 1
    app = app_of(fake, one)
    fake.exit(app, 1)
    await until("pod one woken", lambda: woken.pods == [one])
    assert ("forget", (app,)) in fake.calls  # the cached inspect of the container is dropped


async def test_the_relist_catches_a_change_no_event_announced(
    fake: FakeRuntime, pleg: PLEG, woken: Woken, two_pods: tuple[str, str]
) -> None:
    one, two = two_pods
    await pleg.relist()
    assert sorted(set(woken.pods)) == sorted(two_pods)  # the first relist sees everything as new
    woken.pods.clear()
    await pleg.relist()
    assert woken.pods == []  # nothing changed
    fake.exit(app_of(fake, one), 0, event=False)
    await pleg.relist()
    assert woken.pods == [one]
    woken.pods.clear()
    del fake.containers[app_of(fake, two)]  # removed behind the agent's back (docker rm -f)
    await pleg.relist()
    assert woken.pods == [two] and pleg.last_relist > 0


async def test_a_relist_against_a_runtime_that_is_down_marks_it_unhealthy(
    fake: FakeRuntime, pleg: PLEG
) -> None:
    pleg.healthy = True
    fake.set_down("Cannot connect to the Docker daemon")
    await pleg.relist()
    assert not pleg.healthy and "Cannot connect to the Docker daemon" in pleg.runtime_error


async def test_a_broken_stream_marks_the_runtime_down_until_a_reconnect_is_announced(
    fake: FakeRuntime, pleg: PLEG, woken: Woken
) -> None:
    await pleg.start()
    await until("the stream connected", lambda: pleg.healthy)
    fake.set_down("the engine restarted")
    await until("the runtime marked down", lambda: not pleg.healthy)
    assert "the engine restarted" in pleg.runtime_error
    await asyncio.sleep(0.05)
    assert not pleg.healthy  # retries fail while it is down
    fake.set_up()
    await until("reconnected (the first retry waits 1 s)", lambda: pleg.healthy, timeout=5.0)
    assert woken.reconnects == 2 and pleg.runtime_error == ""
