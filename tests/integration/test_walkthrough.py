"""The walkthrough, end to end: nginx and a log truncator sharing an emptyDir, on each runtime for real.

The steps are asked of the runtime itself (:mod:`tests.integration.runtime_view`), so the same test runs on
Docker and on containerd: three running containers, the app containers in the sandbox's network
namespace, nginx's page on the pod IP, the emptyDir shared and truncated, /pods, and removal of everything
when the file goes. What only Docker shows (dockershim's ``k8s_`` names and labels) is checked on Docker.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable

import pytest

from tests.integration.conftest import Agent, wait_for
from tests.integration.cri_support import cri_agent_factory_fixture, cri_fixture  # noqa: F401 (fixtures)
from tests.integration.runtime_view import CriView, DockerView, RuntimeView


def _http(ip: str, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://{ip}{path}", timeout=3) as response:
        return response.read().decode()


@pytest.fixture(params=["docker", "containerd"])
def on_runtime(
    request: pytest.FixtureRequest, agent_factory: Callable[..., Agent]
) -> tuple[Agent, RuntimeView]:
    """A started agent on each runtime, with its runtime's view (containerd: the lab's own, checked)."""
    if request.param == "docker":
        agent = agent_factory().start()
        return agent, DockerView(agent)
    agent = request.getfixturevalue("cri_agent_factory")().start()
    return agent, CriView(agent, request.getfixturevalue("cri"))


def test_walkthrough_pod_runs_like_the_kubelets(on_runtime: tuple[Agent, RuntimeView]) -> None:
    agent, runtime = on_runtime
    agent.copy_example("nginx-truncator.yaml")
    seen = wait_for(
        "the sandbox and both containers running",
        lambda: (found := runtime.pod("nginx-truncator")) and sum(s.running for s in found) == 3 and found,
        timeout=60,
    )
    by_name = {s.name: s for s in seen}
    assert sorted(by_name) == ["POD", "log-truncator", "nginx"]
    infra = by_name["POD"]
    assert infra.netns and all(by_name[n].netns == infra.netns for n in ("nginx", "log-truncator"))
    pod_ip = infra.ip
    assert pod_ip

    pod = wait_for("the pod in /pods", lambda: agent.pod("nginx-truncator"), timeout=20)
    uid = pod["metadata"]["uid"]
    assert len(uid) == 32
    if isinstance(runtime, DockerView):
        _dockershim_names_and_labels(agent, f"nginx-truncator-{agent.node}", uid)

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
    wait_for("every container of the pod to go", lambda: not runtime.pod("nginx-truncator"), timeout=60)
    wait_for("the emptyDir to be deleted", lambda: not os.path.exists(agent.root / "pods" / uid), timeout=10)
    wait_for("the pod to leave /pods", lambda: agent.pod("nginx-truncator") is None, timeout=10)
    assert agent.alive()


def _dockershim_names_and_labels(agent: Agent, pod: str, uid: str) -> None:
    """What the seed's walkthrough shows of the Docker era: ``k8s_`` names, dockershim's labels."""
    names = sorted(c["Names"][0].lstrip("/") for c in agent.containers("nginx-truncator"))
    assert names == sorted(f"k8s_{name}_{pod}_default_{uid}_0" for name in ("POD", "nginx", "log-truncator"))
    infra = agent.inspect("nginx-truncator", "POD")
    for name in ("nginx", "log-truncator"):
        app = agent.inspect("nginx-truncator", name)
        assert app["HostConfig"]["NetworkMode"] == f"container:{infra['Id']}"
        assert app["HostConfig"]["IpcMode"] == f"container:{infra['Id']}"
        assert app["NetworkSettings"]["IPAddress"] == ""
        assert app["Config"]["Labels"]["io.kubernetes.sandbox.id"] == infra["Id"]
        assert app["Config"]["Labels"]["io.kubernetes.docker.type"] == "container"
        assert app["Config"]["Labels"]["annotation.io.kubernetes.container.restartCount"] == "0"
    assert infra["HostConfig"]["IpcMode"] == "shareable"
    assert infra["Config"]["Labels"]["io.kubernetes.docker.type"] == "podsandbox"
    assert infra["Config"]["Labels"]["annotation.kubernetes.io/config.source"] == "file"
