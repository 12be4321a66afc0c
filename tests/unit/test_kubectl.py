"""``pykubelet get|describe|logs`` in-process, against a loopback stand-in for the read-only port.

``describe_pod`` is checked line by line against kubectl's layout (labels, annotations, IPs, init and
app containers with their states, resources, env, mounts, conditions, volumes, QoS, tolerations,
events). ``commands.main`` runs in this process with a tiny HTTP server on 127.0.0.1 serving ``/pods``
and ``/events``, so its tables, ``-o json|yaml``, name lookup and every error sentence are asserted
without a subprocess. ``pick_container`` picks the instance ``logs`` reads (no Docker needed for that).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from pykubelet.kubectl import commands
from pykubelet.kubectl.client import AgentUnreachable, fetch, fetch_items, find_pod
from pykubelet.kubectl.describe import describe_pod
from pykubelet.kubectl.logs import LogsError, pick_container

NOW = datetime(2026, 1, 1, 1, 0, 0, tzinfo=timezone.utc)
UID = "0123456789abcdef0123456789abcdef"


def the_pod() -> dict[str, Any]:
    """A running pod with an init container, two ports, env of each kind, mounts and a restart."""
    return {
        "metadata": {
            "name": "web-node-a",
            "namespace": "default",
            "uid": UID,
            "labels": {"app": "web", "tier": "front"},
            "annotations": {"kubernetes.io/config.seen": "2026-01-01T00:00:00.000000000Z"},
        },
        "spec": {
            "nodeName": "node-a",
            "initContainers": [{"name": "setup", "image": "busybox:1.35", "command": ["sh", "-c", "true"]}],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.22",
                    "ports": [
                        {"containerPort": 80, "hostPort": 8080},
                        {"containerPort": 53, "protocol": "UDP"},
                    ],
                    "args": ["-g", "daemon off;"],
                    "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}, "requests": {"cpu": "250m"}},
                    "env": [
                        {"name": "MODE", "value": "prod"},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                        {"name": "LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                    ],
                    "volumeMounts": [
                        {"name": "data", "mountPath": "/var/data", "subPath": "web"},
                        {"name": "logs", "mountPath": "/logs", "readOnly": True},
                    ],
                }
            ],
            "volumes": [
                {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                {"name": "logs", "hostPath": {"path": "/var/log/web", "type": "DirectoryOrCreate"}},
            ],
            "nodeSelector": {"disktype": "ssd"},
            "tolerations": [
                {"operator": "Exists", "effect": "NoExecute"},
                {"key": "k", "value": "v", "effect": "NoSchedule", "tolerationSeconds": 30},
            ],
        },
        "status": {
            "phase": "Running",
            "hostIP": "10.0.0.1",
            "podIP": "10.88.0.2",
            "podIPs": [{"ip": "10.88.0.2"}],
            "startTime": "2026-01-01T00:00:01Z",
            "qosClass": "Burstable",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "initContainerStatuses": [
                {
                    "name": "setup",
                    "containerID": "docker://init1",
                    "ready": True,
                    "restartCount": 0,
                    "state": {
                        "terminated": {
                            "reason": "Completed",
                            "exitCode": 0,
                            "startedAt": "2026-01-01T00:00:02Z",
                            "finishedAt": "2026-01-01T00:00:03Z",
                        }
                    },
                }
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "containerID": "docker://app2",
                    "imageID": "docker-pullable://nginx@sha256:abc",
                    "ready": True,
                    "restartCount": 1,
                    "state": {"running": {"startedAt": "2026-01-01T00:10:00Z"}},
                    "lastState": {
                        "terminated": {
                            "containerID": "docker://app1",
                            "reason": "Error",
                            "message": "boom\n",
                            "exitCode": 1,
                            "startedAt": "2026-01-01T00:00:04Z",
                            "finishedAt": "2026-01-01T00:09:59Z",
                        }
                    },
                }
            ],
        },
    }


EVENTS = [
    {
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container app",
        "count": 3,
        "firstTimestamp": "2026-01-01T00:05:00Z",
        "lastTimestamp": "2026-01-01T00:55:00Z",
        "involvedObject": {"kind": "Pod", "name": "web-node-a", "uid": UID},
    },
    {
        "type": "Normal",
        "reason": "Pulled",
        "message": "Container image already present",
        "count": 1,
        "firstTimestamp": "2026-01-01T00:00:30Z",
        "lastTimestamp": "2026-01-01T00:00:30Z",
        "source": {"component": "kubelet", "host": "node-a"},
        "involvedObject": {"kind": "Pod", "name": "web-node-a", "uid": UID},
    },
    {
        "type": "Warning",
        "reason": "FailedValidation",
        "message": "bad.yaml: spec.containers: Required value",
        "count": 1,
        "firstTimestamp": "2026-01-01T00:30:00Z",
        "lastTimestamp": "2026-01-01T00:30:00Z",
        "involvedObject": {"kind": "File", "name": "/etc/kubernetes/manifests/bad.yaml"},
    },
]


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """describe prints times in the local zone, as kubectl does: UTC for the assertions, then back."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def squash(text: str) -> str:
    """The text with each run of alignment spaces after a label cut to one (the layout is checked apart)."""
    return "\n".join(re.sub(r":  +", ": ", line.rstrip()) for line in text.splitlines())


