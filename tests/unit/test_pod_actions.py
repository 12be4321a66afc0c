"""compute_pod_actions as a table, after the kubelet's ``TestComputePodActions`` and
``TestComputePodActionsWithInitContainers`` (``pkg/kubelet/kuberuntime/kuberuntime_manager_test.go``).

Each row names its case (upstream's wording where the case is upstream's), the pod's restartPolicy, what the
runtime holds, and what the sync should do. Rows compare a whole summary of the actions, so an action a
row did not expect fails it too. Where pykubelet's answer differs in form from upstream's, the row says so:
- upstream's ``KillPod`` on a brand-new pod is a no-op; ``kill_pod`` here is set only when an old sandbox
  ran, and a finished pod with nothing running has nothing to kill;
- a container whose spec changed or whose liveness failed is killed in one sync and started by the next
  (the executor looks again at once), where upstream lists it in both ``ContainersToKill`` and
  ``ContainersToStart``;
- upstream's "unknown state" and "sandbox without an IP" rows do not apply: the runtimes here never report
  an unknown state, and a static pod may run on the host network, with no sandbox IP at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pykubelet.runtime.actions import PodActions, ToStart, compute_pod_actions
from pykubelet.runtime.api import Container, ContainerState, Kind
from pykubelet.runtime.labels import container_hash

UID = "0123456789abcdef0123456789abcdef"
T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
APPS = [{"name": f"foo{i}", "image": "busybox:1.35"} for i in (1, 2, 3)]
INITS = [{"name": f"init{i}", "image": "busybox:1.35"} for i in (1, 2, 3)]
SANDBOX = "sandbox-0"


def spec(policy: str = "Always", *, init: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"restartPolicy": policy, "containers": APPS}
    if init:
        result["initContainers"] = INITS
    return result


def sandbox(state: ContainerState = "running", attempt: int = 0) -> Container:
    return Container(
        id=f"sandbox-{attempt}",
        name="POD",
        pod_uid=UID,
        pod_name="p",
        namespace="default",
        kind="sandbox",
        attempt=attempt,
        state=state,
        labels={},
        created_at=T0 + timedelta(seconds=attempt),
        started_at=T0 + timedelta(seconds=attempt),
        ip="10.88.0.2",
    )


def ctr(
    name: str,
    state: ContainerState = "running",
    exit_code: int = 0,
    *,
    attempt: int = 0,
    sandbox_id: str = SANDBOX,
    hash: str | None = None,
) -> Container:
    """An instance of ``name`` (an app or init container of the specs above) in ``state``."""
    kind: Kind = "init" if name.startswith("init") else "container"
    spec_of = next(c for c in APPS + INITS if c["name"] == name)
    return Container(
        id=f"{name}-{attempt}",
        name=name,
        pod_uid=UID,
        pod_name="p",
        namespace="default",
        kind=kind,
        attempt=attempt,
        state=state,
        labels={},
        exit_code=exit_code,
        created_at=T0 + timedelta(seconds=10 + attempt),
        started_at=None if state == "created" else T0 + timedelta(seconds=10 + attempt),
        finished_at=T0 + timedelta(seconds=20 + attempt) if state == "exited" else None,
        hash=container_hash(spec_of) if hash is None else hash,
        sandbox_id=sandbox_id,
    )


def running_apps() -> list[Container]:
    return [ctr(c["name"]) for c in APPS]


def done_inits(*, sandbox_id: str = SANDBOX) -> list[Container]:
    return [ctr(c["name"], "exited", sandbox_id=sandbox_id) for c in INITS]


def _start(step: ToStart) -> str:
    """``name#restartCount``, then ``<-id`` if it restarts an exited instance (the crash back-off applies)."""
    return f"{step.name}#{step.restart_count}" + (f"<-{step.restarts.id}" if step.restarts else "")


def summary(actions: PodActions) -> dict[str, Any]:
    """Everything a row can expect, in plain values."""
    return {
        "finished": actions.finished,
        "stop_sandbox": actions.stop_sandbox.id if actions.stop_sandbox else None,
        "kill_pod": actions.kill_pod,
        "create_sandbox": actions.create_sandbox,
        "attempt": actions.sandbox_attempt,
        "sandbox": actions.sandbox.id if actions.sandbox else None,
        "remove": [c.id for c in actions.remove],
        "init": _start(actions.init) if actions.init else None,
        "init_running": actions.init_running,
        "start": [_start(s) for s in actions.start],
        "kill": [(k.container.id, k.reason, k.grace) for k in actions.kill],
    }


NOTHING: dict[str, Any] = summary(PodActions())
IN_SANDBOX: dict[str, Any] = {**NOTHING, "sandbox": SANDBOX}  # upstream's noAction


@dataclass(frozen=True)
class Case:
    name: str
    spec: dict[str, Any]
    containers: list[Container]
    expect: dict[str, Any]  # the keys that differ from "nothing to do"
    liveness_failed: dict[str, int | None] = field(default_factory=dict)


