"""The read-only port against the real agent and engine: every endpoint, live status, and the CLI."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes.client import ApiClient
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import Agent, wait_for

PODS = {
    "crashloop.yaml": """apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
    - {name: fails, image: "busybox:1.35", command: [sh, -c, "echo crashing; exit 2"]}
""",
    "badimage.yaml": """apiVersion: v1
kind: Pod
metadata: {name: badimage}
spec:
  containers:
    - {name: app, image: "pykubelet-test/no-such-image:1.0"}
""",
    "once.yaml": """apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
    - {name: job, image: "busybox:1.35", command: [sh, -c, "echo finished"]}
""",
    "withinit.yaml": """apiVersion: v1
kind: Pod
metadata: {name: withinit}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
    - {name: prepare, image: "busybox:1.35", command: [sh, -c, "echo prepared"]}
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
""",
}


class Raw:
    """Plain HTTP answers (status, headers, body) without urllib's redirect following."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str) -> tuple[int, dict[str, str], str]:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        return (
            int(lines[0].split()[1]),
            {k.lower(): v for k, v in headers.items()},
            body.decode(errors="replace"),
        )


@pytest.fixture(scope="module")
def lab(shared_agent: Agent) -> Agent:
    shared_agent.copy_example("nginx-truncator.yaml")
    for name, content in PODS.items():
        shared_agent.write(name, content)
    wait_for(
        "the walkthrough pod Running", lambda: shared_agent.phase("nginx-truncator") == "Running", timeout=60
    )
    wait_for("the Never pod Succeeded", lambda: shared_agent.phase("once") == "Succeeded", timeout=60)
    wait_for("the init pod Running", lambda: shared_agent.phase("withinit") == "Running", timeout=60)
    return shared_agent


def cli(agent: Agent, *args: str) -> str:
    return agent.cli(*args)


def test_healthz(lab: Agent) -> None:
    raw = Raw(lab.port)
    status, headers, body = raw.request("GET", "/healthz")
    assert (status, body) == (200, "ok")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    status, _, body = raw.request("GET", "/healthz?verbose")
    assert status == 200
    assert body.splitlines() == [
        "[+]ping ok",
        "[+]log ok",
        "[+]syncloop ok",
        "[+]runtime ok",
        "healthz check passed",
    ]
    assert raw.request("GET", "/healthz/ping")[2] == "ok"
    assert raw.request("GET", "/healthz/syncloop")[2] == "ok"


def test_pods_deserialize_with_the_official_client(lab: Agent) -> None:
    raw = lab.get("/pods")
    assert raw["kind"] == "PodList"
    assert raw["apiVersion"] == "v1"

    pods = ApiClient().deserialize(json.dumps(raw), "V1PodList", "application/json")
    by_name = {p.metadata.name.removesuffix(f"-{lab.node}"): p for p in pods.items}
    web = by_name["nginx-truncator"]
    assert web.metadata.creation_timestamp is None
    assert web.metadata.annotations["kubernetes.io/config.source"] == "file"
    assert web.metadata.annotations["kubernetes.io/config.hash"] == web.metadata.uid
    assert web.spec.node_name == lab.node
    assert web.status.phase == "Running"
    assert web.status.pod_ip and web.status.pod_ips[0].ip == web.status.pod_ip
    assert web.status.host_ip is None and web.status.host_ips is None  # no API client, no hostIP
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)",
        web.metadata.annotations["kubernetes.io/config.seen"],
    )
    assert web.status.qos_class == "BestEffort"
    assert [c.type for c in web.status.conditions] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c.last_transition_time is not None for c in web.status.conditions)
    nginx = next(c for c in web.status.container_statuses if c.name == "nginx")
    assert nginx.ready and nginx.started and nginx.state.running.started_at is not None
    assert nginx.container_id.startswith("docker://") and len(nginx.container_id) == len("docker://") + 64
    assert nginx.image_id.startswith(("docker://sha256:", "docker-pullable://"))

    crash = by_name["crasher"]
    status = crash.status.container_statuses[0]
    wait_for(
        "CrashLoopBackOff", lambda: "CrashLoopBackOff" in json.dumps(lab.pod("crasher")["status"]), timeout=60
    )
    once = by_name["once"].status
    assert once.phase == "Succeeded"
    assert once.container_statuses[0].state.terminated.reason == "Completed"
    init = by_name["withinit"].status
    assert init.init_container_statuses[0].state.terminated.exit_code == 0
    assert status.name == "fails"


