"""preStop runs inside the grace period and the stop gets what is left, at least 2 s (``killContainer``).

Measured to the second against the fake runtime's clock-free exec delay: a preStop of 3 s with a grace of
10 leaves 7 for the stop; with a grace of 4 it would leave 1, and the kubelet's minimum of 2 applies.
"""

from __future__ import annotations

import pytest

from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import make_pod

PRE_STOP = {"exec": {"command": ["sh", "-c", "sleep 3"]}}


@pytest.mark.parametrize(("grace", "left"), [(10, 7), (4, 2)])
async def test_the_stop_gets_the_grace_left_after_pre_stop(
    fake: FakeRuntime, manager: RuntimeManager, grace: int, left: int
) -> None:
    pod = make_pod(
        containers=[{"name": "web", "image": "nginx:1.22", "lifecycle": {"preStop": PRE_STOP}}],
        terminationGracePeriodSeconds=grace,
    )
    await manager.sync_pod(pod)
    fake.exec_delay = 3.0
    await manager.kill_pod(pod.uid, pod)
    assert fake.ops("exec_sync", "stop_container") == ["exec_sync", "stop_container"]
    (exec_call,) = fake.args("exec_sync")
    assert exec_call[2] == grace  # the hook itself may use the whole grace period
    assert [g for _, g in fake.args("stop_container")] == [left]
