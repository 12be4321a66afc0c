"""Runtime-neutral records and configs <-> CRI v1 messages, as the kubelet's kuberuntime translates them.

All pure, so the unit tests need no containerd:
- a :class:`SandboxConfig` -> ``PodSandboxConfig`` (``generatePodSandboxConfig`` and
  ``generatePodSandboxLinuxConfig`` in ``kuberuntime_sandbox.go``);
- a :class:`ContainerConfig` -> the CRI ``ContainerConfig`` (``generateContainerConfig`` and
  ``generateLinuxContainerConfig``), its log path relative to the sandbox's log directory;
- ``PodSandboxStatus`` / ``ContainerStatus`` -> :class:`Container` (``toKubeContainerStatus``): the pod's
  identity from the kubelet's labels, the restart count, spec hash and kind from its annotations, so an
  agent that restarts adopts its pods from containerd alone;
- ``ListPodSandbox`` / ``ListContainers`` entries -> :class:`Summary` for the PLEG's relist.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from cri_api.v1 import api_pb2 as pb
from google.protobuf import json_format

from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container, ContainerConfig, ContainerState, Image, SandboxConfig, Summary

RUNTIME = "containerd"  # the scheme of containerID in a status: containerd://<id>
SANDBOX_NAME = "POD"

# The kubelet always hands these down (pkg/securitycontext/util.go, procMount Default): a runtime that is
# given none masks nothing, so leaving them out would show /proc/kcore and friends to every container.
DEFAULT_MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
)
DEFAULT_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_PROTOCOLS = {"TCP": pb.TCP, "UDP": pb.UDP, "SCTP": pb.SCTP}
_CONTAINER_STATES: dict[int, ContainerState] = {
    pb.CONTAINER_CREATED: "created",
    pb.CONTAINER_RUNNING: "running",
    pb.CONTAINER_EXITED: "exited",
    pb.CONTAINER_UNKNOWN: "unknown",
}


def from_nanos(nanos: int) -> datetime | None:
    """The CRI's Unix nanoseconds -> an aware datetime (0, "never", is None)."""
    if nanos <= 0:
        return None
    return datetime.fromtimestamp(nanos / 1e9, tz=timezone.utc)


# -- configs -> requests ------------------------------------------------------------------------------------


def sandbox_config(config: SandboxConfig) -> pb.PodSandboxConfig:
    """``generatePodSandboxConfig``: identity, hostname, logs, DNS, ports, namespaces; labels as given."""
    node, pod = pb.NODE, pb.POD
    namespaces = pb.NamespaceOption(
        network=node if config.host_network else pod,
        pid=node if config.host_pid else pb.CONTAINER,
        ipc=node if config.host_ipc else pod,
    )
    dns = None
    if config.dns_servers or config.dns_searches or config.dns_options:
        # Unset, the runtime copies the host's resolv.conf, which is what dnsPolicy Default asks for.
        dns = pb.DNSConfig(
            servers=config.dns_servers, searches=config.dns_searches, options=config.dns_options
        )
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(
            name=config.name, uid=config.uid, namespace=config.namespace, attempt=config.attempt
        ),
        hostname=config.hostname,
        log_directory=config.log_directory,
        dns_config=dns,
        port_mappings=[
            pb.PortMapping(
                protocol=_PROTOCOLS.get(m.protocol.upper(), pb.TCP),
                container_port=m.container_port,
                host_port=m.host_port,
                host_ip=m.host_ip,
            )
            for m in config.port_mappings
        ],
        labels=config.labels,
        annotations=config.annotations,
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=config.cgroup_parent,
            security_context=pb.LinuxSandboxSecurityContext(namespace_options=namespaces),
        ),
    )


def minimal_sandbox_config(sandbox: Container) -> pb.PodSandboxConfig:
    """What CreateContainer needs of a sandbox whose full config is unknown (made by an earlier agent and
    not readable back): its identity, labels and annotations."""
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(
            name=sandbox.pod_name, uid=sandbox.pod_uid, namespace=sandbox.namespace, attempt=sandbox.attempt
        ),
        labels=sandbox.labels,
        annotations=sandbox.annotations,
    )


