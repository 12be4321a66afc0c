"""``computePodActions``: what a pod needs next, decided from its spec and what the runtime has. Pure.

The kubelet splits a sync in two (``pkg/kubelet/kuberuntime/kuberuntime_manager.go``): a pure function
compares the spec with the observed pod status and returns a ``podActions`` value (kill the pod? create
a sandbox? which init container next? which containers to start or kill?), then ``SyncPod`` carries it
out. Keeping the decision pure is what lets ``tests/unit/test_pod_actions.py`` cover it as a table, the way
``TestComputePodActions`` does. Time-based decisions (the crash-loop back-off) stay with the executor:
an action only says which exited instance a start would restart, and the executor asks the back-off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pykubelet.lifecycle.policy import should_restart
from pykubelet.runtime.api import Container
from pykubelet.runtime.labels import container_hash

__all__ = ["PodActions", "ToKill", "ToStart", "compute_pod_actions", "group_by_name", "latest_sandbox"]


@dataclass(frozen=True)
class ToStart:
    """A container to create and start, with the restart count its name and labels carry."""

    spec: dict[str, Any]
    kind: Literal["init", "container"]
    restart_count: int
    restarts: Container | None = None  # the exited instance this restarts: the crash back-off applies

    @property
    def name(self) -> str:
        return str(self.spec["name"])


@dataclass(frozen=True)
class ToKill:
    """A running container to stop, and why."""

    container: Container
    reason: Literal["changed", "liveness"]
    grace: int | None = None  # a probe's terminationGracePeriodSeconds; None: the pod's


@dataclass(frozen=True)
class PodActions:
    """``podActions``: everything one sync should do, in the order the executor does it."""

    finished: bool = False  # no container of the pod will run again (restartPolicy Never / OnFailure)
    stop_sandbox: Container | None = None  # a finished pod's sandbox that still runs
    kill_pod: bool = False  # stop every running container of the old sandbox first
    create_sandbox: bool = False
    sandbox_attempt: int = 0
    sandbox: Container | None = None  # the running sandbox, when no new one is made
    remove: tuple[Container, ...] = ()  # left created by a killed agent: removed, then started anew
    init: ToStart | None = None  # the next init container to start
    init_running: bool = False  # an init container is still running: wait for it
    start: tuple[ToStart, ...] = ()
    kill: tuple[ToKill, ...] = ()
    by_name: dict[str, list[Container]] = field(default_factory=dict, compare=False)


def newest_first(instances: list[Container]) -> list[Container]:
    return sorted(
        instances, key=lambda c: (c.attempt, c.created_at.timestamp() if c.created_at else 0), reverse=True
    )


def group_by_name(containers: list[Container]) -> dict[str, list[Container]]:
    """A pod's containers by name, newest instance first (the sandbox left out)."""
    groups: dict[str, list[Container]] = {}
    for c in containers:
        if not c.is_sandbox:
            groups.setdefault(c.name, []).append(c)
    return {name: newest_first(items) for name, items in groups.items()}


def latest_sandbox(containers: list[Container]) -> Container | None:
    sandboxes = newest_first([c for c in containers if c.is_sandbox])
    return sandboxes[0] if sandboxes else None


def _newest(groups: dict[str, list[Container]], name: str) -> Container | None:
    instances = groups.get(name)
    return instances[0] if instances else None


def compute_pod_actions(
    spec: dict[str, Any],
    containers: list[Container],
    liveness_failed: Mapping[str, int | None] | None = None,
) -> PodActions:
    """What the pod with ``spec`` needs, given every sandbox and container the runtime has of it.

    ``liveness_failed`` maps the ids of running containers whose liveness or startup probe failed to the
    probe's grace period (None: the pod's).
    """
    by_name = group_by_name(containers)
    policy = spec.get("restartPolicy", "Always")
    sandbox = latest_sandbox(containers)
    if _pod_is_done(spec, by_name):
        running = sandbox if sandbox is not None and sandbox.running else None
        return PodActions(finished=True, stop_sandbox=running, by_name=by_name)
    if sandbox is not None and sandbox.running:
        step, init, remove = _init_step(spec, by_name, by_name, sandbox)
        if step == "running":
            return PodActions(sandbox=sandbox, init_running=True, by_name=by_name)
        if step == "failed":
            return PodActions(finished=True, sandbox=sandbox, by_name=by_name)
        if step == "start":
            return PodActions(sandbox=sandbox, init=init, remove=remove, by_name=by_name)
        return _app_step(spec, by_name, by_name, liveness_failed or {}, sandbox)
    if policy == "Never" and by_name:
        # A Never pod whose sandbox died has run: it will not start again.
        return PodActions(finished=True, kill_pod=True, by_name=by_name)
    # A new sandbox (``podSandboxChanged``): what ran in the old one is history, restart counts go on.
    attempt = sandbox.attempt + 1 if sandbox is not None else 0
    kill_old = sandbox is not None and sandbox.started_at is not None
    _, init, _ = _init_step(spec, {}, by_name, None)
    start = () if init is not None else _app_step(spec, {}, by_name, {}, None).start
    return PodActions(
        create_sandbox=True,
        sandbox_attempt=attempt,
        kill_pod=kill_old,
        init=init,
        start=start,
        by_name=by_name,
    )


