"""Runtime-neutral records and configs <-> Docker, as dockershim translated CRI to Docker.

Three directions, all pure:
- ``docker inspect`` -> :class:`~pykubelet.runtime.api.Container` (``ContainerStatus`` /
  ``PodSandboxStatus`` in dockershim's ``docker_container.go`` / ``docker_sandbox.go``);
- a :class:`SandboxConfig` -> the infra ("pause") container's create arguments (``RunPodSandbox``);
- a :class:`ContainerConfig` -> an app container's create arguments, joined to the sandbox's network and
  IPC namespaces (``CreateContainer``).
Labels are written as dockershim wrote them (``helpers.go`` ``makeLabels``): the CRI labels as they are,
each annotation as a label with the ``annotation.`` prefix, and Docker's own type and sandbox keys.
"""

from __future__ import annotations

from typing import Any

from pykubelet.runtime import labels as L
from pykubelet.runtime.api import (
    Container,
    ContainerConfig,
    ContainerEvent,
    Image,
    SandboxConfig,
    Summary,
    parse_time,
)
from pykubelet.runtime.docker.naming import container_name, parse_name, sandbox_name

ANNOTATION_PREFIX = "annotation."
DOCKER_TYPE = "io.kubernetes.docker.type"
SANDBOX_ID = "io.kubernetes.sandbox.id"
LOG_PATH = "io.kubernetes.container.logpath"
TYPE_SANDBOX = "podsandbox"
TYPE_CONTAINER = "container"


def make_labels(labels: dict[str, str], annotations: dict[str, str]) -> dict[str, str]:
    """One Docker label set from CRI labels and annotations (``makeLabels``)."""
    merged = dict(labels)
    merged.update({ANNOTATION_PREFIX + k: v for k, v in annotations.items()})
    return merged


