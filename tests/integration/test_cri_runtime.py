"""The walkthrough on containerd: the real pykubelet process as a CRI client, checked through the CRI itself.

pykubelet runs with ``--container-runtime-endpoint unix:///run/pykubelet-containerd/containerd.sock``
(scripts/ensure-containerd.sh starts that containerd beside Docker's, with a bridge CNI network and the
lab's images imported). What the Docker walkthrough shows must hold here too: the pod starts, its IP
(from CNI) serves nginx, /pods reports it with ``containerd://`` ids, the logs are where the kubelet puts
them in the CRI format, removing the manifest removes sandbox and containers, and restarting the agent
restarts nothing.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.conftest import Agent, free_port, wait_for
from tests.integration.cri_support import Cri, cri_agent_factory_fixture, cri_fixture  # noqa: F401 (fixtures)

CNI_SUBNET = ipaddress.ip_network("10.97.0.0/16")  # scripts/ensure-containerd.sh's conflist
CRI_LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) [PF] .*$"
)
WALKTHROUGH = "nginx-truncator"
NODE_NAMESPACE = 2  # runtime.v1.NamespaceMode.NODE

ECHO_POD = """apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: talk
      image: busybox:1.35
      command: [sh, -c, "echo hello from containerd; echo to stderr >&2; exec sleep 3600"]
"""


def statuses(agent: Agent, name: str) -> dict[str, dict[str, Any]]:
    pod = agent.pod(name)
    assert pod is not None, f"{name} is not in /pods"
    return {c["name"]: c for c in pod["status"].get("containerStatuses") or []}


def running(agent: Agent, name: str, containers: int) -> dict[str, Any] | None:
    pod = agent.pod(name)
    if pod is None or pod["status"].get("phase") != "Running":
        return None
    ready = [c for c in pod["status"].get("containerStatuses") or [] if "running" in c["state"]]
    return pod if len(ready) == containers else None


def cri_ids(cri: Cri, node: str) -> dict[str, str]:
    """Every container of the node in containerd: id -> state name."""
    return {c.id: str(c.state) for c in cri.containers(node)}


def test_walkthrough_pod_on_containerd(cri_agent_factory: Callable[..., Agent], cri: Cri) -> None:
    agent = cri_agent_factory().start()
    agent.copy_example(f"{WALKTHROUGH}.yaml")
    agent.write("echo.yaml", ECHO_POD)
    pod = wait_for("the walkthrough pod Running", lambda: running(agent, WALKTHROUGH, 2), timeout=90)
    wait_for("the echo pod Running", lambda: running(agent, "echo", 1), timeout=60)
    full_name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]

    # The pod IP comes from containerd's CNI (the sandbox's status), and nginx answers on it.
    pod_ip = pod["status"]["podIP"]
    assert ipaddress.ip_address(pod_ip) in CNI_SUBNET, pod_ip
    (sandbox,) = cri.sandboxes(agent.node, pod_uid=uid)
    assert sandbox.state == 0, "the sandbox is not SANDBOX_READY"  # SANDBOX_READY
    assert cri.sandbox_status(sandbox.id).status.network.ip == pod_ip

    def page() -> bytes:  # Running means started: nginx may still be binding its port
        with urllib.request.urlopen(f"http://{pod_ip}:80/", timeout=5) as response:
            return bytes(response.read())

    assert b"nginx" in wait_for("nginx to answer on the pod IP", page, timeout=30)

    # /stats/summary: cgroup figures as on Docker, the writable layer from ListContainerStats, the logs;
    # /metrics/cadvisor names each container as cAdvisor does under containerd (its id, its cgroup).
    def pod_stats() -> dict[str, Any] | None:
        found = next((p for p in agent.get("/stats/summary")["pods"] if p["podRef"]["uid"] == uid), None)
        containers = {c["name"]: c for c in (found or {}).get("containers", [])}
        complete = len(containers) == 2 and all("rootfs" in c and "logs" in c for c in containers.values())
        return containers if complete else None

    containers = wait_for("rootfs and logs in /stats/summary", pod_stats, timeout=40, interval=1)
    assert all(c["memory"]["workingSetBytes"] > 0 for c in containers.values()), containers
    assert all(c["logs"]["inodesUsed"] >= 1 for c in containers.values()), containers
    nginx = agent.cadvisor_labels(full_name, "nginx")
    nginx_id = statuses(agent, WALKTHROUGH)["nginx"]["containerID"].removeprefix("containerd://")
    assert nginx["name"] == nginx_id and nginx["id"].endswith(nginx_id), nginx

    # /pods: the runtime's ids, with the containerd:// scheme; containerd has exactly those.
    by_name = statuses(agent, WALKTHROUGH)
    ids = {name: s["containerID"] for name, s in by_name.items()}
    assert set(ids) == {"nginx", "log-truncator"}
    assert all(cid.startswith("containerd://") for cid in ids.values()), ids
    in_cri = {c.id: c for c in cri.containers(agent.node, pod_uid=uid)}
    assert {cid.removeprefix("containerd://") for cid in ids.values()} == set(in_cri)
    assert all(c.pod_sandbox_id == sandbox.id for c in in_cri.values())

    # Logs: /var/log/pods/<ns>_<pod>_<uid>/<container>/<restartCount>.log, written by containerd.
    pod_logs = agent.logs_dir / f"default_{full_name}_{uid}"
    for name in ("nginx", "log-truncator"):
        path = pod_logs / name / "0.log"
        assert path.is_file() and not path.is_symlink(), f"{path} is not containerd's log file"
    echo = agent.pod("echo")
    assert echo is not None
    echo_log = (
        agent.logs_dir / f"default_{echo['metadata']['name']}_{echo['metadata']['uid']}" / "talk" / "0.log"
    )
    lines = wait_for("both lines in the echo log", lambda: _two_lines(echo_log), timeout=20)
    assert all(CRI_LOG_LINE.match(line) for line in lines), lines
    assert lines[0].endswith(" stdout F hello from containerd") or lines[1].endswith(
        " stdout F hello from containerd"
    )
    assert any(" stderr F to stderr" in line for line in lines), lines

    # Restarting pykubelet restarts nothing: the same containers, still running, in the same sandbox.
    before = cri_ids(cri, agent.node)
    assert agent.stop() == 0
    agent.start()
    wait_for("the pod adopted", lambda: running(agent, WALKTHROUGH, 2), timeout=60)
    assert {n: s["containerID"] for n, s in statuses(agent, WALKTHROUGH).items()} == ids
    assert all(s["restartCount"] == 0 for s in statuses(agent, WALKTHROUGH).values())
    assert cri_ids(cri, agent.node) == before
    assert [s.id for s in cri.sandboxes(agent.node, pod_uid=uid)] == [sandbox.id]

    # Removing the manifest removes sandbox and containers, in containerd itself, and the pod's logs.
    # (log-truncator's shell ignores SIGTERM: it goes at the end of its 30 s grace period, as on Docker.)
    agent.remove(f"{WALKTHROUGH}.yaml")
    wait_for("the pod gone from /pods", lambda: agent.pod(WALKTHROUGH) is None, timeout=20)
    wait_for(
        "containerd to have no sandbox or container of the pod",
        lambda: not cri.sandboxes(agent.node, pod_uid=uid) and not cri.containers(agent.node, pod_uid=uid),
        timeout=60,
    )
    wait_for("the pod's log directory removed", lambda: not pod_logs.exists(), timeout=10)
    assert agent.pod("echo") is not None  # the other pod was left alone


def _two_lines(path: Path) -> list[str] | None:
    lines = path.read_text().splitlines() if path.exists() else []
    return lines if len(lines) >= 2 else None


def test_host_port_and_host_network(cri_agent_factory: Callable[..., Agent], cri: Cri) -> None:
    agent = cri_agent_factory().start()
    port = free_port()
    agent.write(
        "ported.yaml",
        f"""apiVersion: v1
