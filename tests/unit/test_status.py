"""v1 PodStatus from runtime state: phase, conditions and container statuses as the kubelet computes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pykubelet.manifest import StaticPod
from pykubelet.runtime.api import Container
from pykubelet.runtime.containers import PodRuntimeState
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from pykubelet.status import ProbeFlags, generate, get_phase
from tests.unit.conftest import NODE, make_pod

UID = "f" * 32
T0 = datetime(2026, 11, 27, 9, 0, 0, tzinfo=timezone.utc)


def pod(policy: str = "Always", init: bool = False) -> StaticPod:
    spec: dict[str, Any] = {
        "restartPolicy": policy,
        "containers": [{"name": "web", "image": "nginx:1.22"}, {"name": "side", "image": "busybox:1.35"}],
    }
    if init:
        spec["initContainers"] = [{"name": "setup", "image": "busybox:1.35"}]
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p-n", "namespace": "default", "uid": UID},
        "spec": spec,
    }
    return StaticPod(UID, "p-n", "default", "/m/p.yaml", obj)


def ctr(
    name: str,
    state: str,
    attempt: int = 0,
    exit_code: int = 0,
    kind: str = "container",
    age: int = 0,
    ip: str = "",
) -> Container:
    c = Container(
        id=f"{name}{attempt}".ljust(64, "0"),
        name=name,
        pod_uid=UID,
        pod_name="p-n",
        namespace="default",
        kind=kind,
        attempt=attempt,
        state=state,
        labels={},
        exit_code=exit_code,
        created_at=T0 + timedelta(seconds=age),
        started_at=T0 + timedelta(seconds=age),
        image="busybox:1.35",
        image_id="sha256:" + "a" * 64,
        ip=ip,
    )
    if state == "exited":
        c.finished_at = T0 + timedelta(seconds=age + 1)
        c.reason = "Completed" if exit_code == 0 else "Error"
    return c


def status_of(
    p: StaticPod,
    containers: list[Container],
    state: PodRuntimeState | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return generate(
        p,
        containers,
        state or PodRuntimeState(),
        previous,
        host_ip="10.0.0.1",
        termination=lambda *_: "",
        images=lambda image_id: None,
    )


def test_running_pod() -> None:
    s = status_of(
        pod(),
        [
            ctr("POD", "running", kind="sandbox", ip="172.17.0.5"),
            ctr("web", "running"),
            ctr("side", "running"),
        ],
    )
    assert s["phase"] == "Running"
    assert s["podIP"] == "172.17.0.5" and s["podIPs"] == [{"ip": "172.17.0.5"}]
    assert "hostIP" not in s and "hostIPs" not in s  # set only with an API client (kubeClient != nil)
    assert [c["name"] for c in s["containerStatuses"]] == ["side", "web"]  # sorted by name
    web = s["containerStatuses"][1]
    assert web["state"] == {"running": {"startedAt": "2026-11-27T09:00:00Z"}}
    assert web["ready"] is True and web["started"] is True
    assert web["containerID"].startswith("docker://")
    assert web["imageID"] == "docker://sha256:" + "a" * 64
    assert {c["type"]: c["status"] for c in s["conditions"]} == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    assert s["qosClass"] == "BestEffort"


def test_nothing_created_yet_is_pending_container_creating() -> None:
    s = status_of(pod(), [])
    assert s["phase"] == "Pending"
    assert s["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    ready = next(c for c in s["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [web side]"


def test_crash_loop_is_waiting_with_last_state_and_the_pod_stays_running() -> None:
    state = PodRuntimeState(
        reasons={"web": ("CrashLoopBackOff", "back-off 10s restarting failed container=web")}
    )
    s = status_of(
        pod(),
        [
            ctr("POD", "running", kind="sandbox", ip="172.17.0.5"),
            ctr("web", "exited", attempt=1, exit_code=2, age=5),
            ctr("web", "exited", attempt=0, exit_code=2),
            ctr("side", "running"),
        ],
        state,
    )
    web = next(c for c in s["containerStatuses"] if c["name"] == "web")
    assert web["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert web["lastState"]["terminated"]["exitCode"] == 2
    assert web["restartCount"] == 1
    assert s["phase"] == "Running"


def test_completed_never_pod_succeeds_and_failed_one_fails() -> None:
    done = [ctr("web", "exited"), ctr("side", "exited")]
    assert status_of(pod("Never"), done)["phase"] == "Succeeded"
    failed = [ctr("web", "exited", exit_code=1), ctr("side", "exited")]
    s = status_of(pod("Never"), failed)
    assert s["phase"] == "Failed"
    assert "podIP" not in s


def test_init_containers_pending_then_initialized() -> None:
    s = status_of(
        pod(init=True), [ctr("POD", "running", kind="sandbox"), ctr("setup", "running", kind="init")]
    )
    assert s["phase"] == "Pending"
    assert s["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    init = next(c for c in s["conditions"] if c["type"] == "Initialized")
    assert (init["status"], init["reason"]) == ("False", "ContainersNotInitialized")
    assert init["message"] == "containers with incomplete status: [setup]"
    s = status_of(
        pod(init=True), [ctr("setup", "exited", kind="init"), ctr("web", "running"), ctr("side", "running")]
    )
    assert s["initContainerStatuses"][0]["ready"] is True
    assert s["phase"] == "Running"


def test_transition_times_are_kept_while_the_status_holds() -> None:
    first = status_of(pod(), [])
    for c in first["conditions"]:
        c["lastTransitionTime"] = "2000-01-01T00:00:00Z"
    first["startTime"] = "2000-01-01T00:00:00Z"
    again = status_of(pod(), [], previous=first)
    assert all(c["lastTransitionTime"] == "2000-01-01T00:00:00Z" for c in again["conditions"])
    assert again["startTime"] == "2000-01-01T00:00:00Z"
    running = status_of(pod(), [ctr("web", "running"), ctr("side", "running")], previous=first)
    ready = next(c for c in running["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] != "2000-01-01T00:00:00Z"


def test_get_phase_always_pod_whose_containers_all_exited_is_running() -> None:
    exited = {"state": {"terminated": {"exitCode": 1}}, "lastState": {}}
    assert get_phase({"restartPolicy": "Always"}, [], [exited]) == "Running"
    assert get_phase({"restartPolicy": "OnFailure"}, [], [exited]) == "Running"
    assert get_phase({"restartPolicy": "Never"}, [], [exited]) == "Failed"


# -- status of what FakeRuntime holds after real syncs (the executor's records, not hand-made ones) ------


async def synced_status(
    manager: RuntimeManager, fake: FakeRuntime, p: StaticPod, *, probes: ProbeFlags | None = None
) -> dict[str, Any]:
    """The status the kubelet computes after a sync: from the runtime's listing and the manager's reasons."""
    return generate(
        p,
        await fake.list_pod_containers(p.uid),
        manager.state(p.uid),
        None,
        host_ip=NODE.host_ip,
        termination=manager.termination_message,
        images=fake.cached_image,
        probes=probes,
    )


async def test_a_synced_pod_is_running_with_the_sandbox_ip_and_runtime_ids(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    p = make_pod()
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    app = s["containerStatuses"][0]
    assert s["phase"] == "Running" and s["podIP"] == fake.find("POD").ip
    assert app["containerID"] == f"fake://{fake.find('app').id}" and app["ready"] is True
    assert app["image"] == "busybox:1.35" and app["imageID"].startswith("busybox@sha256:")


async def test_a_crash_looping_container_waits_with_its_last_termination(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    p = make_pod()
    fake.crash_on_start["app"] = 3
    for _ in range(3):  # start, restart at once, then back off
        await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    app = s["containerStatuses"][0]
    assert app["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert (
        app["lastState"]["terminated"]["exitCode"] == 3
        and app["lastState"]["terminated"]["reason"] == "Error"
    )
    assert app["restartCount"] == 1 and app["ready"] is False
    assert s["phase"] == "Running"
    assert next(c for c in s["conditions"] if c["type"] == "Ready")["status"] == "False"


async def test_the_termination_message_file_reaches_the_status(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    p = make_pod(restartPolicy="Never")
    await manager.sync_pod(p)
    (_, config) = fake.args("create_container")[0]
    path = next(m.host_path for m in config.mounts if m.container_path == "/dev/termination-log")
    with open(path, "w") as fh:  # noqa: ASYNC230 (what the container wrote to /dev/termination-log)
        fh.write("disk full")
    fake.exit("app", 1)
    s = await synced_status(manager, fake, p)
    terminated = s["containerStatuses"][0]["state"]["terminated"]
    assert terminated["message"] == "disk full" and terminated["exitCode"] == 1 and s["phase"] == "Failed"


async def test_image_pull_failures_are_waiting_reasons_of_a_pending_pod(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    fake.pull_errors["registry.example/app:1"] = "manifest unknown"
    p = make_pod(containers=[{"name": "app", "image": "registry.example/app:1"}])
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    waiting = s["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull" and "manifest unknown" in waiting["message"]
    assert s["phase"] == "Pending"
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    assert s["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"


async def test_a_sandbox_that_cannot_be_made_shows_as_container_creating_with_why(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    fake.fail_sandbox = "failed to set up the network: no IP addresses available"
    p = make_pod()
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    assert s["containerStatuses"][0]["state"] == {
        "waiting": {"reason": "ContainerCreating", "message": fake.fail_sandbox}
    }
    assert s["phase"] == "Pending" and "podIP" not in s


async def test_a_finished_never_pod_succeeds_and_gives_up_its_ip(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    p = make_pod(restartPolicy="Never")
    fake.crash_on_start["app"] = 0
    await manager.sync_pod(p)
    await manager.sync_pod(p)  # finished: the sandbox is stopped
    s = await synced_status(manager, fake, p)
    assert s["phase"] == "Succeeded" and "podIP" not in s
    assert s["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


async def test_a_host_network_pod_has_the_node_ip(fake: FakeRuntime, manager: RuntimeManager) -> None:
    p = make_pod(hostNetwork=True)
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    assert fake.find("POD").ip == "" and s["podIP"] == NODE.host_ip


async def test_init_containers_then_app_containers_through_the_runtime(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    p = make_pod(init=[{"name": "setup", "image": "busybox:1.35"}])
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    assert s["phase"] == "Pending"
    assert s["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    fake.exit("setup", 0)
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p)
    assert s["phase"] == "Running" and s["initContainerStatuses"][0]["ready"] is True


async def test_probe_flags_decide_ready(fake: FakeRuntime, manager: RuntimeManager) -> None:
    p = make_pod()
    await manager.sync_pod(p)
    s = await synced_status(manager, fake, p, probes=lambda c: (True, False))
    assert s["containerStatuses"][0]["ready"] is False and s["containerStatuses"][0]["started"] is True
    assert next(c for c in s["conditions"] if c["type"] == "ContainersReady")["status"] == "False"


def test_pod_ready_to_start_containers_follows_the_sandbox() -> None:
    """First condition, as generateAPIPodStatus appends it: True once the sandbox runs with its network."""

    def ready(containers: list[Container], host_network: bool = False) -> str:
        p = pod()
        if host_network:
            p.spec["hostNetwork"] = True
        s = status_of(p, containers)
        assert s["conditions"][0]["type"] == "PodReadyToStartContainers"
        assert "reason" not in s["conditions"][0]
        return str(s["conditions"][0]["status"])

    assert ready([]) == "False"
    assert ready([ctr("POD", "exited", kind="sandbox", ip="172.17.0.5")]) == "False"
    assert ready([ctr("POD", "running", kind="sandbox")]) == "False"  # no IP yet: networking not up
    assert ready([ctr("POD", "running", kind="sandbox", ip="172.17.0.5")]) == "True"
    assert ready([ctr("POD", "running", kind="sandbox")], host_network=True) == "True"
