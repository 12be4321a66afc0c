"""The read-only port's routes and the dashboard (``server/routes.py``, ``server/ui.py``) over a small host.

The server depends only on the :class:`~pykubelet.server.host.Host` protocol, so these tests serve it
from :class:`FakeHost` (fixed answers the test sets) through aiohttp's test server on 127.0.0.1: every
route, its status code and content type, the kubelet's refusals (other methods, the debugging paths,
unknown paths, huge URLs), nosniff on every answer, and the dashboard's snapshot, static files and
event stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pykubelet.server import routes, ui
from pykubelet.server.guard import ConnectionGuard
from pykubelet.server.host import NodeFacts, PodDetail

UID = "0123456789abcdef0123456789abcdef"
STARTED = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def pod_item(**status: Any) -> dict[str, Any]:
    """A /pods item: one init and one app container, a hostPath, an emptyDir and a configMap volume."""
    mounts = [{"name": "data", "mountPath": "/data"}, {"name": "host", "mountPath": "/h", "readOnly": True}]
    return {
        "metadata": {
            "name": "web-node-a",
            "namespace": "default",
            "uid": UID,
            "annotations": {"kubernetes.io/config.seen": "2026-01-01T00:00:01Z"},
        },
        "spec": {
            "initContainers": [{"name": "setup", "image": "busybox:1.35", "volumeMounts": mounts[:1]}],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.22",
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 80, "hostPort": 8080, "protocol": "TCP"}],
                    "volumeMounts": mounts,
                }
            ],
            "volumes": [
                {"name": "data", "emptyDir": {"sizeLimit": "1Mi"}},
                {"name": "host", "hostPath": {"path": "/srv", "type": "Directory"}},
                {"name": "cfg", "configMap": {"name": "x"}},
            ],
        },
        "status": status,
    }


RUNNING = {
    "phase": "Running",
    "podIP": "10.88.0.2",
    "hostIP": "10.0.0.1",
    "qosClass": "BestEffort",
    "startTime": "2026-01-01T00:00:02Z",
    "conditions": [{"type": "Ready", "status": "True"}],
    "initContainerStatuses": [
        {"name": "setup", "state": {"terminated": {"reason": "Completed", "exitCode": 0, "finishedAt": "t1"}}}
    ],
    "containerStatuses": [
        {
            "name": "app",
            "image": "nginx:1.22",
            "ready": True,
            "restartCount": 2,
            "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "t0"}},
        }
    ],
}


@dataclass
class FakeHost:
    """The :class:`Host` protocol with answers a test sets; it counts nothing and calls nothing."""

    checks: list[tuple[str, str | None]] = field(
        default_factory=lambda: [("ping", None), ("log", None), ("syncloop", None), ("runtime", None)]
    )
    items: list[dict[str, Any]] = field(default_factory=list)
    detail: PodDetail = field(default_factory=lambda: PodDetail("/etc/kubernetes/manifests/web.yaml", None))
    event_list: list[dict[str, Any]] = field(default_factory=list)
    report: list[dict[str, Any]] = field(default_factory=list)
    runtime: tuple[bool, str] = (True, "")
    summary_views: list[bool] = field(default_factory=list)

    def node_facts(self) -> NodeFacts:
        return NodeFacts("node-a", "/var/lib/pykubelet", "/etc/kubernetes/manifests", "pause:3.10", STARTED)

    def health_checks(self) -> list[tuple[str, str | None]]:
        return self.checks

    def runtime_state(self) -> tuple[bool, str]:
        return self.runtime

    def pod_list(self) -> dict[str, Any]:
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.items}

    def pod_list_json(self) -> bytes:
        return json.dumps(self.pod_list()).encode()

    def pod_detail(self, uid: str) -> PodDetail:
        return self.detail

    def events(self) -> list[dict[str, Any]]:
        return self.event_list

    def manifest_report(self) -> list[dict[str, Any]]:
        return self.report

    def machine_info(self) -> dict[str, Any]:
        return {"num_cores": 2, "memory_capacity": 2**30}

    def cadvisor_names(self) -> dict[tuple[str, str], tuple[str, str]]:
        return {}

    def stats_summary_json(self, only_cpu_and_memory: bool = False) -> bytes:
        self.summary_views.append(only_cpu_and_memory)
        return b'{"node": {"nodeName": "node-a"}, "pods": []}'

    def metrics_text(self) -> bytes:
        return b"# HELP kubelet_running_pods x\n# TYPE kubelet_running_pods gauge\nkubelet_running_pods 1.0\n"

    def probe_metrics_text(self) -> bytes:
        return b"# TYPE prober_probe_total counter\n"


Serve = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve a host's read-only app on 127.0.0.1 (with the dashboard unless told otherwise)."""
    clients: list[TestClient[Any, Any]] = []

    async def _serve(
        host: FakeHost, enable_ui: bool = True, guard: ConnectionGuard | None = None
    ) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(
            TestServer(routes.build_app(host, guard, enable_ui=enable_ui))
        )
        await client.start_server()
        clients.append(client)
        return client

    yield _serve
    for client in clients:
        await client.close()


# -- the read-only port ---------------------------------------------------------------------------------


