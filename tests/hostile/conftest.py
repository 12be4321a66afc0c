"""The hostile-input harness: one agent per source, a canary pod and a canary directory tree, shared.

Every case asserts the same four things (issue 16, point 6), so they live here once:

(a) a clear error naming the source (file path or URL) and the field: the agent's ``/manifests``
    report, or else a line of its log, written after the case began;
(b) the canary pod, started before any hostile input, keeps the very same container ids;
(c) the canary tree outside every root dir (and everything else under the run's directory that the
    agent does not own) keeps its files, contents and modes;
(d) the agent is alive and its sources still pick up new input: a fresh good pod starts.

The agents come from the integration harness (``tests/integration/conftest.py``), unchanged. Each agent's
directories sit three levels below the run's directory, so a uid such as ``../../..`` lands on a path
the snapshot watches instead of somewhere outside the test.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.hostile.cases import Case, Content, Ctx, good_pod
from tests.hostile.server import ManifestServer
from tests.integration.conftest import Agent, connect_docker, wait_for

CANARY_POD = "canary"
FILE_CANARY_POD = "canary-file"
# the secret the URL agent sends; the redirect case checks it never reaches another origin
SECRET = "hostile-secret-3f2b8a4e"
URL_HEADERS = ("Authorization:Bearer " + SECRET, "X-Api-Key:" + SECRET)

Snapshot = dict[str, tuple[Any, ...]]


@pytest.fixture(scope="session")
def docker_api() -> docker.APIClient:
    return connect_docker()


# -- the canary tree ------------------------------------------------------------------------------------


def build_canary_tree(canary: Path) -> None:
    """Files and directories with distinct modes and contents, and a symlink, for a planted link to aim at."""
    (canary / "dir" / "sub").mkdir(parents=True)
    (canary / "dir" / "notes.txt").write_text("canary notes\n")
    (canary / "dir" / "secret").write_text("canary secret\n")
    (canary / "dir" / "sub" / "deeper.txt").write_text("deeper\n")
    (canary / "run.sh").write_text("#!/bin/sh\necho canary\n")
    (canary / "link").symlink_to("dir")
    os.chmod(canary / "dir" / "secret", 0o600)
    os.chmod(canary / "run.sh", 0o755)
    os.chmod(canary / "dir" / "sub", 0o700)
    os.chmod(canary / "dir", 0o750)


def snapshot(top: Path, owned: set[Path]) -> Snapshot:
    """Every path under ``top`` but the agents' own: type, mode, and content hash or link target."""
    result: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(top):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in owned]
        for name in [*dirnames, *filenames]:
            path = here / name
            if path in owned:
                continue
            info = os.lstat(path)
            entry: tuple[Any, ...] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode))
            if stat.S_ISREG(info.st_mode):
                entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
            elif stat.S_ISLNK(info.st_mode):
                entry += (os.readlink(path),)
            result[str(path.relative_to(top))] = entry
    return result


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    changes = [f"gone: {p}" for p in sorted(set(before) - set(after))]
    changes += [f"new: {p}" for p in sorted(set(after) - set(before))]
    changes += [
        f"changed: {p} {before[p]} -> {after[p]}"
        for p in sorted(set(before) & set(after))
        if before[p] != after[p]
    ]
    return changes


# -- one agent under attack -----------------------------------------------------------------------------


