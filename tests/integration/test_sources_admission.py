"""The URL source beside the file source, and node admission (ports, nodeSelector, capacity)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import Agent, free_port, wait_for

POD_LIST = """apiVersion: v1
kind: PodList
items:
{items}
"""
ITEM = """  - apiVersion: v1
    kind: Pod
    metadata: {{name: {name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - {{name: app, image: "busybox:1.35", command: [sleep, "3600"]}}
"""


class _Server(http.server.BaseHTTPRequestHandler):
    body = b""
    status = 200
    token_seen: list[str] = []

    def do_GET(self) -> None:
        type(self).token_seen.append(self.headers.get("X-Token", ""))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/yaml")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def manifest_server() -> Iterator[tuple[str, type[_Server]]]:
    _Server.body, _Server.status, _Server.token_seen = b"", 200, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pods.yaml", _Server
    server.shutdown()


def names(agent: Agent) -> set[str]:
    return {p["metadata"]["name"].removesuffix(f"-{agent.node}") for p in agent.pods()}


def test_url_source_beside_the_file_source(agent_factory, manifest_server) -> None:  # type: ignore[no-untyped-def]
    url, server = manifest_server
    server.body = POD_LIST.format(
        items=ITEM.format(name="from-url-a") + ITEM.format(name="from-url-b")
    ).encode()
    agent = agent_factory(
        ["--manifest-url", url, "--manifest-url-header", "X-Token:abc", "--http-check-frequency", "1s"]
    )
    agent.write(
        "local.yaml", ITEM.format(name="from-file").replace("\n    ", "\n").strip().removeprefix("- ")
    )
    agent.start()
    wait_for(
        "three pods Running",
        lambda: all(agent.phase(n) == "Running" for n in ("from-url-a", "from-url-b", "from-file")),
        timeout=60,
    )
    assert "abc" in server.token_seen
    url_pod = agent.pod("from-url-a")
    assert url_pod["metadata"]["annotations"]["kubernetes.io/config.source"] == "http"
    assert agent.pod("from-file")["metadata"]["annotations"]["kubernetes.io/config.source"] == "file"
    running = {c["Id"] for c in agent.containers()}

    for status, body in (
        (500, b"oops"),
        (404, b"gone"),
        (200, b"{not: [valid"),
        (200, b"x" * (11 * 1024 * 1024)),
    ):
        server.status, server.body = status, body
        wait_for(
            f"the failure ({status}) to be logged",
            lambda: "keeping the last good set" in agent.log(),
            timeout=10,
        )
        assert names(agent) == {"from-url-a", "from-url-b", "from-file"}
        assert {c["Id"] for c in agent.containers()} == running, "a failing URL disturbs nothing"

    server.status = 200
    server.body = POD_LIST.format(items=ITEM.format(name="from-url-a")).encode()
    wait_for(
        "the pod dropped from the list to go",
        lambda: not agent.containers("from-url-b", all=True),
        timeout=30,
    )
    assert names(agent) == {"from-url-a", "from-file"}
    assert "The manifest URL answers again" in agent.log()


def test_node_admission(agent_factory) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    agent = agent_factory(["--node-labels", "disk=ssd,zone=lab"]).start()

    def pod(name: str, extra: str) -> str:
        return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 2
{extra}  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
"""

    ports = f"      ports: [{{containerPort: 80, hostPort: {port}}}]\n"
    agent.write("a-first.yaml", pod("first", "").replace('"3600"]\n', '"3600"]\n' + ports))
    wait_for("the first pod Running", lambda: agent.phase("first") == "Running", timeout=60)
    agent.write("b-second.yaml", pod("second", "").replace('"3600"]\n', '"3600"]\n' + ports))
    agent.write("c-selector.yaml", pod("elsewhere", "  nodeSelector: {disk: hdd}\n"))
    agent.write("d-selector-ok.yaml", pod("here", "  nodeSelector: {disk: ssd, kubernetes.io/os: linux}\n"))
    agent.write(
        "e-huge.yaml",
        pod("huge", "").replace('"3600"]\n', '"3600"]\n      resources: {requests: {cpu: "1000"}}\n'),
    )

    def rejected(name: str) -> dict[str, Any] | None:
        found = agent.pod(name)
        return found["status"] if found and found["status"].get("phase") == "Failed" else None

    second = wait_for("the port conflict rejected", lambda: rejected("second"), timeout=30)
    assert second["reason"] == "NodePorts"
    assert second["message"].startswith("Pod was rejected: Predicate NodePorts failed")
    elsewhere = wait_for("the selector mismatch rejected", lambda: rejected("elsewhere"), timeout=30)
    assert elsewhere["reason"] == "NodeAffinity"
    assert "disk=hdd" in elsewhere["message"]
    huge = wait_for("the oversized pod rejected", lambda: rejected("huge"), timeout=30)
    assert huge["reason"] == "OutOfcpu"
    assert "Node didn't have enough resource: cpu, requested: 1000000" in huge["message"]
    wait_for("the matching selector pod Running", lambda: agent.phase("here") == "Running", timeout=60)
    for name in ("second", "elsewhere", "huge"):
        assert not agent.containers(name, all=True), f"{name} must not be half-started"
    reasons = {e["reason"] for e in agent.get("/events")["items"]}
    assert {"NodePorts", "NodeAffinity", "OutOfcpu"} <= reasons