async def test_healthz_is_ok_and_verbose_lists_every_check(serve: Serve) -> None:
    client = await serve(FakeHost())
    response = await client.get("/healthz")
    assert (response.status, response.content_type, await response.text()) == (200, "text/plain", "ok")
    response = await client.get("/healthz?verbose")
    assert (
        await response.text()
        == "[+]ping ok\n[+]log ok\n[+]syncloop ok\n[+]runtime ok\nhealthz check passed\n"
    )
    response = await client.get("/healthz/runtime")
    assert (response.status, await response.text()) == (200, "ok")


async def test_a_failed_check_fails_healthz_with_its_reason(serve: Serve) -> None:
    host = FakeHost(checks=[("ping", None), ("runtime", "container runtime is down: gone")])
    client = await serve(host)
    response = await client.get("/healthz")
    assert response.status == 500
    assert await response.text() == (
        "[+]ping ok\n[-]runtime failed: container runtime is down: gone\nhealthz check failed\n"
    )
    response = await client.get("/healthz/runtime")
    assert (response.status, await response.text()) == (
        500,
        "internal server error: container runtime is down: gone\n",
    )
    response = await client.get("/healthz/ping")
    assert response.status == 200
    response = await client.get("/healthz/nope")
    assert (response.status, await response.text()) == (404, "404 page not found\n")


async def test_pods_events_manifests_spec_and_stats_are_json_from_the_host(serve: Serve) -> None:
    event = {"reason": "Started", "involvedObject": {"kind": "Pod", "name": "web-node-a"}}
    report = [{"file": "/m/web.yaml", "pod": "default/web-node-a", "uid": UID, "warnings": []}]
    host = FakeHost(items=[pod_item(**RUNNING)], event_list=[event], report=report)
    client = await serve(host)
    for path in ("/pods", "/pods/"):
        response = await client.get(path)
        assert (response.status, response.content_type) == (200, "application/json")
        assert (await response.json())["items"][0]["metadata"]["uid"] == UID
    response = await client.get("/events")
    assert await response.json() == {
        "kind": "EventList",
        "apiVersion": "v1",
        "metadata": {},
        "items": [event],
    }
    response = await client.get("/manifests")
    assert await response.json() == {"items": report}
    response = await client.get("/spec/")
    assert (response.content_type, await response.json()) == (
        "application/json",
        {"num_cores": 2, "memory_capacity": 2**30},
    )
    response = await client.get("/spec", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (301, "/spec/")
    response = await client.get("/stats/summary")
    assert (await response.json())["node"]["nodeName"] == "node-a"
    await client.get("/stats/summary?only_cpu_and_memory=TRUE")
    assert host.summary_views == [False, True]


@pytest.mark.parametrize(
    ("path", "sample"),
    [("/metrics", b"kubelet_running_pods 1.0"), ("/metrics/probes", b"# TYPE prober_probe_total counter")],
)
async def test_metrics_are_the_hosts_families_in_prometheus_text(
    serve: Serve, path: str, sample: bytes
) -> None:
    client = await serve(FakeHost())
    response = await client.get(path)
    assert response.status == 200 and response.content_type == "text/plain"
    assert sample in (await response.read()).splitlines()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_only_get_and_head_are_answered(serve: Serve, method: str) -> None:
    client = await serve(FakeHost())
    response = await client.request(method, "/pods")
    assert response.status == 405 and response.headers["Allow"] == "GET, HEAD"
    assert await response.text() == (
        f"405 method not allowed: {method} (the read-only port only answers GET)\n"
    )
    response = await client.head("/pods")
    assert response.status == 200 and await response.read() == b""


@pytest.mark.parametrize(
    "path",
    ["/run/default/web/app", "/exec/default/web/app", "/attach", "/portForward/x", "/containerLogs/a/b/c",
     "/runningpods/", "/logs/", "/logs", "/debug/pprof/heap"],
)  # fmt: skip
async def test_the_debugging_paths_are_disabled_as_on_the_kubelets_read_only_port(
    serve: Serve, path: str
) -> None:
    client = await serve(FakeHost())
    response = await client.get(path)
    assert (response.status, await response.text()) == (405, "Debug endpoints are disabled.\n")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_paths_are_refused_in_plain_words(serve: Serve) -> None:
    client = await serve(FakeHost(), enable_ui=False)
    response = await client.get("/nope")
    assert (response.status, response.content_type, await response.text()) == (
        404,
        "text/plain",
        "404 page not found\n",
    )
    response = await client.get("/ui/")  # the dashboard is off
    assert response.status == 404


async def test_a_huge_url_is_414_as_on_the_kubelet(serve: Serve) -> None:
    client = await serve(FakeHost(), enable_ui=False)
    response = await client.get("/pods?x=" + "a" * routes.MAX_URL)
    assert (response.status, await response.text()) == (414, "414 request URI too long\n")


@pytest.mark.parametrize(
    "path", ["/healthz", "/pods", "/metrics", "/nope", "/exec/x", "/ui/", "/ui/snapshot", "/spec"]
)
async def test_every_answer_says_nosniff(serve: Serve, path: str) -> None:
    client = await serve(FakeHost())
    response = await client.get(path, allow_redirects=False)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


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