@dataclass
class Hostile:
    """An agent, its canary pod's container ids, and the run's directory it must leave alone."""

    agent: Agent
    top: Path
    source: str  # "file" or "url"
    canary_ids: dict[str, set[str]] = field(default_factory=dict)  # canary pod -> its container ids
    server: ManifestServer | None = None
    fresh_count: int = 0

    @property
    def ctx(self) -> Ctx:
        return Ctx(self.top / "canary", self.agent.root / "pods")

    @property
    def owned(self) -> set[Path]:
        a = self.agent
        return {a.manifests, a.root, a.logs_dir, a.log_file}

    def tree(self) -> Snapshot:
        return snapshot(self.top, self.owned)

    def remember_canary(self, pod: str) -> None:
        wait_for(f"the {pod} pod Running", lambda: self.agent.phase(pod) == "Running", timeout=90)
        self.canary_ids[pod] = self.container_ids(pod)
        assert len(self.canary_ids[pod]) == 2, self.canary_ids  # the sandbox and the app container

    def container_ids(self, pod: str) -> set[str]:
        return {c["Id"] for c in self.agent.containers(pod)}

    def log_size(self) -> int:
        return self.agent.log_file.stat().st_size

    # -- (a) ----------------------------------------------------------------------------------------

    def reported(self, source: str, expect: tuple[str, ...], log_from: int, timeout: float = 30) -> str:
        """Wait for an error about ``source`` (a path, or a URL prefix) that matches every ``expect``."""

        def matches(text: str) -> bool:
            return all(re.search(e, text, re.IGNORECASE) for e in expect)

        def find() -> str | None:
            for item in self.agent.get("/manifests")["items"]:
                if item["file"].startswith(source) and "error" in item:
                    text = " ".join(
                        [item["error"], *(f"{f['field']} {f['message']}" for f in item.get("fields", []))]
                    )
                    if matches(text):
                        return f"/manifests: {item['file']}: {text}"
            with open(self.agent.log_file, "rb") as fh:
                fh.seek(log_from)
                for line in fh.read().decode(errors="replace").splitlines():
                    if source in line and matches(line):
                        return f"log: {line}"
            return None

        return wait_for(f"an error about {source} matching {expect}", find, timeout=timeout, interval=0.3)

    # -- (b), (c) and the agent alive ---------------------------------------------------------------

    def assert_unharmed(self, before: Snapshot, *, dropped: tuple[str, ...] = ()) -> None:
        """``dropped``: canaries the input legitimately removes (a URL serving zero bytes, as upstream)."""
        assert self.agent.alive(), f"the agent died; log tail:\n{self.agent.log()[-3000:]}"
        assert self.agent.get("/healthz") == "ok"
        for pod, expected in self.canary_ids.items():
            ids = self.container_ids(pod)
            if pod not in dropped and ids != expected:
                if self.server is not None:  # so the next case is judged on its own
                    self.server.serve_pods([canary_pod()])
                with contextlib.suppress(AssertionError):
                    self.remember_canary(pod)
                raise AssertionError(f"the {pod} pod's containers changed: {expected} -> {ids}")
        changes = diff(before, self.tree())
        assert not changes, "the canary tree (outside the root dir) changed:\n" + "\n".join(changes[:20])

    # -- (d) ----------------------------------------------------------------------------------------

    def fresh_pod_starts(self) -> None:
        """A new good pod from this agent's source runs; it goes again with the next case's input."""
        self.fresh_count += 1
        name = f"fresh-{self.fresh_count}"
        if self.source == "url":
            assert self.server is not None
            self.server.serve_pods([canary_pod(), good_pod(name)])
        else:
            for old in self.agent.manifests.glob("fresh-*.yaml"):
                old.unlink()
            self.agent.write(f"{name}.yaml", good_pod(name))
        wait_for(f"the fresh pod {name} Running", lambda: self.agent.phase(name) == "Running", timeout=60)


def canary_pod() -> dict[str, Any]:
    return good_pod(CANARY_POD)


def start_hostile(
    top: Path, source: str, api: docker.APIClient, server: ManifestServer | None = None
) -> Hostile:
    """The agent with the canary pod running from ``source``; its ids are what every case compares."""
    base = top / "agents" / source / "agent"
    base.mkdir(parents=True)
    args = ["--file-check-frequency", "2s"]
    if server is not None:
        server.serve_pods([canary_pod()])
        args += ["--manifest-url", server.url, "--http-check-frequency", "500ms"]
        for header in URL_HEADERS:
            args += ["--manifest-url-header", header]
    hostile = Hostile(Agent(base, api, args), top, source, server=server)
    # the URL agent has a file canary too: no URL body may touch the other source's pods
    hostile.agent.write("canary.yaml", good_pod(CANARY_POD if server is None else FILE_CANARY_POD))
    hostile.agent.start()
    for pod in (CANARY_POD,) if server is None else (CANARY_POD, FILE_CANARY_POD):
        hostile.remember_canary(pod)
    return hostile


