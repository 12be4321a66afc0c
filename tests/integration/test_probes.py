"""Probes and lifecycle hooks against the real agent and engine, as the kubelet's prober runs them."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import Agent, free_port, wait_for


def container_status(agent: Agent, pod: str, index: int = 0) -> dict[str, Any]:
    found = agent.pod(pod)
    return (
        found["status"]["containerStatuses"][index]
        if found and found["status"].get("containerStatuses")
        else {}
    )


def condition(agent: Agent, pod: str, kind: str) -> str | None:
    found = agent.pod(pod)
    for c in (found or {}).get("status", {}).get("conditions", []):
        if c["type"] == kind:
            return c["status"]
    return None


def events(agent: Agent, pod: str, reason: str) -> list[str]:
    return [
        e["message"]
        for e in agent.get("/events")["items"]
        if e["reason"] == reason and e["involvedObject"]["name"] == f"{pod}-{agent.node}"
    ]


def sh(agent: Agent, pod: str, container: str, command: str) -> int:
    cid = agent.inspect(pod, container)["Id"]
    exec_id = agent.api.exec_create(cid, ["sh", "-c", command])["Id"]
    agent.api.exec_start(exec_id)
    return agent.api.exec_inspect(exec_id)["ExitCode"]


@pytest.fixture
def probe_agent(agent_factory) -> Agent:  # type: ignore[no-untyped-def]
    return agent_factory(["--node-ip", "127.0.0.1"]).start()


def test_failing_liveness_probe_restarts_the_container(probe_agent: Agent) -> None:
    agent = probe_agent
    agent.write(
        "live.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: [sh, -c, "touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 600"]
      livenessProbe:
        exec: {command: [cat, /tmp/healthy]}
        periodSeconds: 1
        failureThreshold: 2
""",
    )
    status = wait_for(
        "a liveness restart",
        lambda: (s := container_status(agent, "live")).get("restartCount", 0) >= 1 and s,
        timeout=60,
        interval=0.5,
    )
    assert status["lastState"]["terminated"]["exitCode"] == 137  # killed: busybox sh ignores SIGTERM as PID 1
    unhealthy = events(agent, "live", "Unhealthy")
    assert any(m.startswith("Liveness probe failed: cat: can't open '/tmp/healthy'") for m in unhealthy), (
        unhealthy
    )
    assert "Container app failed liveness probe, will be restarted" in events(agent, "live", "Killing")


