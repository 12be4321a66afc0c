"""Runtime state + spec -> a v1 ``PodStatus``, computed as the kubelet does (``generateAPIPodStatus``).

Pure functions over what a sync read from Docker: the phase (``getPhase``, 1.2x), the conditions with
stable ``lastTransitionTime``, container statuses with ``state`` / ``lastState`` from the newest two
instances of each container, and the waiting reasons the last sync recorded (CrashLoopBackOff,
ErrImagePull, ...). Status is never "stuck at Pending": every sync recomputes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pykubelet.lifecycle.policy import should_restart
from pykubelet.manifest import StaticPod
from pykubelet.qos import pod_qos
from pykubelet.runtime import configs
from pykubelet.runtime.actions import group_by_name, latest_sandbox
from pykubelet.runtime.api import Container, Image
from pykubelet.runtime.containers import PodRuntimeState

# (pod uid, container name, restart count, the record: for FallbackToLogsOnError) -> the message
TerminationReader = Callable[[str, str, int, "Container | None"], str]
ImageLookup = Callable[[str], "Image | None"]
ProbeFlags = Callable[[Container], "tuple[bool, bool]"]  # (started, ready) of a running container


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_ref(container: Container, lookup: ImageLookup) -> str:
    """``imageID``: dockershim wrote ``docker-pullable://<repo@digest>`` (or ``docker://<id>`` for an image
    with no digest); a CRI runtime's kubelet shows the image's digest reference (or its id) as it is."""
    info = lookup(container.image_id) if container.image_id else None
    digests = info.repo_digests if info is not None else ()
    if container.runtime != "docker":
        return digests[0] if digests else container.image_id
    if digests:
        return f"docker-pullable://{digests[0]}"
    return f"docker://{container.image_id}" if container.image_id else ""


def _image_name(container: Container, lookup: ImageLookup) -> str:
    info = lookup(container.image_id) if container.image_id else None
    tags = info.repo_tags if info is not None else ()
    return tags[0] if tags else container.image


def _state_of(c: Container, termination: TerminationReader) -> dict[str, Any]:
    if c.state == "running":
        return {"running": {"startedAt": rfc3339(c.started_at)}}
    if c.state == "created":
        return {"waiting": {"reason": "ContainerCreating"}}
    message = c.message
    extra = termination(c.pod_uid, c.name, c.attempt, c) if c.kind != "sandbox" else ""
    if extra:
        message = f"{message}: {extra}" if message else extra
    terminated: dict[str, Any] = {
        "exitCode": c.exit_code,
        "reason": c.reason,
        "startedAt": rfc3339(c.started_at),
        "finishedAt": rfc3339(c.finished_at),
        "containerID": c.container_id,
    }
    if message:
        terminated["message"] = message
    return {"terminated": terminated}


def container_statuses(
    pod: StaticPod,
    specs: list[dict[str, Any]],
    instances: dict[str, list[Container]],
    state: PodRuntimeState,
    *,
    is_init: bool,
    has_init: bool,
    termination: TerminationReader,
    images: ImageLookup,
    probes: ProbeFlags | None = None,
) -> list[dict[str, Any]]:
    """``convertToAPIContainerStatuses`` for one list of containers (init or regular)."""
    policy = pod.spec.get("restartPolicy", "Always")
    default_reason = "PodInitializing" if has_init else "ContainerCreating"
    result = []
    for spec in specs:
        name = spec["name"]
        history = instances.get(name, [])
        status: dict[str, Any] = {
            "name": name,
            "state": {"waiting": {"reason": default_reason}},
            "lastState": {},
            "ready": False,
            "restartCount": 0,
            "image": spec["image"],
            "imageID": "",
        }
        if history:
            latest = history[0]
            status["state"] = _state_of(latest, termination)
            status["restartCount"] = latest.attempt
            status["image"] = _image_name(latest, images)
            status["imageID"] = _image_ref(latest, images)
            status["containerID"] = latest.container_id
            if len(history) > 1:
                status["lastState"] = _state_of(history[1], termination)
        reason = state.reasons.get(name)
        restartable = not history or (
            history[0].state != "running" and should_restart(policy, history[0].exit_code)
        )
        finished_init = is_init and history and history[0].state == "exited" and history[0].exit_code == 0
        if reason and restartable and not finished_init:
            if "terminated" in status["state"]:
                status["lastState"] = status["state"]
            status["state"] = {"waiting": {"reason": reason[0], "message": reason[1]}}
        running = "running" in status["state"]
        if is_init:
            terminated = status["state"].get("terminated")
            status["ready"] = bool(terminated and terminated["exitCode"] == 0)
        elif running and probes is not None:
            status["started"], status["ready"] = probes(history[0])
        else:
            status["started"] = running
            status["ready"] = running
        result.append(status)
    if not is_init:
        result.sort(key=lambda s: s["name"])
    return result


def get_phase(spec: dict[str, Any], init: list[dict[str, Any]], regular: list[dict[str, Any]]) -> str:
    """``getPhase`` as in kubelets 1.20-1.26 (the reference's section 1a)."""
    policy = spec.get("restartPolicy", "Always")
    pending_init = failed_init = 0
    for st in init:
        state, last = st["state"], st["lastState"]
        if "running" in state:
            pending_init += 1
        elif "terminated" in state:
            if state["terminated"]["exitCode"] != 0:
                failed_init += 1
        elif "terminated" in last:
            if last["terminated"]["exitCode"] != 0:
                failed_init += 1
        else:
            pending_init += 1
    running = waiting = stopped = succeeded = 0
    for st in regular:
        state, last = st["state"], st["lastState"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "terminated" in last:
            stopped += 1
        else:
            waiting += 1
    if failed_init > 0 and policy == "Never":
        return "Failed"
    if pending_init > 0 or waiting > 0:
        return "Pending"
    if running > 0:
        return "Running"
    if stopped > 0:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _go_list(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"


def sandbox_ready(spec: dict[str, Any], sandbox: Container | None) -> bool:
    """``!PodSandboxChanged``: the newest sandbox runs and, off the host network, has its IP, so no new
    sandbox is needed (``GeneratePodReadyToStartContainersCondition``)."""
    if sandbox is None or not sandbox.running:
        return False
    return bool(spec.get("hostNetwork")) or bool(sandbox.ip)


def _conditions(
    spec: dict[str, Any],
    init: list[dict[str, Any]],
    regular: list[dict[str, Any]],
    phase: str,
    sandbox: Container | None,
) -> list[dict[str, Any]]:
    unready_init = [s["name"] for s in init if not s["ready"]]
    if phase == "Succeeded":
        initialized = ("True", "PodCompleted", "")
    elif unready_init:
        initialized = (
            "False",
            "ContainersNotInitialized",
            f"containers with incomplete status: {_go_list(unready_init)}",
        )
    else:
        initialized = ("True", "", "")
    unready = [
        s["name"] for s in sorted(regular, key=lambda s: _spec_index(spec, s["name"])) if not s["ready"]
    ]
    if phase == "Succeeded":
        ready = ("False", "PodCompleted", "")
    elif phase == "Failed":
        ready = ("False", "PodFailed", "")
    elif unready:
        ready = ("False", "ContainersNotReady", f"containers with unready status: {_go_list(unready)}")
    else:
        ready = ("True", "", "")
    # generateAPIPodStatus appends the kubelet-owned conditions in this order; PodReadyToStartContainers
    # (feature gate on by default since 1.29) comes first and never carries a reason.
    return [
        _condition("PodReadyToStartContainers", "True" if sandbox_ready(spec, sandbox) else "False", "", ""),
        _condition("Initialized", *initialized),
        _condition("Ready", *ready),
        _condition("ContainersReady", *ready),
        _condition("PodScheduled", "True", "", ""),
    ]


def _spec_index(spec: dict[str, Any], name: str) -> int:
    for index, container in enumerate(spec.get("containers") or []):
        if container["name"] == name:
            return index
    return 0


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": kind,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": None,
    }
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def generate(
    pod: StaticPod,
    containers: list[Container],
    state: PodRuntimeState,
    previous: dict[str, Any] | None,
    *,
    host_ip: str,
    termination: TerminationReader,
    images: ImageLookup,
    probes: ProbeFlags | None = None,
) -> dict[str, Any]:
    """The pod's v1 PodStatus from its runtime containers; ``previous`` keeps times stable.

    ``host_ip`` only gives a hostNetwork pod its podIP: the status carries no ``hostIP`` (see below).
    """
    spec = pod.spec
    instances = group_by_name(containers)
    init_specs = spec.get("initContainers") or []

    def statuses(specs: list[dict[str, Any]], is_init: bool) -> list[dict[str, Any]]:
        return container_statuses(
            pod,
            specs,
            instances,
            state,
            is_init=is_init,
            termination=termination,
            images=images,
            has_init=bool(init_specs),
            probes=probes,
        )

    init = statuses(init_specs, True)
    regular = statuses(spec["containers"], False)
    if state.sandbox_error and not any(instances.values()):
        for st in init[:1] or regular:
            st["state"] = {"waiting": {"reason": "ContainerCreating", "message": state.sandbox_error[1]}}
    phase = get_phase(spec, init, regular)
    sandbox = latest_sandbox(containers)
    conditions = _conditions(spec, init, regular, phase, sandbox)
    old_conditions = {c["type"]: c for c in (previous or {}).get("conditions", [])}
    stamp = now()
    for condition in conditions:
        old = old_conditions.get(condition["type"])
        same = old is not None and old["status"] == condition["status"]
        condition["lastTransitionTime"] = old["lastTransitionTime"] if old is not None and same else stamp
    # No hostIP/hostIPs: generateAPIPodStatus fills them only ``if kl.kubeClient != nil`` (from the Node
    # object's addresses); a standalone kubelet serving static pods leaves them out. ``host_ip`` is still
    # the podIP of a hostNetwork pod, which the kubelet takes from the sandbox (the node's address).
    status: dict[str, Any] = {"phase": phase, "conditions": conditions}
    pod_ip = configs.pod_ip(spec, host_ip, sandbox)
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    status["startTime"] = (previous or {}).get("startTime") or stamp
    if init_specs:
        status["initContainerStatuses"] = init
    status["containerStatuses"] = regular
    status["qosClass"] = pod_qos(spec)
    return status
