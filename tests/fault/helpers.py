"""Pods for the fault tests and the oracle: do the containers match the manifests on disk, exactly?"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pykubelet.manifest import ManifestError, load_pod
from tests.integration.conftest import Agent

EMPTY_DIR = "kubernetes.io~empty-dir"
IMAGES = ("busybox:1.35", "registry.k8s.io/pause:3.10")

# Exits at once on SIGTERM (so stops take no grace period) and appends a line to the emptyDir's
# marker file each time it starts: a restarted container, or a lost emptyDir, shows in that file.
MARKER_COMMAND = [
    "sh",
    "-c",
    "echo started >> /data/marker; trap 'exit 0' TERM; sleep 3600 & wait",
]


def pod(name: str, *, tag: str = "", volume: bool = True, command: list[str] | None = None) -> dict[str, Any]:
    """A one-container busybox pod; ``tag`` goes into the environment, so a new tag is a new uid."""
    container: dict[str, Any] = {
        "name": "app",
        "image": "busybox:1.35",
        "command": command
        or (MARKER_COMMAND if volume else ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]),
    }
    if tag:
        container["env"] = [{"name": "TAG", "value": tag}]
    spec: dict[str, Any] = {"terminationGracePeriodSeconds": 0, "containers": [container]}
    if volume:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
        spec["volumes"] = [{"name": "data", "emptyDir": {}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


@dataclass(frozen=True)
class Expected:
    full_name: str
    uid: str
    containers: frozenset[str]
    has_volume: bool
    file: str


def expected_pods(agent: Agent) -> dict[str, Expected]:
    """What the files on disk ask for, by pod uid (files that do not parse ask for nothing).

    The tests give every file a pod name of its own, so the duplicate-name rule never comes in.
    """
    wanted: dict[str, Expected] = {}
    for entry in sorted(os.listdir(agent.manifests)):
        path = agent.manifests / entry
        if entry.startswith(".") or not path.is_file():
            continue
        try:
            static = load_pod(path.read_bytes(), os.path.abspath(path), agent.node)
        except (ManifestError, OSError):
            continue
        wanted[static.uid] = Expected(
            full_name=static.name,
            uid=static.uid,
            containers=frozenset(c["name"] for c in static.spec["containers"]),
            has_volume=any("emptyDir" in v for v in static.spec.get("volumes") or []),
            file=entry,
        )
    return wanted


def mismatches(agent: Agent, wanted: dict[str, Expected] | None = None, served: bool = True) -> list[str]:
    """Every way Docker, the agent's root dir and /pods differ from the manifests; [] when they match.

    ``served=False`` leaves /pods out (the agent is not running)."""
    wanted = expected_pods(agent) if wanted is None else wanted
    problems: list[str] = []
    running: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for c in agent.containers(all=True):
        labels = c["Labels"]
        uid = labels.get("io.kubernetes.pod.uid", "?")
        name = labels.get("io.kubernetes.container.name", "?")
        if uid not in wanted:
            problems.append(f"orphan container {c['Names'][0]} ({c['State']}) of pod uid {uid}")
            continue
        if c["State"] == "running":
            running[uid][name].append(c["Id"][:12])
        elif c["State"] == "created":
            problems.append(f"container {c['Names'][0]} left in state 'created'")
    for uid, exp in wanted.items():
        for name in [*exp.containers, "POD"]:
            found = running[uid].get(name, [])
            if len(found) != 1:
                problems.append(f"pod {exp.full_name} ({exp.file}): {len(found)} running {name} containers")
        if exp.has_volume and not (agent.root / "pods" / uid / "volumes" / EMPTY_DIR / "data").is_dir():
            problems.append(f"pod {exp.full_name}: its emptyDir is missing")
    pods_dir = agent.root / "pods"
    if pods_dir.is_dir():
        for uid in os.listdir(pods_dir):
            if uid not in wanted:
                problems.append(f"pod directory {uid} left behind")
    if not served:
        return problems
    try:
        listed = {(p["metadata"]["uid"], p["metadata"]["name"]) for p in agent.pods()}
    except Exception as exc:
        problems.append(f"/pods does not answer: {exc}")
    else:
        want = {(uid, exp.full_name) for uid, exp in wanted.items()}
        if listed != want:
            problems.append(f"/pods serves {sorted(listed - want)} extra and misses {sorted(want - listed)}")
    return problems


def wait_converged(agent: Agent, timeout: float, context: str = "") -> None:
    """Until Docker, the root dir and /pods match the files exactly; else fail listing what differs."""
    deadline = time.monotonic() + timeout
    problems: list[str] = []
    while time.monotonic() < deadline:
        problems = mismatches(agent)
        if not problems:
            return
        time.sleep(0.5)
    raise AssertionError(
        f"{context}: no convergence to the manifests on disk within {timeout:g}s:\n  " + "\n  ".join(problems)
    )


def marker_lines(agent: Agent, uid: str) -> int:
    path = agent.root / "pods" / uid / "volumes" / EMPTY_DIR / "data" / "marker"
    try:
        return len(path.read_text().splitlines())
    except OSError:
        return 0


def running_ids(agent: Agent) -> set[str]:
    return {c["Id"] for c in agent.containers()}


def write_raw(path: Path, data: str) -> None:
    """A non-atomic write, as an editor saving in place does (truncate, then write)."""
    with open(path, "w") as fh:
        fh.write(data)
