"""The status manager: one cache of pod statuses, ``/pods`` from it, and the pod startup measurement."""

from __future__ import annotations

import json
from typing import Any

from pykubelet.admission import Rejection
from pykubelet.manifest import StaticPod
from pykubelet.statusmanager import StatusManager


def pod(name: str) -> StaticPod:
    obj = {
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]},
    }
    return StaticPod(f"uid-{name}", name, "default", f"/m/{name}.yaml", obj)


def status(phase: str, state: str = "running", pod_ip: str = "172.17.0.2") -> dict[str, Any]:
    return {"phase": phase, "podIP": pod_ip, "containerStatuses": [{"name": "c", "state": {state: {}}}]}


def manager(*pods: StaticPod, observed: list[float] | None = None) -> StatusManager:
    desired = {p.uid: p for p in pods}
    sink = observed if observed is not None else []
    return StatusManager("10.0.0.1", lambda: desired, sink.append)


def test_a_pod_without_a_sync_yet_is_pending_with_its_qos_class() -> None:
    web = pod("web")
    items = manager(web).pod_list()["items"]
    assert items == [
        {"metadata": web.metadata, "spec": web.spec, "status": {"phase": "Pending", "qosClass": "BestEffort"}}
    ]


def test_pods_json_is_encoded_once_per_change() -> None:
    web = pod("web")
    statuses = manager(web)
    statuses.set_status(web, status("Pending", "waiting"))
    first = statuses.pod_list_json()
    assert statuses.pod_list_json() is first  # no change: the same bytes
    statuses.set_status(web, status("Pending", "waiting"))
    assert statuses.pod_list_json() is first  # an equal status changes nothing
    statuses.set_status(web, status("Running"))
    assert json.loads(statuses.pod_list_json())["items"][0]["status"]["phase"] == "Running"


def test_a_refused_pod_shows_failed_with_the_reason_until_its_file_goes() -> None:
    web = pod("web")
    statuses = manager(web)
    statuses.reject(web.uid, Rejection("NodePorts", "Pod was rejected: port taken"))
    shown = statuses.pod_list()["items"][0]["status"]
    assert (shown["phase"], shown["reason"], shown["message"]) == (
        "Failed",
        "NodePorts",
        "Pod was rejected: port taken",
    )
    assert "hostIP" not in shown and "hostIPs" not in shown  # no API client: the kubelet leaves them out
    statuses.keep_rejections({web.uid})
    assert statuses.is_rejected(web.uid)
    statuses.keep_rejections(set())
    assert not statuses.is_rejected(web.uid)


def test_startup_is_measured_once_when_every_container_first_runs() -> None:
    web = pod("web")
    observed: list[float] = []
    statuses = manager(web, observed=observed)
    statuses.pod_added(web.uid)
    statuses.set_status(web, status("Pending", "waiting"))
    assert observed == []
    statuses.set_status(web, status("Running"))
    statuses.set_status(web, status("Running", pod_ip="172.17.0.3"))
    assert len(observed) == 1
    assert observed[0] >= 0


def test_a_pod_gone_loses_its_status() -> None:
    web = pod("web")
    statuses = manager(web)
    statuses.set_status(web, status("Running"))
    statuses.forget(web.uid)
    assert statuses.get(web.uid) is None
    assert statuses.pod_list()["items"][0]["status"]["phase"] == "Pending"


def test_gauges_count_pods_with_a_sandbox_and_containers_by_state() -> None:
    web, job = pod("web"), pod("job")
    statuses = manager(web, job)
    statuses.set_status(web, status("Running"))
    statuses.set_status(job, status("Succeeded", "terminated"))
    assert statuses.gauges() == {
        "running_pods": 1,
        "containers_by_state": {"running": 1, "exited": 1, "created": 0, "unknown": 0},
    }