CASES = [
    # -- TestComputePodActions ---------------------------------------------------------------------------
    Case("everything is good; do nothing", spec(), [sandbox(), *running_apps()], IN_SANDBOX),
    Case(
        "start pod sandbox and all containers for a new pod",
        spec(),
        [],
        {"create_sandbox": True, "attempt": 0, "start": ["foo1#0", "foo2#0", "foo3#0"]},
    ),
    Case(
        "restart exited containers if RestartPolicy == Always",
        spec("Always"),
        [sandbox(), ctr("foo1", "exited", 0), ctr("foo2", "exited", 111), ctr("foo3")],
        {**IN_SANDBOX, "start": ["foo1#1<-foo1-0", "foo2#1<-foo2-0"]},
    ),
    Case(
        "restart failed containers if RestartPolicy == OnFailure",
        spec("OnFailure"),
        [sandbox(), ctr("foo1", "exited", 0), ctr("foo2", "exited", 111), ctr("foo3")],
        {**IN_SANDBOX, "start": ["foo2#1<-foo2-0"]},
    ),
    Case(
        "don't restart containers if RestartPolicy == Never",
        spec("Never"),
        [sandbox(), ctr("foo1", "exited", 0), ctr("foo2", "exited", 111), ctr("foo3")],
        IN_SANDBOX,
    ),
    Case(
        "kill pod and recreate everything if the pod sandbox is dead, and RestartPolicy == Always",
        spec("Always"),
        [sandbox("exited"), *running_apps()],
        {"kill_pod": True, "create_sandbox": True, "attempt": 1, "start": ["foo1#1", "foo2#1", "foo3#1"]},
    ),
    Case(
        "kill pod and recreate all containers (except for the succeeded one) if the pod sandbox is dead, "
        "and RestartPolicy == OnFailure",
        spec("OnFailure"),
        [sandbox("exited"), ctr("foo1"), ctr("foo2", "exited", 0), ctr("foo3")],
        {"kill_pod": True, "create_sandbox": True, "attempt": 1, "start": ["foo1#1", "foo3#1"]},
    ),
    Case(
        "kill the container if its spec changed (started again by the next sync)",
        spec(),
        [sandbox(), ctr("foo1"), ctr("foo2", hash="432423432"), ctr("foo3")],
        {**IN_SANDBOX, "kill": [("foo2-0", "changed", None)]},
    ),
    Case(
        "kill the container if the liveness check has failed",
        spec(),
        [sandbox(), *running_apps()],
        {**IN_SANDBOX, "kill": [("foo2-0", "liveness", None)]},
        liveness_failed={"foo2-0": None},
    ),
    Case(
        "kill the container if the startup check has failed, with the probe's own grace period",
        spec(),
        [sandbox(), *running_apps()],
        {**IN_SANDBOX, "kill": [("foo2-0", "liveness", 5)]},
        liveness_failed={"foo2-0": 5},
    ),
    Case(
        "no new pod sandbox if no ready sandbox, RestartPolicy=Never and all containers exited",
        spec("Never"),
        [sandbox("exited", attempt=1), *(ctr(c["name"], "exited", 0) for c in APPS)],
        {"finished": True},
    ),
    Case(
        "no new pod sandbox if no ready sandbox, RestartPolicy=OnFailure and all containers succeeded",
        spec("OnFailure"),
        [sandbox("exited", attempt=1), *(ctr(c["name"], "exited", 0) for c in APPS)],
        {"finished": True},
    ),
    Case(
        "a new pod sandbox if no ready sandbox, RestartPolicy=Never and no containers have ever been created",
        spec("Never"),
        [sandbox("exited", attempt=2)],
        {"kill_pod": True, "create_sandbox": True, "attempt": 3, "start": ["foo1#0", "foo2#0", "foo3#0"]},
    ),
    # -- pykubelet's own rows ------------------------------------------------------------------------------
    Case(
        "a Never pod whose sandbox died while a container ran is finished: kill what is left, no new sandbox",
        spec("Never"),
        [sandbox("exited"), ctr("foo1"), ctr("foo2", "exited", 1), ctr("foo3", "exited", 0)],
        {"finished": True, "kill_pod": True},
    ),
    Case(
        "a Never pod that is done stops its sandbox",
        spec("Never"),
        [sandbox(), ctr("foo1", "exited", 0), ctr("foo2", "exited", 1), ctr("foo3", "exited", 0)],
        {"finished": True, "stop_sandbox": SANDBOX},
    ),
    Case(
        "an OnFailure pod whose containers all succeeded stops its sandbox",
        spec("OnFailure"),
        [sandbox(), *(ctr(c["name"], "exited", 0) for c in APPS)],
        {"finished": True, "stop_sandbox": SANDBOX},
    ),
    Case(
        "an Always pod is never done: every exited container restarts",
        spec("Always"),
        [sandbox(), *(ctr(c["name"], "exited", 0) for c in APPS)],
        {**IN_SANDBOX, "start": ["foo1#1<-foo1-0", "foo2#1<-foo2-0", "foo3#1<-foo3-0"]},
    ),
    Case(
        "back-off: the restart names the newest exited instance, and the count goes on from it",
        spec("Always"),
        [
            sandbox(),
            ctr("foo1", "exited", 1, attempt=3),
            ctr("foo1", "exited", 1, attempt=2),
            *running_apps()[1:],
        ],
        {**IN_SANDBOX, "start": ["foo1#4<-foo1-3"]},
    ),
    Case(
        "a container left created (the agent died between create and start) is removed and started anew",
        spec(),
        [sandbox(), ctr("foo1"), ctr("foo2", "created", attempt=2), ctr("foo3")],
        {**IN_SANDBOX, "remove": ["foo2-2"], "start": ["foo2#2"]},
    ),
    # -- TestComputePodActionsWithInitContainers ---------------------------------------------------------
    Case(
        "initialization completed; start all containers",
        spec(init=True),
        [sandbox(), *done_inits()],
        {**IN_SANDBOX, "start": ["foo1#0", "foo2#0", "foo3#0"]},
    ),
    Case(
        "no init containers have been started; start the first one",
        spec(init=True),
        [sandbox()],
        {**IN_SANDBOX, "init": "init1#0"},
    ),
    Case(
        "initialization in progress; do nothing",
        spec(init=True),
        [sandbox(), *done_inits()[:2], ctr("init3")],
        {**IN_SANDBOX, "init_running": True},
    ),
    Case(
        "the first init container done: start the second",
        spec(init=True),
        [sandbox(), *done_inits()[:1]],
        {**IN_SANDBOX, "init": "init2#0"},
    ),
    Case(
        "kill pod and restart the first init container if the pod sandbox is dead",
        spec("Always", init=True),
        [sandbox("exited"), *done_inits()],
        {"kill_pod": True, "create_sandbox": True, "attempt": 1, "init": "init1#1"},
    ),
    Case(
        "initialization failed; restart the last init container if RestartPolicy == Always",
        spec("Always", init=True),
        [sandbox(), *done_inits()[:2], ctr("init3", "exited", 137)],
        {**IN_SANDBOX, "init": "init3#1<-init3-0"},
    ),
    Case(
        "initialization failed; restart the last init container if RestartPolicy == OnFailure",
        spec("OnFailure", init=True),
        [sandbox(), *done_inits()[:2], ctr("init3", "exited", 137)],
        {**IN_SANDBOX, "init": "init3#1<-init3-0"},
    ),
    Case(
        "initialization failed; kill pod if RestartPolicy == Never (stop its sandbox: it is done)",
        spec("Never", init=True),
        [sandbox(), *done_inits()[:2], ctr("init3", "exited", 137)],
        {"finished": True, "stop_sandbox": SANDBOX},
    ),
    Case(
        "pod sandbox not ready, init containers ran, but RestartPolicy == Never; kill pod only",
        spec("Never", init=True),
        [sandbox("exited"), *done_inits()],
        {"finished": True, "kill_pod": True},
    ),
    Case(
        "pod sandbox not ready, RestartPolicy == Never, but no visible init containers; create a new sandbox",
        spec("Never", init=True),
        [sandbox("exited")],
        {"kill_pod": True, "create_sandbox": True, "attempt": 1, "init": "init1#0"},
    ),
    Case(
        "pod sandbox not ready, init container failed, and RestartPolicy == OnFailure; create a new sandbox",
        spec("OnFailure", init=True),
        [sandbox("exited"), *done_inits()[:2], ctr("init3", "exited", 137)],
        {"kill_pod": True, "create_sandbox": True, "attempt": 1, "init": "init1#1"},
    ),
    Case(
        "some of the init container statuses are missing but the last init container is running, "
        "don't restart preceding ones",
        spec("Always", init=True),
        [sandbox(), ctr("init3")],
        {**IN_SANDBOX, "init_running": True},
    ),
    Case(
        "init containers removed (docker container prune) while the app containers run: they do not rerun",
        spec("Always", init=True),
        [sandbox(), *running_apps()],
        IN_SANDBOX,
    ),
    Case(
        "an init container left created is removed and started anew",
        spec(init=True),
        [sandbox(), *done_inits()[:1], ctr("init2", "created", attempt=1)],
        {**IN_SANDBOX, "remove": ["init2-1"], "init": "init2#1"},
    ),
    Case(
        "init containers of an old sandbox do not count: a new sandbox starts them over",
        spec(init=True),
        [
            replace(sandbox(attempt=1), id=SANDBOX),
            replace(sandbox("exited"), id="sandbox-old"),
            *done_inits(sandbox_id="sandbox-old"),
        ],
        {**IN_SANDBOX, "init": "init1#1"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compute_pod_actions(case: Case) -> None:
    actions = compute_pod_actions(case.spec, case.containers, case.liveness_failed)
    assert summary(actions) == {**NOTHING, **case.expect}


def test_by_name_lists_each_container_newest_first_without_the_sandbox() -> None:
    actions = compute_pod_actions(
        spec(), [sandbox(), ctr("foo1", "exited", 1, attempt=0), ctr("foo1", attempt=1), *running_apps()[1:]]
    )
    assert [c.id for c in actions.by_name["foo1"]] == ["foo1-1", "foo1-0"]
    assert "POD" not in actions.by_name
