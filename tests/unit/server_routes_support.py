"""Shared pieces of the server tests (``test_server_routes.py``, ``test_server_dashboard.py``).

The server depends only on the :class:`~pykubelet.server.host.Host` protocol, so the tests serve it from
:class:`FakeHost` (fixed answers the test sets) through aiohttp's test server on 127.0.0.1 (``serve``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pykubelet.server import routes
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


@pytest.fixture(name="serve")
async def serve_fixture() -> AsyncIterator[Serve]:
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
