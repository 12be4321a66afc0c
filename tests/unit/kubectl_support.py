"""Shared pieces of the tests of ``pykubelet get|describe|logs`` (``test_kubectl*.py``): a running pod and
its events as the read-only port serves them, a loopback stand-in for that port on 127.0.0.1 serving
``/pods`` and ``/events`` (``server``), and UTC for the times describe prints (``utc``, autouse where
imported)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pykubelet.kubectl import commands

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


@pytest.fixture(name="utc", autouse=True)
def utc_fixture() -> Iterator[None]:
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


@pytest.fixture(name="server")
def server_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
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