def test_describe_lays_the_pod_out_as_kubectl_does() -> None:
    text = describe_pod(the_pod(), EVENTS[:2], NOW)
    assert squash(text).splitlines()[:8] == [
        "Name: web-node-a",
        "Namespace: default",
        "Node: node-a/10.0.0.1",
        "Start Time: Thu, 01 Jan 2026 00:00:01 +0000",
        "Labels: app=web",
        "tier=front".rjust(len(text.splitlines()[5])),
        "Annotations: kubernetes.io/config.seen: 2026-01-01T00:00:00.000000000Z",
        "Status: Running",
    ]
    for expected in [
        "IPs:\n  IP: 10.88.0.2",
        "Controlled By: Node/node-a",
        "Init Containers:\n  setup:\n    Container ID: docker://init1\n    Image: busybox:1.35",
        "    State: Terminated\n      Reason: Completed\n      Exit Code: 0",
        "    Ports: 80/TCP, 53/UDP\n    Host Ports: 8080/TCP, 0/UDP",
        "    Args:\n      -g\n      daemon off;",
        "    State: Running\n      Started: Thu, 01 Jan 2026 00:10:00 +0000",
        "    Last State: Terminated\n      Reason: Error\n      Message: boom\n      Exit Code: 1",
        "    Ready: True\n    Restart Count: 1",
        "    Limits:\n      cpu: 500m\n      memory: 64Mi\n    Requests:\n      cpu: 250m",
        "      MODE: prod\n      POD_IP: (v1:status.podIP)\n"
        '      LIMIT: {"resourceFieldRef": {"resource": "limits.cpu"}}',
        '    Mounts:\n      /logs from logs (ro)\n      /var/data from data (rw,path="web")',
        "Conditions:\n  Type          Status\n  Initialized   True\n  Ready         True",
        "    Type: EmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium: Memory\n"
        "    SizeLimit: 1Mi",
        "    Type: HostPath (bare host directory volume)\n    Path: /var/log/web\n"
        "    HostPathType: DirectoryOrCreate",
        "QoS Class: Burstable\nNode-Selectors: disktype=ssd\nTolerations: :NoExecute op=Exists",
        "k=v:NoSchedule for 30s",
    ]:
        assert expected in squash(text), f"missing:\n{expected}\n--- in ---\n{text}"
    events = text[text.index("Events:") :].splitlines()
    assert [line.split() for line in events[1:]] == [
        ["Type", "Reason", "Age", "From", "Message"],
        ["----", "------", "----", "----", "-------"],
        ["Normal", "Pulled", "59m", "kubelet", "Container", "image", "already", "present"],
        ["Warning", "BackOff", "5m", "(x3", "over", "55m)", "kubelet", "Back-off", "restarting", "failed",
         "container", "app"],
    ]  # fmt: skip