def test_live_crash_loop_status(lab: Agent) -> None:
    def looping() -> dict | None:
        st = lab.pod("crasher")["status"]["containerStatuses"][0]
        return st if st["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff" else None

    st = wait_for("CrashLoopBackOff", looping, timeout=60)
    assert st["lastState"]["terminated"]["exitCode"] == 2
    assert st["lastState"]["terminated"]["reason"] == "Error"
    assert st["lastState"]["terminated"]["containerID"].startswith("docker://")
    first = st["restartCount"]
    wait_for(
        "restartCount rising",
        lambda: lab.pod("crasher")["status"]["containerStatuses"][0]["restartCount"] > first,
        timeout=45,
        interval=0.5,
    )
    pulling = lab.pod("badimage")["status"]["containerStatuses"][0]["state"]["waiting"]
    assert pulling["reason"] in ("ErrImagePull", "ImagePullBackOff")


def test_spec(lab: Agent) -> None:
    raw = Raw(lab.port)
    status, headers, _ = raw.request("GET", "/spec")
    assert status == 301
    assert headers["location"] == "/spec/"
    machine = lab.get("/spec/")
    assert machine["num_cores"] == os.cpu_count()
    assert machine["memory_capacity"] > 0
    for key in (
        "num_physical_cores",
        "num_sockets",
        "cpu_frequency_khz",
        "hugepages",
        "machine_id",
        "system_uuid",
        "boot_id",
        "filesystems",
        "disk_map",
        "network_devices",
        "topology",
        "cloud_provider",
        "instance_type",
        "instance_id",
    ):
        assert key in machine


def test_stats_summary(lab: Agent) -> None:
    def walkthrough_stats() -> dict | None:
        summary = lab.get("/stats/summary")
        return next(
            (p for p in summary["pods"] if p["podRef"]["name"] == f"nginx-truncator-{lab.node}"), None
        )

    pod = wait_for("the walkthrough pod in /stats/summary", walkthrough_stats, timeout=40, interval=1)
    assert pod["memory"]["workingSetBytes"] > 0
    assert "usageCoreNanoSeconds" in pod["cpu"]
    assert {c["name"] for c in pod["containers"]} == {"nginx", "log-truncator"}
    assert [v["name"] for v in pod["volume"]] == ["logs"]
    # The writable layer as the Docker runtime measures it (overlay2's diff), the logs behind the links.
    assert all(c["rootfs"]["usedBytes"] >= 0 and c["logs"]["inodesUsed"] >= 1 for c in pod["containers"]), pod
    summary = lab.get("/stats/summary")
    assert summary["node"]["nodeName"] == lab.node
    assert summary["node"]["memory"]["usageBytes"] > 0
    slim = lab.get("/stats/summary?only_cpu_and_memory=true")
    slim_pod = next(p for p in slim["pods"] if p["podRef"]["name"] == f"nginx-truncator-{lab.node}")
    assert set(slim_pod) <= {"podRef", "startTime", "containers", "cpu", "memory"}


def test_metrics(lab: Agent) -> None:
    text = lab.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    running = families["kubelet_running_pods"].samples[0].value
    assert running >= 3
    states = {s.labels["container_state"]: s.value for s in families["kubelet_running_containers"].samples}
    assert states["running"] >= 3
    assert any(
        s.value > 0
        for s in families["kubelet_runtime_operations"].samples
        if s.labels.get("operation_type") == "create_container"
    )
    assert any(s.value > 0 for s in families["kubelet_started_containers"].samples)
    assert "kubelet_pod_start_duration_seconds" in families
    assert "kubelet_pod_worker_duration_seconds" in families
    # cAdvisor's labels under Docker: dockershim's k8s_ name and the container's cgroup.
    nginx = lab.cadvisor_labels(f"nginx-truncator-{lab.node}", "nginx")
    assert nginx["name"].startswith(f"k8s_nginx_nginx-truncator-{lab.node}_default_"), nginx
    pod = lab.pod("nginx-truncator")
    assert pod is not None
    (nginx_status,) = [s for s in pod["status"]["containerStatuses"] if s["name"] == "nginx"]
    assert nginx_status["containerID"].removeprefix("docker://") in nginx["id"], nginx


def test_events_and_manifest_errors(lab: Agent) -> None:
    events = lab.get("/events")
    assert events["kind"] == "EventList"
    reasons = {
        (e["reason"], e["involvedObject"].get("fieldPath", ""))
        for e in events["items"]
        if e["involvedObject"]["name"] == f"nginx-truncator-{lab.node}"
    }
    assert ("Started", "spec.containers{nginx}") in reasons
    assert ("Created", "spec.containers{log-truncator}") in reasons
    backoff = [
        e for e in events["items"] if e["reason"] == "BackOff" and "crasher" in e["involvedObject"]["name"]
    ]
    assert backoff and backoff[0]["type"] == "Warning"
    bad = lab.write(
        "typo.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers:\n    - {name: a}\n",
    )
    try:
        report = wait_for(
            "the manifest error",
            lambda: next(
                (m for m in lab.get("/manifests")["items"] if m["file"] == str(bad) and "error" in m), None
            ),
            timeout=10,
        )
        assert report["fields"][0]["field"] == "spec.containers[0].image"
        failed = [e for e in lab.get("/events")["items"] if e["reason"] == "FailedValidation"]
        assert any("spec.containers[0].image: Required value" in e["message"] for e in failed)
    finally:
        bad.unlink()


def test_refusals(lab: Agent) -> None:
    raw = Raw(lab.port)
    for path in (
        "/run/default/x/c",
        "/exec/a/b/c",
        "/attach/a",
        "/portForward/x",
        "/containerLogs/a/b/c",
        "/runningpods/",
        "/logs/",
        "/debug/pprof/",
    ):
        status, _, body = raw.request("GET", path)
        assert (status, body.strip()) == (405, "Debug endpoints are disabled."), path
    assert raw.request("GET", "/no/such/path")[0] == 404
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert raw.request(method, "/pods")[0] == 405
    assert raw.request("HEAD", "/healthz")[0] == 200
    assert raw.request("GET", "/pods?" + "x" * 20000)[0] in (200, 400, 414)
    assert raw.request("GET", "/healthz")[2] == "ok", "still serving after the odd requests"


def test_many_clients_and_a_stalled_one(lab: Agent) -> None:
    stalled = socket.create_connection(("127.0.0.1", lab.port), timeout=5)
    stalled.sendall(b"GET /pods HTTP/1.1\r\nHost: x\r\n")  # never finishes its request
    never_reads = socket.create_connection(("127.0.0.1", lab.port), timeout=5)
    never_reads.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    never_reads.sendall(b"GET /pods HTTP/1.1\r\nHost: x\r\n\r\n" * 50)  # asks a lot, reads nothing
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda _: len(lab.get("/pods")["items"]), range(200)))
        assert set(results) == {len(PODS) + 1}
        assert lab.get("/healthz") == "ok"
    finally:
        stalled.close()
        never_reads.close()


