"""The runtime interface: what the agent asks of a container runtime, in runtime-neutral terms.

This is the seam the kubelet has at ``pkg/kubelet/container/runtime.go`` and, below it, the CRI
(``RuntimeService`` / ``ImageService``): pod sandboxes and containers are small records read back from
the runtime, configs are built by the agent (``generatePodSandboxConfig``, ``generateContainerConfig``)
and handed down whole. Everything above ``runtime/`` speaks these types only; ``runtime/docker/`` turns
them into Docker calls the way dockershim did, ``runtime/fake.py`` keeps them in memory for the unit
tests, and a CRI client can implement the same :class:`Runtime`.

State lives in the runtime: labels and annotations carry the pod's identity (uid, container name,
restart count, spec hash, preStop handler ...), so an agent that restarts rebuilds everything by listing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "Container",
    "ContainerConfig",
    "ContainerEvent",
    "ContainerState",
    "Image",
    "Kind",
    "Mount",
    "PortMapping",
    "Runtime",
    "RuntimeError_",
    "SandboxConfig",
    "Summary",
    "parse_time",
]

Kind = Literal["sandbox", "init", "container"]
ContainerState = Literal["created", "running", "exited", "unknown"]


class RuntimeError_(Exception):
    """A runtime operation failed; ``reason`` is the kubelet's word for it (ErrImagePull, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Container:
    """One sandbox or container of a pod, as the runtime reports it (CRI ``PodSandboxStatus`` /
    ``ContainerStatus`` folded into one record: a sandbox is the ``kind == "sandbox"`` case)."""

    id: str
    name: str  # the container's name in the pod spec; "POD" for a sandbox
    pod_uid: str
    pod_name: str
    namespace: str
    kind: Kind
    attempt: int  # the restart count (the sandbox's attempt for a sandbox)
    state: ContainerState
    labels: dict[str, str] = field(repr=False)
    annotations: dict[str, str] = field(default_factory=dict, repr=False)
    exit_code: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str = ""
    message: str = ""
    image: str = ""  # the image as asked for
    image_id: str = ""  # the image the runtime resolved it to
    ip: str = ""  # a sandbox's pod IP
    hash: str = ""  # the spec hash the kubelet labels a container with
    pid: int = 0  # the main process on the host; 0 when not running
    log_path: str = ""  # the runtime's own log file of the container, if it keeps one
    sandbox_id: str = ""  # for a container: the sandbox it belongs to
    runtime: str = "docker"  # the scheme of ``containerID`` in a status (docker://, containerd://)
    runtime_name: str = ""  # the runtime's own name for it (Docker's ``k8s_...``; a CRI runtime's id)

    @property
    def is_sandbox(self) -> bool:
        return self.kind == "sandbox"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def container_id(self) -> str:
        return f"{self.runtime}://{self.id}"


@dataclass(frozen=True)
class Summary:
    """What a cheap listing says of a container (``docker ps`` / ``ListContainers``): enough for a relist."""

    id: str
    pod_uid: str
    pod_name: str
    namespace: str
    state: str


@dataclass(frozen=True)
class ContainerEvent:
    """A runtime event about one container of a pod (the PLEG's input)."""

    pod_uid: str
    container_id: str
    action: str


@dataclass(frozen=True)
class Image:
    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0
    user: str = ""  # the image's configured user (Docker's Config.User: "uid", "name", "uid:gid"); "" = root


@dataclass(frozen=True)
class ContainerStats:
    """What only the runtime can measure of a container (the CRI's ``ContainerStats.writable_layer``).

    CPU, memory and network are read from the container's cgroup and network namespace by
    :mod:`pykubelet.stats`, as cAdvisor reads them for the kubelet on either runtime; where the writable
    layer lives is the runtime's storage business, so it is asked.
    """

    container_id: str
    writable_layer_bytes: int
    writable_layer_inodes: int | None = None


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    host_port: int
    protocol: str = "TCP"
    host_ip: str = ""


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    readonly: bool = False