def parse_sandbox_config(info: dict[str, Any]) -> pb.PodSandboxConfig | None:
    """The sandbox's config from containerd's verbose ``PodSandboxStatus`` info (its "config"), if any."""
    raw = info.get("config")
    if not isinstance(raw, dict):
        return None
    config = pb.PodSandboxConfig()
    try:
        json_format.ParseDict(raw, config, ignore_unknown_fields=True)
    except json_format.ParseError:
        return None
    return config


def container_request(
    sandbox_id: str, sandbox: pb.PodSandboxConfig, config: ContainerConfig
) -> pb.CreateContainerRequest:
    """``CreateContainer``: the container's config with the sandbox's.

    The kubelet's log path is absolute (``/var/log/pods/<ns>_<pod>_<uid>/<name>/<n>.log``); the CRI wants
    it relative to the sandbox's ``log_directory``, and the runtime writes the file there itself, in the
    CRI log format, so no symlink is needed. A privileged container needs a privileged sandbox: the
    runtime checks the sandbox config sent with the request.
    """
    sandbox_copy = pb.PodSandboxConfig()
    sandbox_copy.CopyFrom(sandbox)
    log_path = config.log_path
    if log_path:
        directory = sandbox_copy.log_directory
        if not directory or not log_path.startswith(directory.rstrip("/") + "/"):
            directory = os.path.dirname(os.path.dirname(log_path))
            sandbox_copy.log_directory = directory
        log_path = os.path.relpath(log_path, directory)
    if config.privileged:
        sandbox_copy.linux.security_context.privileged = True
    return pb.CreateContainerRequest(
        pod_sandbox_id=sandbox_id,
        config=_container_config(config, log_path),
        sandbox_config=sandbox_copy,
    )


def _container_config(config: ContainerConfig, log_path: str) -> pb.ContainerConfig:
    """``generateContainerConfig`` + ``generateLinuxContainerConfig``."""
    security = pb.LinuxContainerSecurityContext(
        capabilities=pb.Capability(add_capabilities=config.cap_add, drop_capabilities=config.cap_drop),
        privileged=config.privileged,
        namespace_options=pb.NamespaceOption(
            network=pb.POD,
            ipc=pb.POD,
            pid=pb.NODE if config.host_pid else pb.POD if config.share_process_namespace else pb.CONTAINER,
        ),
        readonly_rootfs=config.read_only_rootfs,
        supplemental_groups=config.supplemental_groups,
        no_new_privs=config.no_new_privileges,
        masked_paths=() if config.privileged else DEFAULT_MASKED_PATHS,
        readonly_paths=() if config.privileged else DEFAULT_READONLY_PATHS,
    )
    if config.user:
        uid, _, gid = config.user.partition(":")
        security.run_as_user.value = int(uid)
        if gid:
            security.run_as_group.value = int(gid)
    resources = pb.LinuxContainerResources(
        cpu_shares=config.cpu_shares,
        cpu_period=config.cpu_period or 0,
        cpu_quota=config.cpu_quota or 0,
        memory_limit_in_bytes=config.memory_limit or 0,
        oom_score_adj=config.oom_score_adj,
    )
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=config.name, attempt=config.attempt),
        image=pb.ImageSpec(image=config.image),
        command=config.command,
        args=config.args,
        working_dir=config.working_dir,
        envs=[pb.KeyValue(key=k, value=v) for k, v in config.env],
        mounts=[
            pb.Mount(container_path=m.container_path, host_path=m.host_path, readonly=m.readonly)
            for m in config.mounts
        ],
        labels=config.labels,
        annotations=config.annotations,
        log_path=log_path,
        stdin=config.stdin,
        tty=config.tty,
        linux=pb.LinuxContainerConfig(resources=resources, security_context=security),
    )


# -- statuses -> records ------------------------------------------------------------------------------------