@pytest.fixture(scope="package")
def hostile_top(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("hostile")
    build_canary_tree(top / "canary")
    return top


@contextlib.contextmanager
def running(hostile: Hostile) -> Iterator[Hostile]:
    """Clean up the agent and its containers whatever happens; print its log tail if it died."""
    try:
        yield hostile
    finally:
        if not hostile.agent.alive():
            sys.stderr.write(f"\n--- agent log ({hostile.agent.node}) ---\n{hostile.agent.log()[-6000:]}\n")
        hostile.agent.cleanup()


@pytest.fixture(scope="package")
def file_agent(hostile_top: Path, docker_api: docker.APIClient) -> Iterator[Hostile]:
    with running(start_hostile(hostile_top, "file", docker_api)) as hostile:
        yield hostile


@pytest.fixture(scope="package")
def manifest_server() -> Iterator[ManifestServer]:
    with ManifestServer.running() as server:
        yield server


@pytest.fixture(scope="package")
def url_agent(
    hostile_top: Path, docker_api: docker.APIClient, manifest_server: ManifestServer
) -> Iterator[Hostile]:
    with running(start_hostile(hostile_top, "url", docker_api, manifest_server)) as hostile:
        yield hostile


@dataclass(frozen=True)
class CaseRun:
    """Where a case began: the tree as it was, and the agent's log size."""

    before: Snapshot
    log_from: int


@pytest.fixture
def begin_case(request: pytest.FixtureRequest) -> Iterator[Callable[[Hostile], CaseRun]]:
    """Snapshot the tree and mark the log; on failure, print the log the agent wrote during the case."""
    started: list[tuple[Hostile, CaseRun]] = []

    def begin(hostile: Hostile) -> CaseRun:
        run = CaseRun(hostile.tree(), hostile.log_size())
        started.append((hostile, run))
        return run

    yield begin
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for hostile, run in started:
            with open(hostile.agent.log_file, "rb") as fh:
                fh.seek(run.log_from)
                tail = fh.read()[-6000:].decode(errors="replace")
            sys.stderr.write(f"\n--- {hostile.source} agent log during the case ---\n{tail}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# -- one content case, through either source --------------------------------------------------------------


def big(case_id: str) -> bool:
    return "mib" in case_id


def wait_outcome(hostile: Hostile, case: Case, source: str, run: CaseRun) -> None:
    """(a): the error naming ``source`` and the field; or, for a case the agent may accept, the pod runs."""
    timeout = 120 if big(case.id) else 30
    if not case.expect:  # valid input written in a hostile way: it must simply run
        wait_for("the hostile pod Running", lambda: hostile.agent.phase("hostile") == "Running", timeout=60)
        return
    if not case.bind:
        hostile.reported(source, case.expect, run.log_from, timeout=timeout)
        return
    try:
        hostile.reported(source, case.expect, run.log_from, timeout=timeout)
    except AssertionError:
        if hostile.agent.phase("hostile") != "Running":
            raise
        assert_mount_as_written(hostile, case.build(hostile.ctx))


def assert_mount_as_written(hostile: Hostile, pod: Content) -> None:
    """An accepted ``:``/``,`` path must reach Docker as one mount, exactly as written."""
    assert isinstance(pod, dict)
    volume = pod["spec"]["volumes"][0]["hostPath"]["path"]
    mount = pod["spec"]["containers"][0]["volumeMounts"][0]
    expected = os.path.join(volume, mount.get("subPath", ""))
    mounts = hostile.agent.inspect("hostile", "app")["Mounts"]
    assert [(m["Source"].rstrip("/"), m["Destination"]) for m in mounts if m["Type"] == "bind"] == [
        (expected.rstrip("/"), mount["mountPath"])
    ], mounts


def wait_gone(hostile: Hostile, pod: str) -> None:
    wait_for(f"pod {pod} gone", lambda: not hostile.agent.containers(pod, all=True), timeout=60)