def test_readiness_and_startup_drive_ready_and_started(probe_agent: Agent) -> None:
    agent = probe_agent
    agent.write(
        "ready.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: web
      image: busybox:1.35
      command: [sh, -c, "mkdir -p /www; exec httpd -f -p 80 -h /www"]
      ports: [{name: http, containerPort: 80}]
      startupProbe:
        exec: {command: [test, -f, /tmp/started]}
        periodSeconds: 1
        failureThreshold: 60
      readinessProbe:
        httpGet: {path: /ready.html, port: http}
        periodSeconds: 1
    - name: tcp
      image: busybox:1.35
      command: [httpd, -f, -p, "9000"]
      readinessProbe:
        tcpSocket: {port: 9000}
        periodSeconds: 1
""",
    )
    wait_for("the pod Running", lambda: agent.phase("ready") == "Running", timeout=60)
    wait_for("the tcp container ready", lambda: container_status(agent, "ready", 0)["ready"], timeout=20)
    web = container_status(agent, "ready", 1)
    assert web["name"] == "web"
    assert (web["started"], web["ready"]) == (False, False), "startup holds the pod back"
    assert condition(agent, "ready", "Ready") == "False"

    assert sh(agent, "ready", "web", "touch /tmp/started") == 0
    wait_for("started", lambda: container_status(agent, "ready", 1)["started"], timeout=20)
    assert container_status(agent, "ready", 1)["ready"] is False, "/ready.html is still missing: 404"
    wait_for(
        "the 404 reported",
        lambda: any(
            "HTTP probe failed with statuscode: 404" in m for m in events(agent, "ready", "Unhealthy")
        ),
        timeout=10,
    )

    assert sh(agent, "ready", "web", "echo ok > /www/ready.html") == 0
    wait_for("ready", lambda: container_status(agent, "ready", 1)["ready"], timeout=20)
    wait_for("the Ready condition", lambda: condition(agent, "ready", "Ready") == "True", timeout=10)
    assert container_status(agent, "ready", 1)["restartCount"] == 0

    metrics = {f.name: f for f in text_string_to_metric_families(agent.get("/metrics/probes"))}
    samples = metrics["prober_probe"].samples
    assert any(
        s.labels["probe_type"] == "readiness"
        and s.labels["result"] == "failed"
        and s.labels["container"] == "web"
        and s.labels["pod"] == f"ready-{agent.node}"
        for s in samples
    )
    assert any(s.labels["probe_type"] == "startup" and s.labels["result"] == "successful" for s in samples)


def test_grpc_probe_on_a_host_network_pod(probe_agent: Agent) -> None:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    agent = probe_agent
    port = free_port()
    server = grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        agent.write(
            "grpc.yaml",
            f"""apiVersion: v1
kind: Pod
metadata: {{name: grpcpod}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
      readinessProbe:
        grpc: {{port: {port}}}
        periodSeconds: 1
""",
        )
        wait_for("ready through gRPC", lambda: container_status(agent, "grpcpod").get("ready"), timeout=60)
        servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        wait_for("unready", lambda: container_status(agent, "grpcpod").get("ready") is False, timeout=20)
        assert any(
            'service unhealthy (responded with "NOT_SERVING")' in m
            for m in events(agent, "grpcpod", "Unhealthy")
        )
    finally:
        server.stop(0)


class _Recorder(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_recorder() -> Iterator[tuple[int, list[str]]]:
    _Recorder.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.paths
    server.shutdown()


def test_post_start_and_pre_stop_hooks(probe_agent: Agent, http_recorder: tuple[int, list[str]]) -> None:
    agent = probe_agent
    port, paths = http_recorder
    agent.write(
        "hooks.yaml",
        f"""apiVersion: v1
kind: Pod
metadata: {{name: hooks}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
      lifecycle:
        postStart:
          exec: {{command: [sh, -c, "echo started > /tmp/poststart"]}}
        preStop:
          httpGet: {{host: 127.0.0.1, port: {port}, path: /prestop}}
""",
    )
    wait_for("the pod Running", lambda: agent.phase("hooks") == "Running", timeout=60)
    assert sh(agent, "hooks", "app", "grep -q started /tmp/poststart") == 0
    agent.remove("hooks.yaml")
    wait_for("the pod gone", lambda: not agent.containers("hooks", all=True), timeout=30)
    assert paths == ["/prestop"]


def test_failing_post_start_kills_the_container(probe_agent: Agent) -> None:
    agent = probe_agent
    agent.write(
        "badhook.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
      lifecycle:
        postStart:
          exec: {command: [sh, -c, "echo no way; exit 1"]}
""",
    )
    wait_for("FailedPostStartHook", lambda: events(agent, "badhook", "FailedPostStartHook"), timeout=60)
    assert "no way" in events(agent, "badhook", "FailedPostStartHook")[0]
    wait_for(
        "the container killed and waiting",
        lambda: (
            container_status(agent, "badhook").get("state", {}).get("waiting", {}).get("reason")
            in ("PostStartHookError", "CrashLoopBackOff")
        ),
        timeout=30,
    )


def test_a_hanging_probe_delays_nobody(probe_agent: Agent) -> None:
    agent = probe_agent
    agent.write(
        "hang.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: hang}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox:1.35
      command: [sleep, "3600"]
      readinessProbe:
        exec: {command: [sleep, "600"]}
        periodSeconds: 1
        timeoutSeconds: 1
""",
    )
    wait_for("the hanging pod Running", lambda: agent.phase("hang") == "Running", timeout=60)
    for i in range(3):
        agent.write(
            f"other{i}.yaml",
            f"""apiVersion: v1
kind: Pod
metadata: {{name: other{i}}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - {{name: app, image: "busybox:1.35", command: [sleep, "3600"]}}
""",
        )
    for i in range(3):
        wait_for(
            f"other{i} Running and ready",
            lambda i=i: container_status(agent, f"other{i}").get("ready"),
            timeout=60,
        )
    assert agent.get("/healthz") == "ok"
    assert container_status(agent, "hang")["ready"] is False
    wait_for(
        "the timeout reported",
        lambda: any("timed out" in m for m in events(agent, "hang", "Unhealthy")),
        timeout=15,
    )
