"""What ``docker inspect`` and a container's own view show, as on a dockershim node (kubelet 1.20).

One agent serves the module: a pod with an init container, fsGroup, hostAliases, a preStop hook and a
port; a hostNetwork pod; a runAsNonRoot pod whose image runs as root; a container whose termination
message overflows 4096 bytes.
"""

from __future__ import annotations

import re
from typing import Any

import docker

from tests.integration.conftest import Agent, wait_for

SLEEP = ["sh", "-c", "sleep 3600"]


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": spec,
    }


def _exec(api: docker.APIClient, container_id: str, command: list[str]) -> str:
    run = api.exec_create(container_id, command)
    return api.exec_start(run["Id"]).decode()


def test_a_pod_as_dockershim_showed_it(shared_agent: Agent, docker_api: docker.APIClient) -> None:
    agent = shared_agent
    agent.write(
        "fid.yaml",
        _pod(
            "fid",
            securityContext={"fsGroup": 2000, "supplementalGroups": [3000]},
            hostAliases=[{"ip": "192.0.2.10", "hostnames": ["foo.local", "bar.local"]}],
            initContainers=[{"name": "setup", "image": "busybox:1.35", "command": ["true"]}],
            containers=[
                {
                    "name": "app",
                    "image": "busybox:1.35",
                    "command": SLEEP,
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "true && true"]}}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            volumes=[{"name": "data", "emptyDir": {}}],
        ),
    )
    wait_for("the pod Running", lambda: agent.phase("fid") == "Running", timeout=60)
    infra, app = agent.inspect("fid", "POD"), agent.inspect("fid", "app")
    uid = infra["Config"]["Labels"]["io.kubernetes.pod.uid"]

    # 1. NetworkMode as dockershim without a network plugin
    assert infra["HostConfig"]["NetworkMode"] == "default"
    assert app["HostConfig"]["NetworkMode"] == f"container:{infra['Id']}"

    # 2. labels as dockershim wrote them
    sandbox_labels, labels = infra["Config"]["Labels"], app["Config"]["Labels"]
    assert not [k for k in sandbox_labels if "terminationGracePeriod" in k]
    assert sandbox_labels["app"] == "fid" and sandbox_labels["io.kubernetes.container.name"] == "POD"
    for every in (sandbox_labels, labels):
        assert [k for k in every if k.startswith("io.pykubelet.")] == ["io.pykubelet.node"]
        assert "annotation.io.kubernetes.container.type" not in every
    assert re.fullmatch(r"[1-9a-f][0-9a-f]{0,7}", labels["annotation.io.kubernetes.container.hash"])
    assert labels["annotation.io.kubernetes.container.ports"] == (
        '[{"containerPort":8080,"name":"http","protocol":"TCP"}]'
    )
    assert labels["annotation.io.kubernetes.container.preStopHandler"] == (
        '{"exec":{"command":["sh","-c","true \\u0026\\u0026 true"]}}'
    )
    assert labels["annotation.io.kubernetes.pod.terminationGracePeriod"] == "30"

    # 6. fsGroup: the container's groups and the emptyDir
    groups = _exec(docker_api, app["Id"], ["id", "-G"]).split()
    assert groups[1:3] == ["2000", "3000"]
    assert _exec(docker_api, app["Id"], ["stat", "-c", "%g %a", "/data"]).strip() == "2000 2777"

    # 7. the kubelet's hosts file and resolv.conf, bind-mounted
    pod_dir = agent.root / "pods" / uid
    hosts = _exec(docker_api, app["Id"], ["cat", "/etc/hosts"])
    assert hosts == (pod_dir / "etc-hosts").read_text()
    assert hosts.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    ip = infra["NetworkSettings"]["IPAddress"]
    assert f"\n{ip}\tfid-{agent.node}\n" in hosts
    assert hosts.endswith("\n# Entries added by HostAliases.\n192.0.2.10\tfoo.local\tbar.local\n")
    binds = app["HostConfig"]["Binds"]
    assert f"{pod_dir / 'etc-hosts'}:/etc/hosts:rw" in binds
    assert f"{pod_dir / 'resolv.conf'}:/etc/resolv.conf:rw" in binds
    resolv = _exec(docker_api, app["Id"], ["cat", "/etc/resolv.conf"])
    assert resolv == (pod_dir / "resolv.conf").read_text() and "nameserver " in resolv
    assert "ExtraHosts" not in infra["HostConfig"] or not infra["HostConfig"]["ExtraHosts"]
    agent.remove("fid.yaml")


def test_a_host_network_pod(shared_agent: Agent, docker_api: docker.APIClient) -> None:
    agent = shared_agent
    agent.write("hostnet.yaml", _pod("hostnet", hostNetwork=True, containers=[
        {"name": "app", "image": "busybox:1.35", "command": SLEEP}
    ]))  # fmt: skip
    wait_for("the pod Running", lambda: agent.phase("hostnet") == "Running", timeout=60)
    assert agent.inspect("hostnet", "POD")["HostConfig"]["NetworkMode"] == "host"
    hosts = _exec(docker_api, agent.inspect("hostnet", "app")["Id"], ["cat", "/etc/hosts"])
    with open("/etc/hosts") as fh:
        assert hosts == "# Kubernetes-managed hosts file (host network).\n" + fh.read()
    agent.remove("hostnet.yaml")


def test_run_as_non_root_refuses_an_image_that_runs_as_root(shared_agent: Agent) -> None:
    agent = shared_agent
    agent.write("nonroot.yaml", _pod("nonroot", securityContext={"runAsNonRoot": True}, containers=[
        {"name": "app", "image": "busybox:1.35", "command": SLEEP}
    ]))  # fmt: skip

    def waiting() -> dict[str, Any] | None:
        pod = agent.pod("nonroot")
        statuses = (pod or {}).get("status", {}).get("containerStatuses") or [{}]
        return statuses[0].get("state", {}).get("waiting")

    state = wait_for("CreateContainerConfigError", lambda: (w := waiting()) and w.get("message") and w, 60)
    uid = agent.pod("nonroot")["metadata"]["uid"]  # type: ignore[index]
    assert state == {
        "reason": "CreateContainerConfigError",
        "message": "container has runAsNonRoot and image will run as root "
        f'(pod: "nonroot-{agent.node}_default({uid})", container: app)',
    }
    assert agent.containers("nonroot", all=True) and not [
        c
        for c in agent.containers("nonroot", all=True)
        if c["Labels"]["io.kubernetes.container.name"] == "app"
    ]
    agent.remove("nonroot.yaml")


def test_the_termination_message_keeps_the_last_4096_bytes(shared_agent: Agent) -> None:
    agent = shared_agent
    script = (
        "head -c 904 /dev/zero | tr '\\0' A > /dev/termination-log; "
        "head -c 4096 /dev/zero | tr '\\0' B >> /dev/termination-log"
    )
    agent.write("tmsg.yaml", _pod("tmsg", restartPolicy="Never", containers=[
        {"name": "app", "image": "busybox:1.35", "command": ["sh", "-c", script]}
    ]))  # fmt: skip
    wait_for("the pod Succeeded", lambda: agent.phase("tmsg") == "Succeeded", timeout=60)
    terminated = agent.pod("tmsg")["status"]["containerStatuses"][0]["state"]["terminated"]  # type: ignore[index]
    assert terminated["message"] == "B" * 4096
    agent.remove("tmsg.yaml")
