"""What the containerd tests need besides the Docker harness: the CRI seen directly, and agents pointed at it.

Assertions about sandboxes and containers ask containerd itself over CRI (the same stubs the agent uses,
through a plain blocking channel), never only pykubelet's /pods: "removing the manifest removes the
sandbox" must be true of the runtime. Each agent is scoped by its node label, and its leftovers are
removed through the CRI when the test ends, whatever happened.

The containerd is pykubelet's own (scripts/ensure-containerd.sh starts it beside Docker's); a test
fails, never skips, when it does not answer.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cri_api.v1 import api_pb2 as pb
from cri_api.v1 import api_pb2_grpc as rpc

from tests.integration.conftest import NODE_LABEL, Agent

SOCKET = os.environ.get("PYKUBELET_CONTAINERD_SOCKET", "/run/pykubelet-containerd/containerd.sock")
ENDPOINT = f"unix://{SOCKET}"
CRI_IMAGES = ("busybox:1.35", "nginx:1.22", "registry.k8s.io/pause:3.10")


class Cri:
    """A blocking CRI client for the tests' own checks."""

    def __init__(self, endpoint: str = ENDPOINT) -> None:
        self.channel = grpc.insecure_channel(endpoint)
        self.runtime = rpc.RuntimeServiceStub(self.channel)
        self.images = rpc.ImageServiceStub(self.channel)

    def version(self) -> Any:
        return self.runtime.Version(pb.VersionRequest(version="v1"), timeout=10)

    def sandboxes(self, node: str, **labels: str) -> list[Any]:
        selector = {NODE_LABEL: node, **_keys(labels)}
        request = pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(label_selector=selector))
        return list(self.runtime.ListPodSandbox(request, timeout=30).items)

    def containers(self, node: str, **labels: str) -> list[Any]:
        selector = {NODE_LABEL: node, **_keys(labels)}
        request = pb.ListContainersRequest(filter=pb.ContainerFilter(label_selector=selector))
        return list(self.runtime.ListContainers(request, timeout=30).containers)

    def sandbox_status(self, sandbox_id: str, verbose: bool = False) -> Any:
        return self.runtime.PodSandboxStatus(
            pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id, verbose=verbose), timeout=30
        )

    def container_status(self, container_id: str) -> Any:
        request = pb.ContainerStatusRequest(container_id=container_id, verbose=True)
        return self.runtime.ContainerStatus(request, timeout=30)

    def has_image(self, ref: str) -> bool:
        answer = self.images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=ref)), timeout=30)
        return bool(answer.image.id)

    def remove_node(self, node: str) -> None:
        """Remove every sandbox (and with it its containers) and container labelled with ``node``."""
        for container in self.containers(node):
            with contextlib.suppress(grpc.RpcError):
                self.runtime.RemoveContainer(pb.RemoveContainerRequest(container_id=container.id), timeout=60)
        for sandbox in self.sandboxes(node):
            with contextlib.suppress(grpc.RpcError):
                self.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sandbox.id), timeout=60)
                self.runtime.RemovePodSandbox(
                    pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox.id), timeout=60
                )

    def close(self) -> None:
        self.channel.close()


def _keys(labels: dict[str, str]) -> dict[str, str]:
    """pod_name="x" -> {"io.kubernetes.pod.name": "x"} (the kubelet's label keys, as keyword arguments)."""
    names = {"pod_name": "io.kubernetes.pod.name", "pod_uid": "io.kubernetes.pod.uid"}
    names["container"] = "io.kubernetes.container.name"
    return {names[k]: v for k, v in labels.items()}


@pytest.fixture(scope="session", name="cri")
def cri_fixture() -> Iterator[Cri]:
    """pykubelet's containerd, checked: fail (never skip) if it does not answer or lacks an image."""
    client = Cri()
    try:
        client.version()
    except grpc.RpcError as exc:
        client.close()
        pytest.fail(
            f"containerd does not answer CRI calls on {SOCKET} ({exc.details()}); "
            "start it with scripts/ensure-containerd.sh"
        )
    for image in CRI_IMAGES:
        if not client.has_image(image):
            pytest.fail(
                f"image {image} is not in containerd's k8s.io namespace: run scripts/ensure-containerd.sh"
            )
    yield client
    client.close()


@pytest.fixture(name="cri_agent_factory")
def cri_agent_factory_fixture(
    agent_factory: Callable[..., Agent], cri: Cri
) -> Iterator[Callable[..., Agent]]:
    """agent_factory, with the agents pointed at containerd; their CRI leftovers removed afterwards."""
    agents: list[Agent] = []

    def make(
        extra_args: list[str] | None = None, base: Path | None = None, endpoint: str = ENDPOINT
    ) -> Agent:
        agent = agent_factory(["--container-runtime-endpoint", endpoint, *(extra_args or [])], base=base)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        if agent.proc is not None and agent.proc.poll() is None:
            agent.proc.kill()  # first, or it would make again what is removed below
            agent.proc.wait(timeout=10)
        cri.remove_node(agent.node)
