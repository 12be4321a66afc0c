"""Hostile manifests in the manifest directory: every content case, then what only a directory can hold.

One agent takes them one after another (the ``file_agent`` fixture); each case checks the error, the
canary pod, the canary tree and that a fresh manifest still starts its pod (see ``conftest.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.cases import CONTENT_CASES, Case, content_bytes, good_pod
from tests.hostile.conftest import CaseRun, Hostile, wait_gone, wait_outcome
from tests.integration.conftest import wait_for


@pytest.mark.parametrize("case", [c for c in CONTENT_CASES if "file" in c.sources], ids=lambda c: c.id)
def test_manifest_file(file_agent: Hostile, begin_case: Callable[[Hostile], CaseRun], case: Case) -> None:
    h = file_agent
    run = begin_case(h)
    path = h.agent.write(f"{case.id}.yaml", content_bytes(case.build(h.ctx)))
    try:
        wait_outcome(h, case, str(path), run)
        h.assert_unharmed(run.before)
    finally:
        path.unlink()
    wait_gone(h, "hostile")  # an accepted pod is torn down: that teardown must stay inside the root dir
    h.fresh_pod_starts()
    h.assert_unharmed(run.before)


def _directory(manifests: Path, name: str, canary: Path) -> None:
    (manifests / name).mkdir()
    (manifests / name / "inner.yaml").write_text(content_bytes(good_pod("inner")).decode())


def _fifo(manifests: Path, name: str, canary: Path) -> None:
    os.mkfifo(manifests / name)


def _symlink_to(target: str) -> Callable[[Path, str, Path], None]:
    def make(manifests: Path, name: str, canary: Path) -> None:
        (manifests / name).symlink_to(target.format(canary=canary, manifests=manifests))

    return make


# name -> (how to make it, what the error or log line must say)
PLACES: dict[str, tuple[Callable[[Path, str, Path], None], tuple[str, ...]]] = {
    "directory-named-like-manifest": (_directory, (r"directory",)),
    "fifo-named-like-manifest": (_fifo, (r"not a regular file",)),
    "symlink-to-dev-zero": (_symlink_to("/dev/zero"), (r"not a regular file",)),
    "symlink-into-canary": (_symlink_to("{canary}/dir/notes.txt"), (r"mapping|Pod",)),
    "symlink-dangling": (_symlink_to("{canary}/missing.yaml"), (r"does not exist",)),
    "symlink-loop": (_symlink_to("{manifests}/symlink-loop.yaml"), (r"symbolic links|cannot stat|loop",)),
}


@pytest.mark.parametrize("place", sorted(PLACES))
def test_manifest_directory_entry(
    file_agent: Hostile, begin_case: Callable[[Hostile], CaseRun], place: str
) -> None:
    h = file_agent
    run = begin_case(h)
    make, expect = PLACES[place]
    path = h.agent.manifests / f"{place}.yaml"
    make(h.agent.manifests, path.name, h.top / "canary")
    try:
        h.reported(str(path), expect, run.log_from)
        h.assert_unharmed(run.before)
        assert h.agent.pod("inner") is None, "the agent recursed into a directory"
    finally:
        if path.is_dir() and not path.is_symlink():
            (path / "inner.yaml").unlink()
            path.rmdir()
        else:
            path.unlink()
    h.fresh_pod_starts()
    h.assert_unharmed(run.before)


def test_pod_list_in_a_file(file_agent: Hostile, begin_case: Callable[[Hostile], CaseRun]) -> None:
    """A PodList is a URL body, not a manifest file: refused whole, even when every item is good."""
    h = file_agent
    run = begin_case(h)
    listing = {"apiVersion": "v1", "kind": "PodList", "items": [good_pod("listed-a"), good_pod("listed-b")]}
    path = h.agent.write("podlist.yaml", listing)
    try:
        h.reported(str(path), (r"kind", r"list"), run.log_from)
        wait_for("no listed pod", lambda: h.agent.pod("listed-a") is None and h.agent.pod("listed-b") is None)
        h.assert_unharmed(run.before)
    finally:
        path.unlink()
    h.fresh_pod_starts()
