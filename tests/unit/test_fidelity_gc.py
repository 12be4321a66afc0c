"""Dead containers and sandboxes as the kubelet's GC keeps them (``kuberuntime_gc.go``, defaults of 1.20).

``--maximum-dead-containers-per-container`` is 1: a crash-looping container leaves its running instance
and the newest dead one (``lastState``), nothing older. An old sandbox stays while a container still
refers to it and goes once none does; the newest sandbox of a pod always stays.
"""

from __future__ import annotations

from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import Clock, make_pod


async def test_a_crash_loop_keeps_one_dead_instance(
    fake: FakeRuntime, manager: RuntimeManager, clock: Clock
) -> None:
    pod = make_pod()
    fake.crash_on_start["app"] = 4
    await manager.sync_pod(pod)
    for attempt in range(1, 4):
        clock.advance(400)  # past any back-off: restart (the new instance dies at once)
        await manager.sync_pod(pod)
        assert (await manager.sync_pod(pod)).requeue_after  # in back-off now; the sync collects
        instances = [c for c in fake.pod(pod.uid) if c.name == "app"]
        assert [(c.attempt, c.state) for c in instances] == [(attempt, "exited")]


async def test_an_old_sandbox_goes_once_no_container_refers_to_it(
    fake: FakeRuntime, manager: RuntimeManager, clock: Clock
) -> None:
    pod = make_pod()
    await manager.sync_pod(pod)
    old_sandbox, old_app = fake.find("POD"), fake.find("app")
    fake.lose_sandbox(pod.uid)
    await manager.sync_pod(pod)  # a new sandbox; the old app instance is killed and kept (lastState)
    assert old_sandbox.id in fake.containers and old_app.id in fake.containers
    new_app = fake.find("app")
    assert new_app.running and new_app.attempt == 1
    fake.exit("app", 1)
    clock.advance(400)
    await manager.sync_pod(pod)  # attempt 1 is now the newest dead: attempt 0 and its sandbox go
    assert old_app.id not in fake.containers and old_sandbox.id not in fake.containers
    sandboxes = [c for c in fake.pod(pod.uid) if c.is_sandbox]
    assert len(sandboxes) == 1 and sandboxes[0].running
