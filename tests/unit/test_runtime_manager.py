"""RuntimeManager (``SyncPod`` / ``KillPod``) carrying out compute_pod_actions against FakeRuntime.

What the kubelet's ``kuberuntime_manager_test.go`` checks with its fake CRI: the order of runtime calls
(sandbox before containers), restarts with the crash-loop back-off, hooks and grace periods on the way
down, image pull failures and their reasons, and that everything is read back from the runtime (a fresh
manager, as after an agent restart, removes a pod it never started).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from pykubelet import podcgroups
from pykubelet.events import Recorder
from pykubelet.manifest import StaticPod
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Runtime, RuntimeError_
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import SANDBOX_RETRY, RuntimeManager
from tests.unit.conftest import NODE, PAUSE, Clock, make_pod, reasons

PRE_STOP = {"exec": {"command": ["/bin/sh", "-c", "nginx -s quit"]}}


def with_spec(pod: StaticPod, **container_fields: Any) -> StaticPod:
    """The same pod (same uid) with its first container changed, as an edited spec under one uid."""
    obj = copy.deepcopy(pod.obj)
    obj["spec"]["containers"][0].update(container_fields)
    return dataclasses.replace(pod, obj=obj)


def test_the_fake_is_a_runtime(fake: FakeRuntime) -> None:
    runtime: Runtime = fake
    assert isinstance(runtime, Runtime)


async def test_a_pod_starts_sandbox_first_then_its_containers(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder
) -> None:
    pod = make_pod(containers=[{"name": "a", "image": "busybox:1.35"}, {"name": "b", "image": "nginx:1.22"}])
    result = await manager.sync_pod(pod)
    assert result.requeue_after is None and not result.finished
    ops = fake.ops("run_pod_sandbox", "create_container", "start_container")
    assert (
        ops[0] == "run_pod_sandbox" and sorted(ops[1:]) == ["create_container"] * 2 + ["start_container"] * 2
    )
    sandbox = fake.find("POD")
    assert sandbox.running and sandbox.attempt == 0 and sandbox.ip.startswith("10.88.0.")
    for name in ("a", "b"):
        container = fake.find(name)
        assert container.running and container.sandbox_id == sandbox.id
        assert container.labels[L.POD_UID] == pod.uid and container.labels[L.NODE] == NODE.name
        assert container.annotations[L.RESTART_COUNT] == "0"
    (config,) = fake.args("run_pod_sandbox")[0]
    assert config.image == PAUSE and config.uid == pod.uid
    assert reasons(recorder).count("Started") == 2
    fake.calls.clear()
    assert (await manager.sync_pod(pod)).requeue_after is None
    assert fake.ops("run_pod_sandbox", "create_container", "stop_container") == []  # nothing to do


async def test_init_containers_run_one_at_a_time_before_the_app(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    pod = make_pod(
        init=[{"name": "setup", "image": "busybox:1.35"}, {"name": "more", "image": "busybox:1.35"}]
    )
    await manager.sync_pod(pod)
    assert [c.name for c in fake.pod(pod.uid) if not c.is_sandbox] == ["setup"]
    await manager.sync_pod(pod)  # still running: wait
    assert fake.ops("create_container").count("create_container") == 1
    fake.exit("setup", 0)
    await manager.sync_pod(pod)
    fake.exit("more", 0)
    await manager.sync_pod(pod)
    assert fake.find("more").kind == "init" and fake.find("app").running


async def test_a_crash_restarts_at_once_then_waits_out_the_back_off(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, clock: Clock
) -> None:
    pod = make_pod()
    fake.crash_on_start["app"] = 1
    await manager.sync_pod(pod)
    assert fake.find("app").state == "exited"
    assert (await manager.sync_pod(pod)).requeue_after is None  # the first restart is immediate
    assert fake.find("app").attempt == 1
    result = await manager.sync_pod(pod)  # the second waits 10 s
    assert result.requeue_after is not None and 9 < result.requeue_after <= 10
    assert manager.state(pod.uid).reasons["app"][0] == "CrashLoopBackOff"
    assert "back-off 10s restarting failed container=app" in manager.state(pod.uid).reasons["app"][1]
    assert "BackOff" in reasons(recorder)
    assert fake.find("app").attempt == 1
    clock.advance(11)
    await manager.sync_pod(pod)
    newest = fake.find("app")
    assert newest.attempt == 2 and newest.annotations[L.RESTART_COUNT] == "2"
    # the newest instance and the one before it stay (state and lastState); the oldest is collected
    assert sorted(c.attempt for c in fake.pod(pod.uid) if c.name == "app") == [1, 2]
    result = await manager.sync_pod(pod)
    assert result.requeue_after is not None and 19 < result.requeue_after <= 20  # doubled


async def test_kill_pod_runs_pre_stop_then_stops_within_the_grace_period(
    fake: FakeRuntime, manager: RuntimeManager, tmp_path: Any
) -> None:
    pod = make_pod(
        containers=[{"name": "web", "image": "nginx:1.22", "lifecycle": {"preStop": PRE_STOP}}],
        terminationGracePeriodSeconds=20,
    )
    await manager.sync_pod(pod)
    web = fake.find("web")
    pod_dir = tmp_path / "root" / "pods" / pod.uid
    assert pod_dir.is_dir()
    await manager.kill_pod(pod.uid, pod)
    ops = fake.ops("exec_sync", "stop_container", "remove_container", "remove_pod_sandbox")
    assert ops[:2] == ["exec_sync", "stop_container"]
    assert fake.args("exec_sync")[0][:2] == (web.id, ("/bin/sh", "-c", "nginx -s quit"))
    ((stopped, grace),) = fake.args("stop_container")
    assert stopped == web.id and grace == 20  # an instant preStop leaves all 20 s
    assert fake.pod(pod.uid) == []
    assert not pod_dir.exists()
    assert manager.states.get(pod.uid) is None


@pytest.mark.parametrize(("grace", "expected"), [(3, 3), (0, 2)])
async def test_a_kill_grace_overrides_the_pod_one_but_never_below_two_seconds(
    fake: FakeRuntime, manager: RuntimeManager, grace: int, expected: int
) -> None:
    pod = make_pod()
    await manager.sync_pod(pod)
    await manager.kill_pod(pod.uid, pod, grace)
    assert [g for _, g in fake.args("stop_container")] == [expected]


async def test_a_container_that_ignores_sigterm_is_killed_after_the_grace_period(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    pod = make_pod(terminationGracePeriodSeconds=5)
    await manager.sync_pod(pod)
    fake.hang_on_stop.add("app")
    app = fake.find("app")
    await manager.kill_containers(pod, await fake.list_pod_containers(pod.uid))
    assert fake.containers[app.id].exit_code == 137 and fake.args("stop_container") == [(app.id, 5)]


async def test_an_orphan_is_killed_from_what_the_runtime_remembers(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, tmp_path: Any
) -> None:
    """After an agent restart the manifest is gone: no spec, only labels and annotations."""
    pod = make_pod(
        containers=[{"name": "web", "image": "nginx:1.22", "lifecycle": {"preStop": PRE_STOP}}],
        terminationGracePeriodSeconds=7,
    )
    await manager.sync_pod(pod)
    fresh = RuntimeManager(fake, Recorder(NODE.name), NODE, manager.settings)
    fake.calls.clear()
    await fresh.kill_pod(pod.uid, None)
    assert fake.ops("exec_sync", "stop_container")[:2] == ["exec_sync", "stop_container"]
    assert fake.args("stop_container")[0][1] == 7  # the grace period kept in the annotations
    assert fake.pod(pod.uid) == []


@pytest.mark.parametrize("driver", ["systemd", "cgroupfs"])
async def test_a_removed_pod_takes_its_slice_with_it_under_the_systemd_driver(
    fake: FakeRuntime, manager: RuntimeManager, monkeypatch: pytest.MonkeyPatch, driver: str
) -> None:
    released: list[str] = []
    monkeypatch.setattr(podcgroups, "release", released.append)
    settings = dataclasses.replace(manager.settings, cgroup_driver=driver)
    executor = RuntimeManager(fake, Recorder(NODE.name), NODE, settings)
    pod = make_pod()
    await executor.sync_pod(pod)
    await executor.kill_pod(pod.uid, pod)
    assert released == ([pod.uid] if driver == "systemd" else [])


async def test_a_failed_pull_is_err_image_pull_then_image_pull_back_off(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, clock: Clock
) -> None:
    image = "registry.example/missing:1"
    fake.pull_errors[image] = "manifest unknown"
    pod = make_pod(containers=[{"name": "app", "image": image}])
    assert (await manager.sync_pod(pod)).requeue_after == 1.0
    reason, message = manager.state(pod.uid).reasons["app"]
    assert reason == "ErrImagePull" and "manifest unknown" in message
    assert "Failed" in reasons(recorder)
    result = await manager.sync_pod(pod)
    assert manager.state(pod.uid).reasons["app"][0] == "ImagePullBackOff"
    assert fake.args("pull_image") == [(image,)]  # no second pull inside the back-off
    assert result.requeue_after is not None and 9 < result.requeue_after <= 10
    del fake.pull_errors[image]
    clock.advance(11)
    await manager.sync_pod(pod)
    assert fake.find("app").running and "app" not in manager.state(pod.uid).reasons


async def test_an_absent_image_with_pull_policy_never_is_err_image_never_pull(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder
) -> None:
    pod = make_pod(containers=[{"name": "app", "image": "local/only:1", "imagePullPolicy": "Never"}])
    await manager.sync_pod(pod)
    assert manager.state(pod.uid).reasons["app"][0] == "ErrImageNeverPull"
    assert fake.args("pull_image") == [] and "ErrImageNeverPull" in reasons(recorder)


async def test_a_changed_spec_kills_the_container_and_the_next_sync_starts_the_new_one(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder
) -> None:
    pod = make_pod()
    await manager.sync_pod(pod)
    old = fake.find("app")
    edited = with_spec(pod, command=["sleep", "10"])
    assert (await manager.sync_pod(edited)).requeue_after == 0.0
    assert fake.containers[old.id].state == "exited" and "Killing" in reasons(recorder)
    await manager.sync_pod(edited)
    new = fake.find("app")
    assert new.running and new.attempt == 1 and new.hash == L.container_hash(edited.spec["containers"][0])


async def test_a_failed_liveness_probe_kills_the_container_with_the_probe_grace(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    pod = make_pod()
    await manager.sync_pod(pod)
    app = fake.find("app")
    manager.liveness_failed[app.id] = 4
    await manager.sync_pod(pod)
    assert fake.args("stop_container") == [(app.id, 4)] and app.id not in manager.liveness_failed
    await manager.sync_pod(pod)  # the first restart of a container goes at once
    assert fake.find("app").running and fake.find("app").attempt == 1


async def test_a_lost_sandbox_is_recreated_and_the_containers_restart_in_it(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder
) -> None:
    pod = make_pod()
    await manager.sync_pod(pod)
    old_sandbox, old_app = fake.find("POD"), fake.find("app")
    fake.lose_sandbox(pod.uid)
    await manager.sync_pod(pod)
    assert "SandboxChanged" in reasons(recorder)
    assert fake.args("stop_container")[0][0] == old_app.id
    sandbox, app = fake.find("POD"), fake.find("app")
    assert sandbox.attempt == 1 and not fake.containers[old_sandbox.id].running  # GC takes it later
    assert app.running and app.attempt == 1 and app.sandbox_id == sandbox.id


async def test_a_sandbox_that_cannot_be_made_is_retried_with_back_off(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, clock: Clock
) -> None:
    fake.fail_sandbox = "no space left on device"
    pod = make_pod()
    assert (await manager.sync_pod(pod)).requeue_after == SANDBOX_RETRY
    assert manager.state(pod.uid).sandbox_error == ("ContainerCreating", "no space left on device")
    assert "FailedCreatePodSandBox" in reasons(recorder)
    await manager.sync_pod(pod)
    assert len(fake.args("run_pod_sandbox")) == 1  # inside the back-off: not asked again
    fake.fail_sandbox = None
    clock.advance(11)
    await manager.sync_pod(pod)
    assert fake.find("app").running and manager.state(pod.uid).sandbox_error is None


@pytest.mark.parametrize(
    ("knob", "reason"), [("fail_create", "CreateContainerError"), ("fail_start", "RunContainerError")]
)
async def test_a_container_that_cannot_be_created_or_started_keeps_its_reason(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, knob: str, reason: str
) -> None:
    getattr(fake, knob)["app"] = RuntimeError_(reason, 'exec: "sleep": executable file not found')
    pod = make_pod()
    result = await manager.sync_pod(pod)
    assert result.requeue_after is not None and result.requeue_after >= 1.0
    assert manager.state(pod.uid).reasons["app"] == (reason, 'exec: "sleep": executable file not found')
    assert "Failed" in reasons(recorder)


async def test_a_failing_post_start_hook_kills_the_container(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder
) -> None:
    fake.exec_results[("false",)] = (1, "hook said no")
    pod = make_pod(
        containers=[
            {
                "name": "app",
                "image": "busybox:1.35",
                "lifecycle": {"postStart": {"exec": {"command": ["false"]}}},
            }
        ]
    )
    await manager.sync_pod(pod)
    assert fake.find("app").state == "exited"
    assert manager.state(pod.uid).reasons["app"] == (
        "PostStartHookError",
        "PostStartHook failed: hook said no",
    )
    assert "FailedPostStartHook" in reasons(recorder)


async def test_a_never_pod_that_has_finished_stops_its_sandbox(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    pod = make_pod(restartPolicy="Never")
    fake.crash_on_start["app"] = 0
    await manager.sync_pod(pod)
    result = await manager.sync_pod(pod)
    assert result.finished and fake.args("stop_pod_sandbox")[0][0] == fake.find("POD").id
    assert not fake.find("POD").running


async def test_a_volume_that_cannot_be_set_up_is_failed_mount(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, tmp_path: Any
) -> None:
    missing = str(tmp_path / "absent")
    pod = make_pod(volumes=[{"name": "data", "hostPath": {"path": missing, "type": "Directory"}}])
    assert (await manager.sync_pod(pod)).requeue_after == SANDBOX_RETRY
    assert "FailedMount" in reasons(recorder) and fake.args("run_pod_sandbox") == []


async def test_a_sync_against_a_runtime_that_is_down_raises_for_the_worker_to_retry(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    fake.set_down("dial unix /run/docker.sock: connect: no such file or directory")
    with pytest.raises(ConnectionError, match="no such file"):
        await manager.sync_pod(make_pod())
    assert await fake.check_health(1.0) == (
        False,
        "cannot reach fake://: dial unix /run/docker.sock: connect: no such file or directory",
    )
