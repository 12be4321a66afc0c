"""``pykubelet crictl`` against the lab's real containerd, with a pod the real agent started.

One agent (``--container-runtime-endpoint`` the lab's containerd) runs one busybox pod that writes two
lines; then each crictl view is run as a user runs it (``python -m pykubelet crictl ...``, scoped to
this test's node with ``--label``) and read back: the pod in ``pods``, its container in ``ps -a``,
``inspectp``/``inspect`` JSON by id prefix (the pod IP and the log path are the runtime's), the image in
``images``, the lines in ``logs``; an unknown id is one error line; removing the manifest empties
``pods``. containerd must answer (scripts/ensure-containerd.sh): the test fails, never skips, without it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tests.integration.conftest import NODE_LABEL, REPO, Agent, wait_for
from tests.integration.cri_support import ENDPOINT, Cri, cri_agent_factory_fixture, cri_fixture  # noqa: F401

POD = """apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: talk
      image: busybox:1.35
      command: [sh, -c, "echo first line; echo second line >&2; exec sleep 3600"]
"""


def crictl(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pykubelet", "crictl", "--runtime-endpoint", ENDPOINT, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO, check=False)


def ok(*args: str) -> str:
    result = crictl(*args)
    assert result.returncode == 0, f"crictl {' '.join(args)}: {result.stderr}"
    return result.stdout


def running(agent: Agent) -> dict[str, Any] | None:
    pod = agent.pod("talker")
    return pod if pod is not None and pod["status"].get("phase") == "Running" else None


def rows(text: str) -> list[list[str]]:
    """Table rows split on crictl's 3-space padding (cells such as "4 seconds ago" keep their spaces)."""
    return [[cell.strip() for cell in line.split("   ") if cell.strip()] for line in text.splitlines()]


def test_crictl_views_of_a_pod_the_agent_started(cri_agent_factory: Callable[..., Agent], cri: Cri) -> None:
    agent = cri_agent_factory().start()
    agent.write("talker.yaml", POD)
    name, scope = f"talker-{agent.node}", f"{NODE_LABEL}={agent.node}"
    pod = wait_for("the pod Running", lambda: running(agent), timeout=90)
    assert pod is not None
    pod_ip = pod["status"]["podIP"]

    table = rows(ok("pods", "--label", scope))
    assert table[0] == ["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]
    assert len(table) == 2 and table[1][2:] == ["Ready", name, "default", "0", "(default)"]
    sandbox_id = table[1][0]
    assert len(sandbox_id) == 13

    table = rows(ok("ps", "-a", "--label", scope))
    assert table[0] == [
        "CONTAINER",
        "IMAGE",
        "CREATED",
        "STATE",
        "NAME",
        "ATTEMPT",
        "POD ID",
        "POD",
        "NAMESPACE",
    ]
    assert len(table) == 2
    container_id = table[1][0]
    assert table[1][3:] == ["Running", "talk", "0", sandbox_id, name, "default"]

    document = json.loads(ok("inspectp", sandbox_id[:8]))
    assert set(document) >= {"status", "info"}
    status = document["status"]
    assert status["id"].startswith(sandbox_id) and status["state"] == "SANDBOX_READY"
    assert status["metadata"]["name"] == name and status["network"]["ip"] == pod_ip
    assert status["labels"][NODE_LABEL] == agent.node and status["createdAt"].endswith("Z")

    document = json.loads(ok("inspect", container_id[:8]))
    status = document["status"]
    assert status["state"] == "CONTAINER_RUNNING" and status["metadata"]["name"] == "talk"
    assert status["labels"]["io.kubernetes.container.name"] == "talk"
    assert status["logPath"].startswith(str(agent.logs_dir)) and status["logPath"].endswith("/talk/0.log")
    assert status["finishedAt"] == "0001-01-01T00:00:00Z"

    images = rows(ok("images"))
    assert images[0] == ["IMAGE", "TAG", "IMAGE ID", "SIZE"]
    assert any(r[:2] == ["docker.io/library/busybox", "1.35"] for r in images[1:]), images

    # stdout and stderr reach the log through two pipes: containerd may write either line first
    def both_lines() -> str | None:
        text = ok("logs", container_id)
        return text if sorted(text.splitlines()) == ["first line", "second line"] else None

    logged = wait_for("both lines in the log", both_lines)
    assert ok("logs", "--tail", "1", container_id[:6]) == logged.splitlines(keepends=True)[-1]
    stamped = ok("logs", "--timestamps", container_id).splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == logged.splitlines()
    fixed = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")  # the kubelet's RFC3339NanoFixed
    assert all(fixed.fullmatch(line.split(" ", 1)[0]) for line in stamped), stamped
    first = crictl("logs", "--previous", container_id)
    assert first.returncode == 1 and "no previous log" in first.stderr, first.stderr

    unknown = crictl("inspect", "zzzz")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr == 'error: no container with ID "zzzz" (`pykubelet crictl ps -a` lists them)\n'

    agent.remove("talker.yaml")
    wait_for("the sandbox gone", lambda: len(rows(ok("pods", "--label", scope))) == 1, timeout=60)
    assert rows(ok("ps", "-a", "--label", scope))[1:] == []
