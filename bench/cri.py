"""pykubelet on containerd: the CRI seen directly, for the bench's measurements and its direct-CRI floor.

The containerd is the lab's own (scripts/ensure-containerd.sh), the agent is pointed at it with
``--container-runtime-endpoint``. Everything here is plain blocking CRI v1 calls through the stubs the
agent uses (PyPI's container-runtime-interface-api), scoped by the ``io.pykubelet.node`` label.

How "started" is detected: containerd 1.6 has no CRI event stream (GetContainerEvents came in 1.7), so
the bench polls ``ListPodSandbox`` + ``ListContainers`` with the node label until each pod has a READY
sandbox and its app containers in CONTAINER_RUNNING, then reads each container's ``started_at`` from
``ContainerStatus``: the runtime's own clock, as Docker's ``timeNano`` is on the Docker side, so the
polling interval does not add to a start figure. This is the runtime's view, not the agent's ``/pods``
(which lags the runtime by the agent's own status update), i.e. the honest equivalent of Docker's
``start`` events. Removal has no such timestamp: it ends at the first listing that shows none of the
pod's sandbox and containers (so it includes up to one polling interval, ``POLL``).

The floor makes the same sandbox and containers with no agent: ``RunPodSandbox`` with the
PodSandboxConfig the agent builds (runtime/cri/convert.py: metadata, labels with the node, log
directory, namespace options, the host's DNS settings), then ``CreateContainer`` + ``StartContainer``
of each app with its ContainerConfig (labels, log path, emptyDirs as mounts, the default masked and
read-only paths). Its removal is the CRI's force-remove: ``StopContainer`` with timeout 0 (SIGKILL) and
``RemoveContainer`` of each app, then ``StopPodSandbox`` and ``RemovePodSandbox``.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
from cri_api.v1 import api_pb2 as pb
from cri_api.v1 import api_pb2_grpc as rpc

from bench.common import IMAGES, NODE_LABEL, POD_LABEL, poll
from bench.runtimes import MINIMUM_GRACE, Started, empty_dirs, pooled_removal, run_apps
from pykubelet.runtime import labels as L
from pykubelet.runtime.configs import pod_dns
from pykubelet.runtime.cri.convert import DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS

# The lab's containerd, or the one scripts/ensure-containerd.sh was pointed at (as the integration tests).
SOCKET = os.environ.get("PYKUBELET_CONTAINERD_SOCKET", "/run/pykubelet-containerd/containerd.sock")
ENDPOINT = f"unix://{SOCKET}"
CALL_TIMEOUT = 60.0
POLL = 0.02  # seconds between two listings while waiting for a start or a removal
NAMESPACE = "default"


class CriSide:
    """pykubelet on containerd, and the direct-CRI floor beside it."""

    name = "containerd"
    floor = "direct CRI"

    def __init__(self, endpoint: str, volume_root: Path, logs_root: Path) -> None:
        self.endpoint = endpoint
        self.volume_root = volume_root
        self.logs_root = logs_root
        self.channel = grpc.insecure_channel(endpoint)
        self.runtime = rpc.RuntimeServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.images = rpc.ImageServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.dns = host_dns()
        self.poll_interval = POLL
        self.version = ""

    def check(self) -> str:
        """Why this containerd cannot be measured ("" if it can): it must answer and hold the images."""
        try:
            version = self.runtime.Version(pb.VersionRequest(version="v1"), timeout=5)
            for image in IMAGES:
                answer = self.images.ImageStatus(
                    pb.ImageStatusRequest(image=pb.ImageSpec(image=image)), timeout=10
                )
                if not answer.image.id:
                    return f"image {image} is not in its k8s.io namespace (scripts/ensure-containerd.sh)"
        except grpc.RpcError as exc:
            details = exc.details()
            return f"containerd does not answer on {self.endpoint} ({details}): scripts/ensure-containerd.sh"
        self.version = f"{version.runtime_name} {version.runtime_version}"
        return ""

    def close(self) -> None:
        self.channel.close()

    # -- reading ------------------------------------------------------------------------------------

    def sandboxes(self, node: str, pod: str = "") -> list[Any]:
        request = pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(label_selector=_selector(node, pod)))
        return list(self.runtime.ListPodSandbox(request, timeout=CALL_TIMEOUT).items)

    def containers(self, node: str, pod: str = "") -> list[Any]:
        request = pb.ListContainersRequest(filter=pb.ContainerFilter(label_selector=_selector(node, pod)))
        return list(self.runtime.ListContainers(request, timeout=CALL_TIMEOUT).containers)

    def started_at(self, container_id: str) -> float:
        request = pb.ContainerStatusRequest(container_id=container_id)
        return int(self.runtime.ContainerStatus(request, timeout=CALL_TIMEOUT).status.started_at) / 1e9

    def wait_started(self, node: str, pods: dict[str, int], since: float, timeout: float) -> Started:
        """A READY sandbox and every app container RUNNING for each pod; times from the runtime."""
        after = int(since * 1e9)

        def probe() -> tuple[dict[str, Any], dict[str, list[Any]]] | None:
            ready = {
                s.labels.get(POD_LABEL): s
                for s in self.sandboxes(node)
                if s.state == pb.SANDBOX_READY and s.created_at >= after and s.labels.get(POD_LABEL) in pods
            }
            running: dict[str, list[Any]] = {}
            for c in self.containers(node):
                if c.state == pb.CONTAINER_RUNNING and c.created_at >= after:
                    running.setdefault(c.labels.get(POD_LABEL, ""), []).append(c)
            if all(p in ready and len(running.get(p, ())) + 1 >= n for p, n in pods.items()):
                return ready, running
            return None

        what = f"{sum(pods.values())} sandboxes and containers of {len(pods)} pod(s) on {node} to run"
        ready, running = poll(what, probe, timeout, self.poll_interval)
        apps = [c for p in pods for c in running[p]]
        first = min(int(s.created_at) for s in ready.values()) / 1e9
        last = max(self.started_at(c.id) for c in apps) if apps else first
        return Started(first, last, {s.id for s in ready.values()} | {c.id for c in apps})

    def wait_removed(self, node: str, ids: set[str], since: float, timeout: float) -> float:
        """The first listing that shows none of ``ids``: when its answer came."""

        def probe() -> float | None:
            present = {s.id for s in self.sandboxes(node)} | {c.id for c in self.containers(node)}
            return None if ids & present else time.time()

        return float(poll(f"{len(ids)} sandboxes and containers on {node} to go", probe, timeout, POLL))

    def timeline(self, node: str, pod: str, since: float) -> dict[str, float]:
        after = int(since * 1e9)
        sandboxes = [s for s in self.sandboxes(node, pod) if s.created_at >= after]
        apps = [c for c in self.containers(node, pod) if c.created_at >= after]
        if not sandboxes or not apps:
            return {}
        sandbox_created = min(int(s.created_at) for s in sandboxes) / 1e9
        app_created = min(int(c.created_at) for c in apps) / 1e9
        app_started = max(self.started_at(c.id) for c in apps)
        return {
            "to_sandbox_create": sandbox_created - since,
            "sandbox_create_to_first_app_create": app_created - sandbox_created,
            "first_app_create_to_last_app_start": app_started - app_created,
        }

    # -- the floor ----------------------------------------------------------------------------------

    def floor_create(self, node: str, pod: dict[str, Any], parallel_apps: bool = False) -> list[str]:
        name = pod["metadata"]["name"]
        uid = str(uuid.uuid4())
        log_directory = self.logs_root / f"{NAMESPACE}_{name}_{uid}"
        os.makedirs(log_directory, 0o755, exist_ok=True)
        labels = {
            **{str(k): str(v) for k, v in (pod["metadata"].get("labels") or {}).items()},
            L.POD_NAME: name, L.POD_NAMESPACE: NAMESPACE, L.POD_UID: uid, NODE_LABEL: node,
        }  # fmt: skip
        sandbox_config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=NAMESPACE, attempt=0),
            hostname=name,
            log_directory=str(log_directory),
            dns_config=self.dns,
            labels=labels,
            linux=pb.LinuxPodSandboxConfig(
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
                )
            ),
        )
        run = pb.RunPodSandboxRequest(config=sandbox_config)
        sandbox = self.runtime.RunPodSandbox(run, timeout=CALL_TIMEOUT).pod_sandbox_id
        dirs = empty_dirs(pod, self.volume_root / node / name)

        def app(spec: dict[str, Any]) -> str:
            config = pb.ContainerConfig(
                metadata=pb.ContainerMetadata(name=spec["name"], attempt=0),
                image=pb.ImageSpec(image=spec["image"]),
                command=spec.get("command") or [],
                args=spec.get("args") or [],
                mounts=[
                    pb.Mount(container_path=m["mountPath"], host_path=str(dirs[m["name"]]))
                    for m in spec.get("volumeMounts") or []
                ],
                labels={
                    L.POD_NAME: name,
                    L.POD_NAMESPACE: NAMESPACE,
                    L.POD_UID: uid,
                    L.CONTAINER_NAME: spec["name"],
                    NODE_LABEL: node,
                },
                log_path=f"{spec['name']}/0.log",
                linux=pb.LinuxContainerConfig(
                    resources=pb.LinuxContainerResources(cpu_shares=2),
                    security_context=pb.LinuxContainerSecurityContext(
                        namespace_options=pb.NamespaceOption(network=pb.POD, ipc=pb.POD, pid=pb.CONTAINER),
                        masked_paths=DEFAULT_MASKED_PATHS,
                        readonly_paths=DEFAULT_READONLY_PATHS,
                    ),
                ),
            )
            request = pb.CreateContainerRequest(
                pod_sandbox_id=sandbox, config=config, sandbox_config=sandbox_config
            )
            cid = str(self.runtime.CreateContainer(request, timeout=CALL_TIMEOUT).container_id)
            self.runtime.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=CALL_TIMEOUT)
            return cid

        return [sandbox, *run_apps(pod["spec"]["containers"], app, parallel_apps)]

    def stop_container(self, container_id: str, grace: int = 0) -> None:
        request = pb.StopContainerRequest(container_id=container_id, timeout=grace)
        self.runtime.StopContainer(request, timeout=grace + CALL_TIMEOUT)

    def remove_container(self, container_id: str) -> None:
        """Killed at once (``StopContainer`` with timeout 0: SIGKILL), then removed."""
        self.stop_container(container_id)
        request = pb.RemoveContainerRequest(container_id=container_id)
        self.runtime.RemoveContainer(request, timeout=CALL_TIMEOUT)

    def remove_sandbox(self, sandbox_id: str) -> None:
        """``StopPodSandbox`` (what still runs in it is killed, the network torn down), then removed."""
        stop = pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id)
        self.runtime.StopPodSandbox(stop, timeout=CALL_TIMEOUT)
        remove = pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id)
        self.runtime.RemovePodSandbox(remove, timeout=CALL_TIMEOUT)

    def floor_remove(self, created: list[str]) -> None:
        for cid in created[1:]:
            self.remove_container(cid)
        self.remove_sandbox(created[0])

    def floor_remove_all(self, created: list[list[str]], graceful: bool) -> None:
        """Each pod removed as :meth:`floor_remove` does, 16 pods at a time (a CRI sandbox cannot go
        before its containers are stopped, so the unit is the pod); ``graceful``: each pod's apps stopped
        with the 2 s grace first (:func:`~bench.runtimes.pooled_removal`)."""
        stop = (lambda cid: self.stop_container(cid, MINIMUM_GRACE)) if graceful else None
        pooled_removal(created, lambda ids: [ids], self.floor_remove, stop)

    def remove_node(self, node: str) -> int:
        """Remove every container and sandbox labelled with ``node`` (the clean-up)."""
        removed = 0
        for container in self.containers(node):
            with contextlib.suppress(grpc.RpcError):
                self.remove_container(container.id)
                removed += 1
        for sandbox in self.sandboxes(node):
            with contextlib.suppress(grpc.RpcError):
                self.remove_sandbox(sandbox.id)
                removed += 1
        return removed


def _selector(node: str, pod: str) -> dict[str, str]:
    return {NODE_LABEL: node, POD_LABEL: pod} if pod else {NODE_LABEL: node}


def host_dns(path: str = "/etc/resolv.conf") -> pb.DNSConfig | None:
    """The DNS settings the agent hands down for a pod without cluster DNS (ClusterFirst falls back to
    the host's resolv.conf), computed by the agent's own pure function."""
    text = ""
    with contextlib.suppress(OSError):
        text = Path(path).read_text()
    dns = pod_dns({}, text)
    if not (dns.servers or dns.searches or dns.options):
        return None
    return pb.DNSConfig(servers=dns.servers, searches=dns.searches, options=dns.options)
