"""The two runtimes the bench measures pykubelet on, behind one interface, and the Docker side of it.

A scenario (bench/scenarios.py) needs four things of a runtime: to see when the containers of some pods
have all started, to see when what it started is gone, a floor that makes the same sandbox and containers
with nothing around it, and a clean-up. :class:`DockerSide` answers from Docker's event stream and the
Docker SDK; :class:`bench.cri.CriSide` from containerd's CRI.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import docker

from bench.common import NODE_LABEL, PAUSE, POD_LABEL, EventRecorder, remove_node_containers

POOL = 16  # the burst floor's threads: the agent's Docker thread pool is 16 threads too
MINIMUM_GRACE = 2  # the kubelet's minimumGracePeriodInSeconds

T = TypeVar("T")


@dataclass
class Started:
    """The pods' containers all run: the first sandbox/container created and the last container started
    (both on the runtime's own clock), and the ids that must be gone for the pods to count as removed."""

    first: float
    last: float
    ids: set[str]


class Side(Protocol):
    name: str  # "docker" or "containerd"
    floor: str  # what the floor talks to: "Docker SDK" or "direct CRI"

    def wait_started(self, node: str, pods: dict[str, int], since: float, timeout: float) -> Started:
        """Until each pod (name -> sandbox + app containers) has its sandbox and every app running."""
        ...

    def wait_removed(self, node: str, ids: set[str], since: float, timeout: float) -> float:
        """Until nothing of ``ids`` is left: when that was."""
        ...

    def timeline(self, node: str, pod: str, since: float) -> dict[str, float]:
        """Where one pod start's time went, from ``since``."""
        ...

    def floor_create(self, node: str, pod: dict[str, Any], parallel_apps: bool = False) -> list[str]:
        """The pod's sandbox, then its app containers, created and started without the agent: ids,
        sandbox first."""
        ...

    def floor_remove(self, created: list[str]) -> None:
        """What :meth:`floor_create` made, killed and removed: apps first, then the sandbox."""
        ...

    def floor_remove_all(self, created: list[list[str]], graceful: bool) -> None:
        """The burst floor's removal of many pods, on :data:`POOL` threads; ``graceful``: the kubelet's
        contract, each pod's apps stopped with the 2 s grace before it is removed."""
        ...

    def remove_node(self, node: str) -> int:
        """The clean-up: everything labelled with ``node``, force-removed; how many objects."""
        ...


# -- what both floors share ---------------------------------------------------------------------------


def empty_dirs(pod: dict[str, Any], root: Path) -> dict[str, Path]:
    """The pod's emptyDir volumes as directories under ``root`` (made here, writable by anyone)."""
    dirs = {}
    for volume in pod["spec"].get("volumes") or []:
        path = root / volume["name"]
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)
        dirs[volume["name"]] = path
    return dirs


def run_apps(specs: list[dict[str, Any]], app: Callable[[dict[str, Any]], str], parallel: bool) -> list[str]:
    """Create and start each app container (``app``), one after another or all at once."""
    if parallel and len(specs) > 1:
        with ThreadPoolExecutor(len(specs)) as pool:
            return list(pool.map(app, specs))
    return [app(spec) for spec in specs]


def pooled_removal(
    created: list[list[str]],
    units_of: Callable[[list[str]], Sequence[T]],
    remove: Callable[[T], object],
    stop: Callable[[str], object] | None,
) -> None:
    """``remove`` of each pod's units (``units_of`` its ids, sandbox first) on :data:`POOL` threads.

    With ``stop``, the kubelet's contract with nothing around it: every pod's app containers are stopped at
    once (its pod worker's ``killContainer`` calls), and a pod's removal joins the pool as soon as its own
    apps have stopped: what the grace periods cost with no agent around them.
    """
    with ThreadPoolExecutor(POOL) as pool:
        if stop is None:
            list(pool.map(remove, [unit for ids in created for unit in units_of(ids)]))
            return
        apps = sum(len(ids) - 1 for ids in created)
        with ThreadPoolExecutor(max(1, apps)) as stoppers, ThreadPoolExecutor(max(1, len(created))) as pods:

            def pod(ids: list[str]) -> list[Future[object]]:
                list(stoppers.map(stop, ids[1:]))
                return [pool.submit(remove, unit) for unit in units_of(ids)]

            removals = [f for futures in pods.map(pod, created) for f in futures]
        for removal in removals:
            removal.result()


def clear_floor_dirs(root: Path, node: str, pod: str) -> None:
    shutil.rmtree(root / node / pod, ignore_errors=True)


# -- Docker -------------------------------------------------------------------------------------------


class DockerSide:
    """pykubelet on Docker: times from Docker's events (``timeNano``), the floor through the SDK."""

    name = "docker"
    floor = "Docker SDK"

    def __init__(self, api: docker.APIClient, events: EventRecorder, volume_root: Path) -> None:
        self.api = api
        self.events = events
        self.volume_root = volume_root

    def wait_started(self, node: str, pods: dict[str, int], since: float, timeout: float) -> Started:
        first, last = self.events.wait_started(node, pods, since, timeout)
        return Started(first, last, self.events.started_cids(node, pods, since))

    def wait_removed(self, node: str, ids: set[str], since: float, timeout: float) -> float:
        return float(self.events.wait_destroyed(node, ids, since, timeout))

    def timeline(self, node: str, pod: str, since: float) -> dict[str, float]:
        return self.events.timeline(node, pod, since)

    def floor_create(self, node: str, pod: dict[str, Any], parallel_apps: bool = False) -> list[str]:
        """Infra container, then each app container joined to its network and IPC namespaces, emptyDirs
        as bind mounts: what pykubelet asks of Docker, without the agent around it."""
        api = self.api
        name = pod["metadata"]["name"]
        labels = {NODE_LABEL: node, POD_LABEL: name}
        sandbox = api.create_container(
            PAUSE, name=f"bench_POD_{name}_{node}", labels=labels,
            host_config=api.create_host_config(network_mode="bridge", ipc_mode="shareable"),
        )["Id"]  # fmt: skip
        api.start(sandbox)
        dirs = empty_dirs(pod, self.volume_root / node / name)

        def app(spec: dict[str, Any]) -> str:
            binds = [f"{dirs[m['name']]}:{m['mountPath']}:rw" for m in spec.get("volumeMounts") or []]
            cid = api.create_container(
                spec["image"], name=f"bench_{spec['name']}_{name}_{node}", labels=labels,
                entrypoint=spec.get("command"), command=spec.get("args"),
                host_config=api.create_host_config(
                    network_mode=f"container:{sandbox}", ipc_mode=f"container:{sandbox}", binds=binds or None
                ),
            )["Id"]  # fmt: skip
            api.start(cid)
            return str(cid)

        return [sandbox, *run_apps(pod["spec"]["containers"], app, parallel_apps)]

    def floor_remove(self, created: list[str]) -> None:
        for cid in reversed(created):  # apps first, then the infra container
            self.api.remove_container(cid, force=True)

    def floor_remove_all(self, created: list[list[str]], graceful: bool) -> None:
        """Each container force-removed on its own, as the issue's floor; ``graceful``: each pod's apps
        stopped with the 2 s grace first (:func:`pooled_removal`)."""
        pooled_removal(
            created,
            lambda cids: cids,
            lambda cid: self.api.remove_container(cid, force=True),
            (lambda cid: self.api.stop(cid, timeout=MINIMUM_GRACE)) if graceful else None,
        )

    def remove_node(self, node: str) -> int:
        return remove_node_containers(self.api, node)