def split_labels(docker_labels: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Docker labels -> (labels, annotations) (``extractLabels``)."""
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for key, value in docker_labels.items():
        if key.startswith(ANNOTATION_PREFIX):
            annotations[key.removeprefix(ANNOTATION_PREFIX)] = value
        else:
            labels[key] = value
    return labels, annotations


def summary(listed: dict[str, Any]) -> Summary | None:
    """A ``docker ps`` entry of one of our containers; None for anything else."""
    labels = listed.get("Labels") or {}
    uid = labels.get(L.POD_UID)
    if not uid:
        return None
    return Summary(
        id=listed["Id"],
        pod_uid=uid,
        pod_name=labels.get(L.POD_NAME, ""),
        namespace=labels.get(L.POD_NAMESPACE, ""),
        state=str(listed.get("State", "")),
    )


def from_inspect(info: dict[str, Any]) -> Container | None:
    """Build a :class:`Container` from ``docker inspect`` output; None for containers that are not ours."""
    docker_labels = info.get("Config", {}).get("Labels") or {}
    uid = docker_labels.get(L.POD_UID)
    parsed = parse_name(info.get("Name", ""))
    if not uid or parsed is None:
        return None
    labels, annotations = split_labels(docker_labels)
    state = info.get("State", {})
    is_sandbox = docker_labels.get(DOCKER_TYPE) == TYPE_SANDBOX
    kind = "sandbox" if is_sandbox else annotations.get(L.CONTAINER_KIND, "container")
    attempt = parsed.attempt
    if not is_sandbox:
        try:
            attempt = int(annotations.get(L.RESTART_COUNT, str(parsed.attempt)))
        except ValueError:
            attempt = parsed.attempt
    record = Container(
        id=info["Id"],
        name=docker_labels.get(L.CONTAINER_NAME, parsed.container),
        pod_uid=uid,
        pod_name=docker_labels.get(L.POD_NAME, parsed.pod_name),
        namespace=docker_labels.get(L.POD_NAMESPACE, parsed.namespace),
        kind="init" if kind == "init" else "sandbox" if is_sandbox else "container",
        attempt=attempt,
        state="unknown",
        labels=labels,
        annotations=annotations,
        created_at=parse_time(info.get("Created")),
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        image=info.get("Config", {}).get("Image", ""),
        image_id=info.get("Image", ""),
        hash=annotations.get(L.CONTAINER_HASH, ""),
        ip=(info.get("NetworkSettings") or {}).get("IPAddress") or "",
        pid=int(state.get("Pid") or 0),
        log_path=info.get("LogPath") or "",
        sandbox_id=docker_labels.get(SANDBOX_ID, ""),
        runtime="docker",
        runtime_name=str(info.get("Name", "")).lstrip("/"),
    )
    _apply_state(record, state)
    return record


def _apply_state(record: Container, state: dict[str, Any]) -> None:
    """Docker state -> CRI state and reason, as dockershim's ``ContainerStatus`` did."""
    record.exit_code = int(state.get("ExitCode") or 0)
    if state.get("Running"):
        record.state = "running"
    elif record.finished_at is not None:
        record.state = "exited"
        if state.get("OOMKilled"):
            record.reason = "OOMKilled"
        else:
            record.reason = "Completed" if record.exit_code == 0 else "Error"
        record.message = state.get("Error") or ""
    elif record.exit_code != 0:
        # Created but failed to start (a command not found in the image, say).
        record.state = "exited"
        record.reason = "ContainerCannotRun"
        record.message = state.get("Error") or ""
        record.started_at = record.finished_at = record.created_at
    else:
        record.state = "created"


# The state changes the kubelet's PLEG reports that a pod's worker did not cause itself: a container died
# (ContainerDied; "oom" comes just before its "die") or was removed (ContainerRemoved). The engine filters
# on them (``events(filters={"event": ...})``), so nothing else is sent, decoded or delivered: "kill" and
# "stop" only announce a "die" to come (a pod's removal makes four events per container, and two are
# enough), and "create" and "start" are the worker's own doings (waking it for them would make every pod
# start cost a second sync). A container started behind pykubelet's back is seen by the relist.
WAKING_EVENTS = ("die", "oom", "destroy")


def event(raw: dict[str, Any]) -> ContainerEvent | None:
    """A Docker event that should wake a pod's worker; None for the others."""
    action = str(raw.get("Action", "")).split(":")[0]
    actor = raw.get("Actor") or {}
    uid = (actor.get("Attributes") or {}).get(L.POD_UID)
    if action not in WAKING_EVENTS or not uid:
        return None
    return ContainerEvent(pod_uid=uid, container_id=str(actor.get("ID", "")), action=action)


def image(info: dict[str, Any]) -> Image:
    return Image(
        id=info["Id"],
        repo_tags=tuple(info.get("RepoTags") or ()),
        repo_digests=tuple(info.get("RepoDigests") or ()),
        size=int(info.get("Size") or 0),
        user=str((info.get("Config") or {}).get("User") or ""),
    )


# -- configs -> create arguments ----------------------------------------------------------------------------


def sandbox_create(config: SandboxConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """(host config arguments, create arguments) of the infra container (``makeSandboxDockerConfig``)."""
    ports: list[tuple[int, str]] = []
    bindings: dict[str, list[tuple[str, int]]] = {}
    for mapping in config.port_mappings:
        protocol = mapping.protocol.lower()
        ports.append((mapping.container_port, protocol))
        bindings.setdefault(f"{mapping.container_port}/{protocol}", []).append(
            (mapping.host_ip or "0.0.0.0", mapping.host_port)
        )
    host = {
        # dockershim with no network plugin: "default" (Docker's bridge, shown as "default" by inspect).
        "network_mode": "host" if config.host_network else "default",
        "port_bindings": bindings or None,
        "ipc_mode": "host" if config.host_ipc else "shareable",
        "pid_mode": "host" if config.host_pid else None,
        "cpu_shares": config.cpu_shares,
        "oom_score_adj": config.oom_score_adj,
        # The infra container's own resolv.conf, as dockershim rewrote it; every container of the pod
        # gets the kubelet's files bind-mounted at /etc/resolv.conf and /etc/hosts instead.
        "dns": list(config.dns_servers) or None,
        "dns_search": list(config.dns_searches) or None,
        "dns_opt": list(config.dns_options) or None,
    }
    labels = make_labels(config.labels, config.annotations)
    labels.update({L.CONTAINER_NAME: "POD", DOCKER_TYPE: TYPE_SANDBOX})
    create = {
        "name": sandbox_name(config.name, config.namespace, config.uid, config.attempt),
        "image": config.image,
        "labels": labels,
        "hostname": config.hostname or None,
        "ports": ports or None,
    }
    return host, create


def container_create(sandbox: Container, config: ContainerConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """(host config arguments, create arguments) of an app or init container (dockershim's
    ``CreateContainer``): it joins the sandbox's network and IPC namespaces; mounts become binds."""
    host = {
        "network_mode": f"container:{sandbox.id}",
        "ipc_mode": f"container:{sandbox.id}",
        "pid_mode": "host"
        if config.host_pid
        else (f"container:{sandbox.id}" if config.share_process_namespace else None),
        "uts_mode": "host" if config.host_uts else None,
        "binds": [f"{m.host_path}:{m.container_path}:{'ro' if m.readonly else 'rw'}" for m in config.mounts],
        "cpu_shares": config.cpu_shares,
        "cpu_period": config.cpu_period,
        "cpu_quota": config.cpu_quota,
        "mem_limit": config.memory_limit,
        "memswap_limit": config.memory_limit,
        "oom_score_adj": config.oom_score_adj,
        "privileged": config.privileged,
        "read_only": config.read_only_rootfs,
        "security_opt": ["no-new-privileges"] if config.no_new_privileges else None,
        "cap_add": list(config.cap_add) or None,
        "cap_drop": list(config.cap_drop) or None,
        "group_add": [str(g) for g in config.supplemental_groups] or None,
    }
    pod_uid = config.labels[L.POD_UID]
    labels = make_labels(config.labels, config.annotations)
    labels.update({DOCKER_TYPE: TYPE_CONTAINER, SANDBOX_ID: sandbox.id, LOG_PATH: config.log_path})
    create = {
        "name": container_name(
            config.name, config.labels[L.POD_NAME], config.labels[L.POD_NAMESPACE], pod_uid, config.attempt
        ),
        "image": config.image,
        "labels": labels,
        "entrypoint": list(config.command) or None,
        "command": list(config.args) or ([] if config.command else None),
        "environment": dict(config.env),
        "working_dir": config.working_dir or None,
        "user": config.user or None,
        "tty": config.tty,
        "stdin_open": config.stdin,
    }
    return host, create
