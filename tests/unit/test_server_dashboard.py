"""The dashboard (``server/ui.py``) over a small host (``server_routes_support.py``): its files and their
policy, the snapshot that regroups pods around their infra containers and volumes, the hub that
recomputes it, and the event stream, through aiohttp's test server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from pykubelet.server import ui
from pykubelet.server.guard import ConnectionGuard
from pykubelet.server.host import PodDetail
from tests.unit.server_routes_support import RUNNING, UID, FakeHost, Serve, pod_item
from tests.unit.server_routes_support import serve_fixture as serve_fixture  # fixture

# -- the dashboard ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/ui/", "text/html"), ("/ui/index.html", "text/html"), ("/ui/app.js", "text/javascript"),
     ("/ui/style.css", "text/css"), ("/ui/favicon.svg", "image/svg+xml")],
)  # fmt: skip
async def test_the_dashboards_files_are_served_with_their_types_and_a_strict_policy(
    serve: Serve, path: str, content_type: str
) -> None:
    client = await serve(FakeHost())
    response = await client.get(path)
    assert (response.status, response.content_type) == (200, content_type)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(await response.read()) > 0
    response = await client.get("/ui", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (301, "/ui/")


async def test_the_snapshot_regroups_a_running_pod_around_its_infra_containers_and_volumes(
    serve: Serve,
) -> None:
    event = {
        "type": "Normal",
        "reason": "Started",
        "message": "Started container app",
        "count": 2,
        "involvedObject": {"kind": "Pod", "name": "web-node-a", "namespace": "default",
                           "fieldPath": "spec.containers{app}"},
    }  # fmt: skip
    error = {
        "file": "/m/bad.yaml",
        "error": "invalid",
        "fields": [{"field": "spec.containers", "message": "spec.containers: Required value"}],
        "warnings": [],
    }
    client = await serve(FakeHost(items=[pod_item(**RUNNING)], event_list=[event], report=[error]))
    response = await client.get("/ui/snapshot")
    assert response.content_type == "application/json"
    snap = await response.json()
    assert (snap["node"], snap["agentStarted"], snap["runtime"]) == (
        "node-a",
        "2026-01-01T00:00:00Z",
        {"ok": True, "error": ""},
    )
    assert snap["errors"] == [
        {
            "file": "/m/bad.yaml",
            "reason": "invalid",
            "fields": [{"field": "spec.containers", "reason": "Required value"}],
        }
    ]
    assert snap["events"][0]["container"] == "app" and snap["events"][0]["count"] == 2
    [pod] = snap["pods"]
    assert (pod["phase"], pod["ready"], pod["file"], pod["created"]) == (
        "Running",
        True,
        "/etc/kubernetes/manifests/web.yaml",
        "2026-01-01T00:00:01Z",
    )
    assert pod["infra"]["state"] == {"kind": "running", "reason": ""} and pod["infra"]["ip"] == "10.88.0.2"
    assert pod["infra"]["hostPorts"] == [
        {"hostPort": 8080, "containerPort": 80, "protocol": "TCP", "hostIP": "", "container": "app"}
    ]
    [setup] = pod["initContainers"]
    assert setup["state"] == {"kind": "terminated", "reason": "Completed", "exitCode": 0, "finishedAt": "t1"}
    [app] = pod["containers"]
    assert app["state"] == {"kind": "running", "reason": "", "startedAt": "2026-01-01T00:00:05Z"}
    assert (app["restartCount"], app["ready"]) == (2, True)
    assert app["lastTermination"] == {"reason": "Error", "exitCode": 1, "at": "t0"}
    assert app["ports"] == [{"name": "http", "containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]
    data, host_volume, other = pod["volumes"]
    assert data["kind"] == "emptyDir" and data["sizeLimit"] == "1Mi"
    assert data["path"] == f"/var/lib/pykubelet/pods/{UID}/volumes/kubernetes.io~empty-dir/data"
    assert [m["container"] for m in data["mountedBy"]] == ["setup", "app"]
    assert (host_volume["kind"], host_volume["path"], host_volume["type"]) == (
        "hostPath",
        "/srv",
        "Directory",
    )
    assert host_volume["mountedBy"] == [
        {"container": "app", "init": False, "mountPath": "/h", "readOnly": True}
    ]
    assert (other["kind"], other["path"], other["mountedBy"]) == ("configMap", "", [])


@pytest.mark.parametrize(
    ("status", "detail", "infra_state"),
    [
        ({}, PodDetail(None, ("ContainerCreating", "no space")),
         {"kind": "waiting", "reason": "ContainerCreating", "message": "no space"}),
        ({"phase": "Succeeded"}, PodDetail(None, None),
         {"kind": "terminated", "reason": "Stopped (the pod has finished)"}),
        ({"phase": "Pending"}, PodDetail(None, None), {"kind": "waiting", "reason": "ContainerCreating"}),
    ],
    ids=["sandbox-error", "finished", "creating"],
)  # fmt: skip
def test_the_infra_container_state_says_why_there_is_no_pod_ip(
    status: dict[str, Any], detail: PodDetail, infra_state: dict[str, Any]
) -> None:
    view = ui.pod_view(pod_item(**status), detail, FakeHost().node_facts())
    assert view["infra"]["state"] == infra_state
    assert view["file"] == ""  # no longer desired, no source annotation: nothing to show
    assert view["phase"] == status.get("phase", "Pending") and view["qosClass"] == "BestEffort"
    assert view["initContainers"][0]["state"] == {"kind": "waiting", "reason": "Waiting"}
    assert view["containers"][0]["state"] == {"kind": "waiting", "reason": "PodInitializing"}


def test_a_down_runtime_shows_in_the_snapshot_with_its_reason() -> None:
    snap = ui.snapshot(FakeHost(runtime=(False, "cannot reach the engine")))
    assert snap["runtime"] == {"ok": False, "error": "cannot reach the engine"}


def test_the_hub_recomputes_at_most_once_a_period_and_counts_only_real_changes() -> None:
    host = FakeHost()
    hub = ui.SnapshotHub(host, period=0.0)
    version, data = hub.current()
    assert version == 1 and json.loads(data)["pods"] == []
    assert hub.current()[0] == 1  # nothing changed: same version
    host.items = [pod_item(**RUNNING)]
    assert hub.current()[0] == 2
    slow = ui.SnapshotHub(host, period=3600.0)
    first = slow.current()
    host.items = []
    assert slow.current() == first  # within the period: the cached snapshot


async def read_event(content: Any) -> tuple[str, str]:
    """The next server-sent event of a stream: (event name, data)."""
    name, data = "", ""
    while True:
        line = (await asyncio.wait_for(content.readline(), 5)).decode().rstrip("\n")
        if not line:
            if name or data:
                return name, data
            continue
        key, _, value = line.partition(": ")
        if key == "event":
            name = value
        elif key == "data":
            data = value


async def test_the_stream_sends_a_snapshot_then_each_change_and_closes_on_shutdown(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui, "POLL_PERIOD", 0.01)
    monkeypatch.setattr(ui, "HEARTBEAT_PERIOD", 0.05)
    host = FakeHost()
    client = await serve(host)
    response = await client.get("/ui/stream")
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert await asyncio.wait_for(response.content.readline(), 5) == f"retry: {ui.RECONNECT_MS}\n".encode()
    name, data = await read_event(response.content)
    assert name == "snapshot" and json.loads(data)["pods"] == []
    client.app[ui.HUB].period = 0.0
    host.items = [pod_item(**RUNNING)]
    name, data = await read_event(response.content)
    while name == "heartbeat":
        name, data = await read_event(response.content)
    assert name == "snapshot" and json.loads(data)["pods"][0]["uid"] == UID
    name, data = await read_event(response.content)
    assert name == "heartbeat" and json.loads(data)["node"] == "node-a"
    await client.app.shutdown()  # stopping the agent ends open streams
    assert await asyncio.wait_for(response.content.read(), 5) == b""


async def test_a_head_request_for_the_stream_gets_the_headers_only(serve: Serve) -> None:
    client = await serve(FakeHost())
    response = await client.head("/ui/stream")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")


async def test_streams_past_the_cap_are_refused_with_503(serve: Serve) -> None:
    guard = ConnectionGuard()
    guard.max_streams = 0
    client = await serve(FakeHost(), guard=guard)
    response = await client.get("/ui/stream")
    assert response.status == 503 and response.headers["Retry-After"] == "5"
    assert "too many dashboard streams" in await response.text()