def _pod_is_done(spec: dict[str, Any], by_name: dict[str, list[Container]]) -> bool:
    """True when no container of the pod will ever run again (restartPolicy Never / OnFailure)."""
    policy = spec.get("restartPolicy", "Always")
    if policy == "Always":
        return False
    if policy == "Never":
        for init in spec.get("initContainers") or []:
            latest = _newest(by_name, init["name"])
            if latest is not None and latest.state == "exited" and latest.exit_code != 0:
                return True
    for container in spec["containers"]:
        latest = _newest(by_name, container["name"])
        if latest is None or latest.state != "exited" or should_restart(policy, latest.exit_code):
            return False
    return True


def _init_step(
    spec: dict[str, Any],
    current_by_name: dict[str, list[Container]],
    previous: dict[str, list[Container]],
    sandbox: Container | None,
) -> tuple[Literal["done", "running", "failed", "start"], ToStart | None, tuple[Container, ...]]:
    """Init containers run one at a time, each to success: start the next one, wait for the running one,
    give up (restartPolicy Never), or "done". ``current_by_name`` holds what ran in the current sandbox;
    ``previous`` carries the restart counts on."""
    policy = spec.get("restartPolicy", "Always")

    def newest_here(name: str) -> Container | None:
        here = [c for c in current_by_name.get(name, []) if sandbox is None or c.sandbox_id == sandbox.id]
        return here[0] if here else None

    # As ``findNextInitContainerToRun``: a running app container (or a later init container) means the init
    # containers before it ran, even if they have since been removed (``docker container prune``).
    if any((c := newest_here(app["name"])) is not None and c.running for app in spec["containers"]):
        return "done", None, ()
    if any((c := newest_here(i["name"])) is not None and c.running for i in spec.get("initContainers") or []):
        return "running", None, ()
    for init in spec.get("initContainers") or []:
        name = init["name"]
        latest = newest_here(name)
        if latest is not None and latest.state == "exited" and latest.exit_code == 0:
            continue
        if latest is not None and latest.state == "running":
            return "running", None, ()
        if latest is not None and latest.state == "created":
            # Left created by an agent killed between create and start: remove it, start it anew.
            return "start", ToStart(init, "init", latest.attempt), (latest,)
        if latest is not None and policy == "Never":
            return "failed", None, ()
        prior = _newest(previous, name)
        count = prior.attempt + 1 if prior is not None else 0
        return "start", ToStart(init, "init", count, restarts=latest), ()
    return "done", None, ()


def _app_step(
    spec: dict[str, Any],
    by_name: dict[str, list[Container]],
    previous: dict[str, list[Container]],
    liveness_failed: Mapping[str, int | None],
    sandbox: Container | None,
) -> PodActions:
    """The app containers: start what is missing or due a restart, kill what changed or failed liveness."""
    policy = spec.get("restartPolicy", "Always")
    start: list[ToStart] = []
    kill: list[ToKill] = []
    remove: list[Container] = []
    for container in spec["containers"]:
        name = container["name"]
        latest = _newest(by_name, name)
        prior = _newest(previous, name)
        if latest is None:
            succeeded = prior is not None and prior.state == "exited" and prior.exit_code == 0
            if succeeded and policy == "OnFailure":
                continue
            start.append(ToStart(container, "container", prior.attempt + 1 if prior is not None else 0))
        elif latest.running:
            if latest.id in liveness_failed:
                kill.append(ToKill(latest, "liveness", liveness_failed[latest.id]))
            elif latest.hash != container_hash(container):
                kill.append(ToKill(latest, "changed"))
        elif latest.state == "created":
            remove.append(latest)
            start.append(ToStart(container, "container", latest.attempt))
        elif should_restart(policy, latest.exit_code):
            start.append(ToStart(container, "container", latest.attempt + 1, restarts=latest))
    return PodActions(
        sandbox=sandbox, start=tuple(start), kill=tuple(kill), remove=tuple(remove), by_name=by_name
    )
