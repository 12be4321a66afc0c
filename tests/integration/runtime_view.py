"""What the runtime itself shows of a pod, asked the same way of Docker and of containerd.

A walkthrough-level test is written once against :class:`Seen` records and runs on both runtimes: the
Docker view reads ``docker inspect``, the CRI view reads ``PodSandboxStatus`` / ``ContainerStatus`` (verbose,
for the main process) straight from containerd. Network namespaces are compared as the kernel names them
(``/proc/<pid>/ns/net``), so "the app containers join the sandbox's namespace" means the same on both.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import Protocol

import docker

from tests.integration.conftest import Agent
from tests.integration.cri_support import Cri


@dataclass(frozen=True)
class Seen:
    name: str  # the container's name in the pod spec; "POD" for the sandbox
    id: str
    running: bool
    pid: int
    ip: str  # the sandbox's pod IP ("" for app containers)

    @property
    def netns(self) -> str:
        """The kernel's name for the process's network namespace ("" when it is not running)."""
        with contextlib.suppress(OSError):
            return os.readlink(f"/proc/{self.pid}/ns/net") if self.pid > 0 else ""
        return ""


class RuntimeView(Protocol):
    def pod(self, name: str) -> list[Seen]:
        """The sandbox and containers of pod ``name`` (without the node suffix), as the runtime has them."""
        ...


class DockerView:
    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def pod(self, name: str) -> list[Seen]:
        seen = []
        for listed in self.agent.containers(name, all=True):
            with contextlib.suppress(docker.errors.NotFound):
                info = self.agent.api.inspect_container(listed["Id"])
                seen.append(
                    Seen(
                        name=info["Config"]["Labels"]["io.kubernetes.container.name"],
                        id=info["Id"],
                        running=bool(info["State"]["Running"]),
                        pid=int(info["State"]["Pid"] or 0),
                        ip=info["NetworkSettings"]["IPAddress"] or "",
                    )
                )
        return seen


class CriView:
    def __init__(self, agent: Agent, cri: Cri) -> None:
        self.agent = agent
        self.cri = cri

    def pod(self, name: str) -> list[Seen]:
        full = f"{name}-{self.agent.node}"
        seen = []
        for sandbox in self.cri.sandboxes(self.agent.node, pod_name=full):
            answer = self.cri.sandbox_status(sandbox.id, verbose=True)
            ready = answer.status.state == 0  # SANDBOX_READY
            seen.append(Seen("POD", sandbox.id, ready, _pid(answer.info), answer.status.network.ip))
        for container in self.cri.containers(self.agent.node, pod_name=full):
            answer = self.cri.container_status(container.id)
            running = answer.status.state == 1  # CONTAINER_RUNNING
            seen.append(Seen(answer.status.metadata.name, container.id, running, _pid(answer.info), ""))
        return seen


def _pid(info: dict[str, str]) -> int:
    """The main process from containerd's verbose info (``{"pid": ...}``); 0 without one."""
    try:
        return int(json.loads(info.get("info") or "{}").get("pid") or 0)
    except ValueError:
        return 0