def test_cli(lab: Agent) -> None:
    wait_for("crash loop", lambda: "CrashLoopBackOff" in cli(lab, "get", "pods"), timeout=60)
    table = cli(lab, "get", "pods")
    rows = {line.split()[0].removesuffix(f"-{lab.node}"): line.split() for line in table.splitlines()[1:]}
    assert table.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert rows["nginx-truncator"][1:3] == ["2/2", "Running"]
    assert rows["once"][1:3] == ["0/1", "Completed"]
    assert rows["crasher"][2] == "CrashLoopBackOff"
    assert (
        "ago)"
        in table.splitlines()[
            [r[0] for r in (line.split() for line in table.splitlines())].index(f"crasher-{lab.node}")
        ]
    )
    assert rows["badimage"][2] in ("ErrImagePull", "ImagePullBackOff")
    assert rows["withinit"][1:3] == ["1/1", "Running"]
    wide = cli(lab, "get", "pods", "-o", "wide")
    assert "IP" in wide.splitlines()[0] and lab.node in wide
    as_json = json.loads(cli(lab, "get", "pods", "-o", "json"))
    assert len(as_json["items"]) == len(PODS) + 1
    assert "kind: List" in cli(lab, "get", "pods", "-o", "yaml")

    described = cli(lab, "describe", "pod", "crasher")
    for fragment in (
        "Name:",
        f"crasher-{lab.node}",
        "State:          Waiting",
        "Reason:       CrashLoopBackOff",
        "Last State:     Terminated",
        "Exit Code:    2",
        "Restart Count:",
        "Conditions:",
        "Events:",
        "BackOff",
        "QoS Class:",
        "BestEffort",
        ":NoExecute op=Exists",
    ):
        assert fragment in described, fragment
    walkthrough = cli(lab, "describe", "pod", "nginx-truncator")
    assert "/var/log/nginx from logs (rw)" in walkthrough
    assert "EmptyDir (a temporary directory that shares a pod's lifetime)" in walkthrough

    logs_dir = ["--pod-logs-dir", str(lab.logs_dir)]  # the test agent's own (/var/log/pods by default)
    assert "crashing" in cli(lab, "logs", "crasher", *logs_dir)
    assert "crashing" in cli(lab, "logs", "crasher", "--previous", *logs_dir)
    assert cli(lab, "logs", "once", *logs_dir) == "finished\n"
    assert "prepared" in cli(lab, "logs", "withinit", "-c", "prepare", *logs_dir)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pykubelet",
            "--server",
            f"http://127.0.0.1:{lab.port}",
            "logs",
            "nginx-truncator",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "a container name must be specified" in result.stderr

    follow = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pykubelet",
            "--server",
            f"http://127.0.0.1:{lab.port}",
            "logs",
            "-f",
            "--tail",
            "1",
            "crasher",
            *logs_dir,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        assert "crashing" in follow.stdout.readline()
    finally:
        follow.kill()
        follow.wait(timeout=10)

    events = cli(lab, "get", "events")
    assert events.splitlines()[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert "Started" in events
