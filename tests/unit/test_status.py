"""v1 PodStatus from runtime state: phase, conditions and container statuses as the kubelet computes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pykubelet.manifest import StaticPod
from pykubelet.runtime.api import Container
from pykubelet.runtime.containers import PodRuntimeState
from pykubelet.status import generate, get_phase

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
        termination=lambda uid, name, n: "",
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
    assert s["hostIP"] == "10.0.0.1"
    assert [c["name"] for c in s["containerStatuses"]] == ["side", "web"]  # sorted by name
    web = s["containerStatuses"][1]
    assert web["state"] == {"running": {"startedAt": "2026-11-27T09:00:00Z"}}
    assert web["ready"] is True and web["started"] is True
    assert web["containerID"].startswith("docker://")
    assert web["imageID"] == "docker://sha256:" + "a" * 64
    assert {c["type"]: c["status"] for c in s["conditions"]} == {
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
