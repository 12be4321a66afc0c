"""Bad disks and a bad manifest directory: clear errors, the agent keeps running, nothing else is disturbed.

- ``--root-dir`` read-only (a read-only bind mount), then writable again;
- ``--root-dir`` full (a tiny tmpfs out of inodes) while a pod runs on it, then freed;
- the manifest directory deleted and recreated;
- a manifest file replaced by a directory, and back.

"Nothing else disturbed": a bystander pod (of the same agent, or of a second agent on the same engine)
keeps the very same running containers throughout.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault.helpers import expected_pods, pod, running_ids, wait_converged
from tests.integration.conftest import Agent, wait_for

pytestmark = pytest.mark.integration


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points a test makes; unmounted (lazily, innermost first) whatever happens."""
    made: list[Path] = []
    yield made
    for point in reversed(made):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False, timeout=30)


def _warnings(agent: Agent) -> list[str]:
    return [
        f"{e['reason']}: {e['message']}" for e in agent.get("/events")["items"] if e.get("type") == "Warning"
    ]


def _waiting_messages(agent: Agent, name: str) -> list[str]:
    found = agent.pod(name)
    statuses = ((found or {}).get("status") or {}).get("containerStatuses") or []
    return [(s["state"].get("waiting") or {}).get("message", "") for s in statuses]


def _agent_on_read_only_root(
    mounts: list[Path], agent_factory: Callable[..., Agent], tmp_path: Path
) -> Agent:
    """A started agent whose ``--root-dir`` (``agent.root``) is a read-only bind mount of an empty dir."""
    root = tmp_path / "ro-root"
    root.mkdir()
    _sh("mount", "--bind", str(root), str(root))
    mounts.append(root)
    _sh("mount", "-o", "remount,bind,ro", str(root))
    agent = agent_factory()
    agent.root = root
    return agent.start()


def _uid_of(agent: Agent, filename: str) -> str:
    return next(uid for uid, exp in expected_pods(agent).items() if exp.file == filename)


def test_read_only_root_dir_is_reported_and_nothing_else_is_disturbed(
    mounts: list[Path], agent_factory: Callable[..., Agent], tmp_path: Path
) -> None:
    bystander = agent_factory().start()
    bystander.write("bystander.yaml", pod("bystander"))
    wait_converged(bystander, 60, "the bystander agent")
    bystander_ids = running_ids(bystander)

    agent = _agent_on_read_only_root(mounts, agent_factory, tmp_path)
    root = agent.root
    agent.write("vol.yaml", pod("ro-vol"))
    uid = _uid_of(agent, "vol.yaml")

    # the pod's status and a FailedMount event say what is wrong, where, and why
    wait_for(
        "a FailedMount event naming the read-only root dir",
        lambda: [w for w in _warnings(agent) if "FailedMount" in w and "Read-only file system" in w],
        timeout=30,
    )
    (message,) = _waiting_messages(agent, "ro-vol")
    assert f"{root}/pods/{uid}/volumes/kubernetes.io~empty-dir/data" in message
    assert "Read-only file system" in message and "spec.volumes[0].emptyDir" in message
    assert agent.get("/healthz") == "ok"
    assert agent.alive()
    assert running_ids(bystander) == bystander_ids

    # writable again: the pod starts on its next retry, with nothing done by hand
    _sh("mount", "-o", "remount,bind,rw", str(root))
    wait_converged(agent, 60, "after the root dir became writable")
    assert running_ids(bystander) == bystander_ids


def test_read_only_root_dir_shows_in_the_status_of_a_pod_without_volumes(
    mounts: list[Path], agent_factory: Callable[..., Agent], tmp_path: Path
) -> None:
    agent = _agent_on_read_only_root(mounts, agent_factory, tmp_path)
    agent.write("plain.yaml", pod("ro-plain", volume=False))
    wait_for(
        "the pod's status or a Warning event to say that the root dir is read-only",
        lambda: (
            any("Read-only file system" in m for m in _waiting_messages(agent, "ro-plain"))
            or any("Read-only file system" in w for w in _warnings(agent))
        ),
        timeout=15,
    )