def test_describe_aligns_each_block_two_spaces_past_its_longest_label_as_kubectls_tabwriter() -> None:
    lines = describe_pod(the_pod(), [], NOW).splitlines()
    head = lines[: lines.index("IPs:")]  # a line without a value ends a tabwriter block
    starts = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in head if not line.startswith(" ")}
    assert starts == {len("Annotations:") + 2}
    assert lines[lines.index("IPs:") + 1 : lines.index("IPs:") + 3] == [
        "  IP:           10.88.0.2",
        "Controlled By:  Node/node-a",  # kubectl's own misalignment after the IPs block
    ]


def test_describe_a_pending_pod_says_none_where_there_is_nothing() -> None:
    pod = {
        "metadata": {"name": "p", "uid": UID},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.35"}]},
        "status": {"phase": "Failed", "reason": "NodeAffinity", "message": "Pod was rejected"},
    }
    text = squash(describe_pod(pod, [], NOW))
    for expected in [
        "Node: <none>",
        "Labels: <none>",
        "Annotations: <none>",
        "Status: Failed\nReason: NodeAffinity\nMessage: Pod was rejected",
        "IPs: <none>",
        "    Port: <none>\n    Host Port: <none>",
        "    Environment: <none>\n    Mounts: <none>",
        "Volumes: <none>",
        "Node-Selectors: <none>\nTolerations: <none>",
        "Events: <none>",
    ]:
        assert expected in text, f"missing:\n{expected}\n--- in ---\n{text}"
    assert "Start Time" not in text and "Conditions" not in text


# -- the subcommands against a loopback read-only port -------------------------------------------------------