def verbose_info(info: Any) -> dict[str, Any]:
    """containerd's verbose ``info["info"]`` (a JSON document: pid, sandboxID, config ...); {} if absent."""
    try:
        parsed = json.loads(info.get("info", "") or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def sandbox_record(status: pb.PodSandboxStatus, info: dict[str, Any]) -> Container | None:
    """``PodSandboxStatus`` -> the ``kind == "sandbox"`` :class:`Container`; None if not the kubelet's."""
    labels = dict(status.labels)
    uid = labels.get(L.POD_UID) or status.metadata.uid
    if not uid:
        return None
    created = from_nanos(status.created_at)
    ready = status.state == pb.SANDBOX_READY
    return Container(
        id=status.id,
        name=SANDBOX_NAME,
        pod_uid=uid,
        pod_name=labels.get(L.POD_NAME) or status.metadata.name,
        namespace=labels.get(L.POD_NAMESPACE) or status.metadata.namespace,
        kind="sandbox",
        attempt=status.metadata.attempt,
        state="running" if ready else "exited",
        labels=labels,
        annotations=dict(status.annotations),
        created_at=created,
        started_at=created,  # RunPodSandbox creates and starts in one call
        image=str(info.get("image") or ""),
        ip=status.network.ip if ready else "",
        pid=int(info.get("pid") or 0) if ready else 0,
        runtime=RUNTIME,
        runtime_name=status.id,
    )


def container_record(
    status: pb.ContainerStatus, info: dict[str, Any], sandbox_id: str = ""
) -> Container | None:
    """``ContainerStatus`` -> :class:`Container`; None for containers the kubelet did not label."""
    labels = dict(status.labels)
    annotations = dict(status.annotations)
    uid = labels.get(L.POD_UID)
    if not uid:
        return None
    state = _CONTAINER_STATES.get(status.state, "unknown")
    try:
        attempt = int(annotations.get(L.RESTART_COUNT, status.metadata.attempt))
    except ValueError:
        attempt = status.metadata.attempt
    kind = annotations.get(L.CONTAINER_KIND) or labels.get(L.CONTAINER_KIND) or "container"
    record = Container(
        id=status.id,
        name=labels.get(L.CONTAINER_NAME) or status.metadata.name,
        pod_uid=uid,
        pod_name=labels.get(L.POD_NAME, ""),
        namespace=labels.get(L.POD_NAMESPACE, ""),
        kind="init" if kind == "init" else "container",
        attempt=attempt,
        state=state,
        labels=labels,
        annotations=annotations,
        exit_code=status.exit_code,
        created_at=from_nanos(status.created_at),
        started_at=from_nanos(status.started_at),
        finished_at=from_nanos(status.finished_at),
        reason=status.reason,
        message=status.message,
        image=status.image.user_specified_image or status.image.image,
        image_id=status.image_ref,
        hash=annotations.get(L.CONTAINER_HASH, ""),
        pid=int(info.get("pid") or 0) if state == "running" else 0,
        log_path=status.log_path,
        sandbox_id=sandbox_id or str(info.get("sandboxID") or ""),
        runtime=RUNTIME,
        runtime_name=status.id,
    )
    if state == "exited" and not record.reason:
        record.reason = "Completed" if record.exit_code == 0 else "Error"
    return record


def sandbox_summary(listed: pb.PodSandbox) -> Summary | None:
    uid = listed.labels.get(L.POD_UID) or listed.metadata.uid
    if not uid:
        return None
    state = "running" if listed.state == pb.SANDBOX_READY else "exited"
    return Summary(listed.id, uid, listed.metadata.name, listed.metadata.namespace, state)


def container_summary_state(listed: pb.Container) -> ContainerState:
    return _CONTAINER_STATES.get(listed.state, "unknown")


def container_summary(listed: pb.Container) -> Summary | None:
    uid = listed.labels.get(L.POD_UID)
    if not uid:
        return None
    labels = listed.labels
    state = container_summary_state(listed)
    return Summary(listed.id, uid, labels.get(L.POD_NAME, ""), labels.get(L.POD_NAMESPACE, ""), state)


def image(found: pb.Image) -> Image:
    """``ImageStatus``'s image; its user is the numeric ``uid`` or the ``username`` (the kubelet's
    ``getImageUser``), which runAsNonRoot is verified against, as on Docker."""
    user = str(found.uid.value) if found.HasField("uid") else found.username
    return Image(
        id=found.id,
        repo_tags=tuple(found.repo_tags),
        repo_digests=tuple(found.repo_digests),
        size=found.size,
        user=user,
    )