kind: Pod
metadata: {{name: ported}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: web
      image: nginx:1.22
      ports: [{{containerPort: 80, hostPort: {port}}}]
""",
    )
    agent.write(
        "hostnet.yaml",
        """apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
    - {name: app, image: "busybox:1.35", command: [sleep, "3600"]}
""",
    )
    wait_for("the hostPort pod Running", lambda: running(agent, "ported", 1), timeout=60)
    hostnet = wait_for("the hostNetwork pod Running", lambda: running(agent, "hostnet", 1), timeout=60)

    # hostPort: CNI's portmap plugin forwards the node's port to the pod.
    body = wait_for("nginx through the hostPort", lambda: _fetch(f"http://127.0.0.1:{port}/"), timeout=20)
    assert "nginx" in body

    # hostNetwork: the node's network namespace, no CNI at all; the pod's IP is one of the node's.
    (sandbox,) = cri.sandboxes(agent.node, pod_uid=hostnet["metadata"]["uid"])
    status = cri.sandbox_status(sandbox.id).status
    assert status.linux.namespaces.options.network == NODE_NAMESPACE
    assert status.network.ip == ""
    pod_ip = hostnet["status"]["podIP"]
    assert ipaddress.ip_address(pod_ip) not in CNI_SUBNET
    with socket.socket() as probe:
        probe.bind((pod_ip, 0))  # only a local address binds


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_image_missing_from_k8s_namespace_with_never(
    cri_agent_factory: Callable[..., Agent],
    cri: Cri,
) -> None:
    image = "pykubelet-test/not-in-containerd:1.0"
    assert not cri.has_image(image)
    agent = cri_agent_factory().start()
    agent.write(
        "never.yaml",
        f"""apiVersion: v1
kind: Pod
metadata: {{name: never}}
spec:
  containers:
    - {{name: app, image: "{image}", imagePullPolicy: Never}}
""",
    )

    def reason() -> str | None:
        state = statuses(agent, "never").get("app", {}).get("state", {})
        return (state.get("waiting") or {}).get("reason")

    assert wait_for("ErrImageNeverPull", lambda: reason() == "ErrImageNeverPull", timeout=30)
    assert agent.phase("never") == "Pending"


def test_unreachable_endpoint_is_a_clear_error(
    cri_agent_factory: Callable[..., Agent], tmp_path: Path
) -> None:
    # A short path (unix socket paths are limited to 108 bytes) that does not exist.
    absent = f"/tmp/pykubelet-absent-{secrets.token_hex(4)}/containerd.sock"
    agent = cri_agent_factory(endpoint=f"unix://{absent}", base=tmp_path / "absent")
    log = open(agent.log_file, "ab")  # noqa: SIM115 - handed to the child process
    agent.proc = subprocess.Popen(agent.command(), stdout=log, stderr=subprocess.STDOUT)

    def runtime_failed() -> str | None:
        try:
            agent.get("/healthz")
        except urllib.error.HTTPError as exc:
            body = exc.read().decode()
            # "not checked yet" until the first health check: wait for the check's own words
            return body if exc.code == 500 and absent in body else None
        return None

    # As with an unreachable Docker engine: the agent keeps running and /healthz says why, naming the
    # socket and how to start containerd.
    body = wait_for("/healthz to report the runtime", runtime_failed, timeout=30)
    assert absent in body and "scripts/ensure-containerd.sh" in body, body
    assert agent.alive()
    assert absent in agent.log() and "ensure-containerd.sh" in agent.log()