def test_full_root_dir_is_reported_and_the_running_pod_is_undisturbed(
    mounts: list[Path], agent_factory: Callable[..., Agent], tmp_path: Path
) -> None:
    root = tmp_path / "small-root"
    root.mkdir()
    _sh("mount", "-t", "tmpfs", "-o", "size=4m,nr_inodes=200,mode=0755", "tmpfs", str(root))
    mounts.append(root)
    agent = agent_factory()
    agent.root = root
    agent.start()
    agent.write("first.yaml", pod("disk-first"))
    wait_converged(agent, 60, "the first pod")
    first_ids = running_ids(agent)

    filler = root / "filler"
    filler.mkdir()
    for n in itertools.count():  # use up every inode (bounded: the tmpfs has 200)
        try:
            (filler / str(n)).touch()
        except OSError:
            break
        assert n < 1000, "the tmpfs never filled up"

    agent.write("second.yaml", pod("disk-second"))
    wait_for(
        "a FailedMount event saying the disk is full",
        lambda: [w for w in _warnings(agent) if "FailedMount" in w and "No space left on device" in w],
        timeout=30,
    )
    assert any("No space left on device" in m for m in _waiting_messages(agent, "disk-second"))
    assert agent.get("/healthz") == "ok"
    assert agent.alive()
    assert first_ids <= running_ids(agent), "the running pod was disturbed by the full disk"

    shutil.rmtree(filler)
    wait_converged(agent, 60, "after space was freed")
    assert first_ids <= running_ids(agent)


def test_manifest_directory_deleted_and_recreated(agent_factory: Callable[..., Agent]) -> None:
    bystander = agent_factory().start()
    bystander.write("bystander.yaml", pod("dir-bystander"))
    agent = agent_factory().start()
    manifests: dict[str, dict[str, Any]] = {"x.yaml": pod("dir-x"), "y.yaml": pod("dir-y", volume=False)}
    for name, doc in manifests.items():
        agent.write(name, doc)
    wait_converged(agent, 60, "before")
    wait_converged(bystander, 60, "the bystander")
    bystander_ids = running_ids(bystander)

    shutil.rmtree(agent.manifests)
    wait_for("the pods of the deleted directory to go", lambda: not agent.containers(all=True), timeout=60)
    wait_for(
        "a log line saying the path is missing", lambda: "path does not exist" in agent.log(), timeout=30
    )
    assert agent.pods() == []
    assert agent.alive() and agent.get("/healthz") == "ok"

    agent.manifests.mkdir()
    for name, doc in manifests.items():
        agent.write(name, doc)
    wait_converged(agent, 60, "after the directory came back")
    assert running_ids(bystander) == bystander_ids
    assert agent.alive()


def test_a_manifest_replaced_by_a_directory(agent_factory: Callable[..., Agent]) -> None:
    agent = agent_factory().start()
    agent.write("keep.yaml", pod("dir-keep"))
    agent.write("swap.yaml", pod("dir-swap"))
    wait_converged(agent, 60, "before")
    keep_uid = _uid_of(agent, "keep.yaml")
    keep_ids = {c["Id"] for c in agent.containers("dir-keep")}

    agent.remove("swap.yaml")
    (agent.manifests / "swap.yaml").mkdir()
    (agent.manifests / "swap.yaml" / "inner.yaml").write_text("not: read\n")  # no recursion
    wait_converged(agent, 60, "after the file became a directory")
    wait_for("a log line about the directory", lambda: "is a directory, not recursing" in agent.log(), 30)
    assert {c["Id"] for c in agent.containers("dir-keep")} == keep_ids
    assert [p["metadata"]["uid"] for p in agent.pods()] == [keep_uid]
    assert agent.alive() and agent.get("/healthz") == "ok"

    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(agent.manifests / "swap.yaml")
    agent.write("swap.yaml", pod("dir-swap"))
    wait_converged(agent, 60, "after the directory became a file again")
    assert {c["Id"] for c in agent.containers("dir-keep")} == keep_ids
