"""The walkthrough, end to end: nginx and a log truncator sharing an emptyDir, on the real engine."""

from __future__ import annotations

import os
import time
import urllib.request

from tests.integration.conftest import Agent, wait_for


def _http(ip: str, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://{ip}{path}", timeout=3) as response:
        return response.read().decode()


def test_walkthrough_pod_runs_like_the_kubelets(agent: Agent) -> None:
    agent.copy_example("nginx-truncator.yaml")
    containers = wait_for(
        "three running containers",
        lambda: len(agent.containers("nginx-truncator")) == 3 and agent.containers("nginx-truncator"),
        timeout=60,
    )

    names = sorted(c["Names"][0].lstrip("/") for c in containers)
    pod = f"nginx-truncator-{agent.node}"
    uid = containers[0]["Labels"]["io.kubernetes.pod.uid"]
    assert len(uid) == 32
    assert names == sorted(
        [
            f"k8s_POD_{pod}_default_{uid}_0",
            f"k8s_nginx_{pod}_default_{uid}_0",
            f"k8s_log-truncator_{pod}_default_{uid}_0",
        ]
    )

    infra = agent.inspect("nginx-truncator", "POD")
    nginx = agent.inspect("nginx-truncator", "nginx")
    truncator = agent.inspect("nginx-truncator", "log-truncator")
    for app in (nginx, truncator):
        assert app["HostConfig"]["NetworkMode"] == f"container:{infra['Id']}"
        assert app["HostConfig"]["IpcMode"] == f"container:{infra['Id']}"
        assert app["NetworkSettings"]["IPAddress"] == ""
        assert app["Config"]["Labels"]["io.kubernetes.sandbox.id"] == infra["Id"]
        assert app["Config"]["Labels"]["io.kubernetes.docker.type"] == "container"
        assert app["Config"]["Labels"]["annotation.io.kubernetes.container.restartCount"] == "0"
    assert infra["HostConfig"]["IpcMode"] == "shareable"
    assert infra["Config"]["Labels"]["io.kubernetes.docker.type"] == "podsandbox"
    assert infra["Config"]["Labels"]["annotation.kubernetes.io/config.source"] == "file"
    pod_ip = infra["NetworkSettings"]["IPAddress"]
    assert pod_ip

    page = wait_for("nginx's page on the pod IP", lambda: _http(pod_ip), timeout=20)
    assert "Welcome to nginx!" in page

    # The shared emptyDir is on the host where the kubelet keeps it.
    empty_dir = agent.root / "pods" / uid / "volumes" / "kubernetes.io~empty-dir" / "logs"
    access_log = empty_dir / "access.log"
    for _ in range(3):
        _http(pod_ip)
    wait_for("access.log to grow", lambda: access_log.stat().st_size > 0, timeout=10)
    grown = access_log.stat().st_size
    assert grown > 0
    # The truncator empties it within its 10 s period.
    wait_for("the truncator to empty access.log", lambda: access_log.stat().st_size < grown, timeout=25)

    status = wait_for(
        "the pod Running in /pods",
        lambda: (p := agent.pod("nginx-truncator")) and p["status"]["phase"] == "Running" and p,
        timeout=20,
    )
    assert status["status"]["podIP"] == pod_ip
    assert status["metadata"]["uid"] == uid

    agent.remove("nginx-truncator.yaml")
    wait_for(
        "every container of the pod to go",
        lambda: not agent.containers("nginx-truncator", all=True),
        timeout=60,
    )
    wait_for("the emptyDir to be deleted", lambda: not os.path.exists(agent.root / "pods" / uid), timeout=10)
    wait_for("the pod to leave /pods", lambda: agent.pod("nginx-truncator") is None, timeout=10)
    assert agent.alive()
    _ = time