@dataclass(frozen=True)
class SandboxConfig:
    """``generatePodSandboxConfig``: what the runtime needs to make the pod's sandbox."""

    name: str
    namespace: str
    uid: str
    attempt: int
    image: str  # the pause image (Docker runs it; a CRI runtime has its own setting)
    labels: dict[str, str]
    annotations: dict[str, str]
    hostname: str = ""
    log_directory: str = ""
    host_network: bool = False
    host_ipc: bool = False
    host_pid: bool = False
    port_mappings: tuple[PortMapping, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_searches: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    host_aliases: tuple[tuple[str, str], ...] = ()  # (hostname, ip)
    oom_score_adj: int = -998
    cpu_shares: int = 2
    cgroup_parent: str = ""  # the pod's cgroup (systemd driver: the pod slice); "" for the runtime's default


@dataclass(frozen=True)
class ContainerConfig:
    """``generateContainerConfig``: one container of the pod, resolved (env expanded, mounts made)."""

    name: str
    attempt: int
    kind: Kind
    image: str
    labels: dict[str, str]
    annotations: dict[str, str]
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    working_dir: str = ""
    mounts: tuple[Mount, ...] = ()
    log_path: str = ""  # where the kubelet wants the log (/var/log/pods/...)
    tty: bool = False
    stdin: bool = False
    user: str = ""  # "uid" or "uid:gid"
    supplemental_groups: tuple[int, ...] = ()
    privileged: bool = False
    read_only_rootfs: bool = False
    no_new_privileges: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    host_pid: bool = False
    share_process_namespace: bool = False
    host_uts: bool = False
    cpu_shares: int = 2
    cpu_period: int | None = None
    cpu_quota: int | None = None
    memory_limit: int | None = None
    oom_score_adj: int = 0


@runtime_checkable
class Runtime(Protocol):
    """What the agent needs of a container runtime (the kubelet's ``kubecontainer.Runtime`` over CRI).

    Every method may raise :class:`RuntimeError_` with the kubelet's reason; a method that finds nothing
    (a container already gone) returns quietly, so removal is idempotent.
    """

    type: str  # "docker", "containerd"
    endpoint: str
    node: str
    on_operation: Callable[[str, float, bool], None] | None  # (operation, seconds, ok) for the metrics

    # -- the runtime itself
    async def version(self) -> dict[str, str]: ...
    async def check_health(self, timeout: float) -> tuple[bool, str]: ...
    def close(self) -> None: ...

    # -- sandboxes
    async def run_pod_sandbox(self, config: SandboxConfig) -> Container: ...
    async def stop_pod_sandbox(self, sandbox_id: str, grace: int) -> None: ...
    async def remove_pod_sandbox(self, sandbox_id: str) -> None: ...

    # -- containers
    async def create_container(self, sandbox: Container, config: ContainerConfig) -> str: ...
    async def start_container(self, container_id: str) -> None: ...
    async def stop_container(self, container_id: str, grace: int) -> None: ...
    async def remove_container(self, container_id: str) -> None: ...
    async def container_status(self, container_id: str) -> Container | None: ...
    async def list_pod_containers(self, uid: str | None = None) -> list[Container]:
        """Sandboxes and containers of this node (or of one pod), newest first."""
        ...

    async def list_summaries(self) -> list[Summary]:
        """The cheap listing of this node's containers, for the PLEG's relist and orphan cleanup."""
        ...

    def forget(self, container_id: str) -> None:
        """Drop anything cached about the container (an event said it changed)."""
        ...

    def events(self) -> AsyncIterator[ContainerEvent]:
        """Container events of this node until the connection breaks (then it raises)."""
        ...

    # -- images
    async def image_status(self, ref: str) -> Image | None: ...
    def cached_image(self, image_id: str) -> Image | None:
        """An image already looked up, by id (for imageID in a status); never calls the runtime."""
        ...

    async def pull_image(self, ref: str) -> None: ...

    async def image_fs_mountpoint(self) -> str:
        """``ImageFsInfo``: the directory whose filesystem holds images and writable layers ("" unknown)."""
        ...

    # -- stats and logs
    async def list_container_stats(self, container_ids: Sequence[str]) -> dict[str, ContainerStats]:
        """``ListContainerStats`` for these containers, by id; a container the runtime cannot measure is left
        out. Logs need no call: a container's ``log_path`` (from :meth:`container_status`) is the file the
        runtime writes, which :mod:`pykubelet.podlogs` reads in either format, as the kubelet's
        ``GetContainerLogs`` reads ``ContainerStatus.LogPath``."""
        ...

    # -- exec (hooks and exec probes)
    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> tuple[int, str]:
        """(exit code, output); raises TimeoutError when the command outlives ``timeout``."""
        ...


def parse_time(value: str | None) -> datetime | None:
    """RFC 3339 as runtimes and the kubelet write it (nanoseconds, ``Z`` or an offset) -> an aware datetime.

    Python reads at most microseconds, so the fraction is cut to six digits; Go's zero time is None.
    """
    if not value or value.startswith("0001-01-01"):
        return None
    text = re.sub(r"\.(\d+)", lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.replace("Z", "+00:00"))
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