class Agent(BaseHTTPRequestHandler):
    """Answers like a pykubelet's read-only port: ``/pods`` and ``/events`` from the class attributes."""

    pods: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    body: bytes | None = None  # when set, every answer is this body (a server that is not pykubelet)

    def do_GET(self) -> None:
        if self.body is not None:
            payload = self.body
        elif self.path == "/pods":
            payload = json.dumps({"kind": "PodList", "items": self.pods}).encode()
        elif self.path == "/events":
            payload = json.dumps({"kind": "EventList", "items": self.events}).encode()
        else:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a loopback stand-in for the read-only port, serving :func:`the_pod` and EVENTS."""
    monkeypatch.setattr(Agent, "pods", [the_pod()])
    monkeypatch.setattr(Agent, "events", EVENTS)
    monkeypatch.setattr(Agent, "body", None)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Agent)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = commands.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_get_pods_prints_kubectls_table(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--server", server, "get", "pods")
    header, row = out.splitlines()
    assert code == 0 and header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[:4] == ["web-node-a", "1/1", "Running", "1"]
    code, out, _ = run(capsys, "get", "po", "-o", "wide", "--server", server)
    assert out.splitlines()[1].split()[-4:] == ["10.88.0.2", "node-a", "<none>", "<none>"]


def test_get_one_pod_by_its_manifest_name_as_json_and_yaml(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, f"--server={server}", "get", "pod", "web", "-o", "json")
    assert code == 0 and json.loads(out)["metadata"]["uid"] == UID
    code, out, _ = run(capsys, f"--server={server}", "get", "pods", "-o", "yaml")
    listed = yaml.safe_load(out)
    assert listed["kind"] == "List" and [p["metadata"]["name"] for p in listed["items"]] == ["web-node-a"]


def test_get_events_names_pods_and_files(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--server", server, "get", "events")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "pod/web-node-a" in lines[1] and "file//etc/kubernetes/manifests/bad.yaml" in lines[3]
    code, out, _ = run(capsys, "--server", server, "get", "ev", "-o", "json")
    assert json.loads(out)["kind"] == "EventList" and len(json.loads(out)["items"]) == 3


def test_describe_shows_only_the_pods_own_events(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--server", server, "describe", "pod", "web-node-a")
    assert code == 0 and squash(out).startswith("Name: web-node-a\n")
    assert "BackOff" in out and "Pulled" in out and "FailedValidation" not in out


def test_an_empty_namespace_and_no_events_are_said_plainly(
    server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "--server", server, "get", "pods", "-n", "kube-system")
    assert (code, out, err) == (0, "", "No resources found in kube-system namespace.\n")
    monkeypatch.setattr(Agent, "events", [])
    assert run(capsys, "--server", server, "get", "events") == (0, "No events found.\n", "")


def test_an_unknown_pod_is_one_error_line(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--server", server, "describe", "pod", "nope")
    assert (code, out) == (1, "")
    assert err == (
        'error: pods "nope" not found in namespace default '
        f"(`pykubelet get pods -A` lists every pod of {server})\n"
    )


def test_logs_of_a_container_that_is_not_in_the_pod_is_one_error_line(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--server", server, "logs", "web", "-c", "db")
    assert (code, err) == (1, "error: container db is not valid for pod web-node-a\n")


def test_what_is_not_a_pykubelet_is_named(
    server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Agent, "body", b"<html>hello</html>")
    code, _, err = run(capsys, "--server", server, "get", "pods")
    assert code == 1 and err == (
        f"error: {server}/pods answered, but not with JSON: is {server} the read-only port of a pykubelet?\n"
    )
    monkeypatch.setattr(Agent, "body", b'{"items": 3}')
    with pytest.raises(AgentUnreachable, match="answered JSON without a list of items"):
        fetch_items(server, "/pods")
    monkeypatch.setattr(Agent, "body", None)
    with pytest.raises(
        AgentUnreachable, match=r"answered 404 Not Found: is .* the read-only port of a pykubelet"
    ):
        fetch(server, "/nope")


def test_no_agent_and_no_url_say_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as unused:  # a port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    code, _, err = run(capsys, "--server", url, "get", "pods")
    assert code == 1 and err.startswith(f"error: no pykubelet answers at {url} (")
    assert "Start it with `./lab run`" in err
    code, _, err = run(capsys, "--server", "localhost:10255", "get", "pods")
    assert (code, err) == (
        1,
        "error: --server localhost:10255: not a URL; the read-only port is such as "
        "--server http://127.0.0.1:10255\n",
    )


def test_subcommands_are_told_from_agent_flags() -> None:
    assert commands.is_subcommand(["get", "pods"])
    assert commands.is_subcommand(["--server", "http://x", "describe", "pod", "a"])
    assert commands.is_subcommand(["--server=http://x", "logs", "a"])
    assert not commands.is_subcommand(["--pod-manifest-path", "/etc/kubernetes/manifests"])
    assert not commands.is_subcommand([])


def test_find_pod_takes_the_full_name_or_the_manifest_name() -> None:
    pods = [the_pod()]
    assert find_pod(pods, "web-node-a", None) is pods[0]
    assert find_pod(pods, "web", "default") is pods[0]
    assert find_pod(pods, "web", "other") is None and find_pod(pods, "we", None) is None


# -- which instance `logs` reads -----------------------------------------------------------------------------


def test_logs_reads_the_current_or_the_previous_instance() -> None:
    pod = the_pod()
    assert pick_container(pod, None, previous=False) == ("app", 1)  # restartCount: the current instance
    assert pick_container(pod, "app", previous=True) == ("app", 0)
    assert pick_container(pod, "setup", previous=False) == ("setup", 0)


WAITING = {"reason": "ErrImagePull"}


@pytest.mark.parametrize(
    ("change", "container", "previous", "message"),
    [
        (lambda p: p["spec"]["containers"].append({"name": "b", "image": "x"}), None, False,
         "a container name must be specified for pod web-node-a, choose one of: [app b]"),
        (lambda p: None, "setup", True,
         'previous terminated container "setup" in pod "web-node-a" not found'),
        (lambda p: p["status"].update(containerStatuses=[{"name": "app", "state": {"waiting": WAITING}}]),
         "app", False, 'container "app" in pod "web-node-a" is waiting to start: ErrImagePull'),
        (lambda p: p.update(status={}), "app", False,
         'container "app" in pod "web-node-a" is waiting to start: ContainerCreating'),
    ],
    ids=["several-containers", "no-previous", "waiting", "no-status"],
)  # fmt: skip
def test_logs_says_why_there_is_nothing_to_read(
    change: Any, container: str | None, previous: bool, message: str
) -> None:
    pod = the_pod()
    change(pod)
    with pytest.raises(LogsError) as error:
        pick_container(pod, container, previous)
    assert str(error.value) == message
