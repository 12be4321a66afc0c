"""The harness for integration tests: a real ``pykubelet`` process against the real Docker engine.

Each test gets its own agent with its own node name, manifest directory, root directory and port, so
tests never see each other's containers (pykubelet only touches containers labelled with its node).
Nothing is mocked; a Docker engine that does not answer fails the test run.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import docker
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
NODE_LABEL = "io.pykubelet.node"


def wait_for(what: str, probe: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            last = probe()
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last seen: {last!r})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEST_IMAGES = ("busybox:1.35", "nginx:1.22", "registry.k8s.io/pause:3.10")


def connect_docker(images: tuple[str, ...] = TEST_IMAGES) -> docker.APIClient:
    """The shared engine, checked: fail (never skip) when it does not answer or an image is missing."""
    client = docker.APIClient(version="1.41", timeout=60)
    try:
        client.ping()
    except Exception as exc:  # fail, never skip: these tests exist to run against a real engine
        pytest.fail(f"no Docker engine answers ({exc}); start one with scripts/ensure-docker.sh")
    for image in images:
        try:
            client.inspect_image(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"image {image} is missing: build the test images with scripts/build-images.sh")
    return client


@pytest.fixture(scope="session")
def docker_api() -> docker.APIClient:
    return connect_docker()


class Agent:
    """One pykubelet process and the directories it owns."""

    def __init__(self, base: Path, api: docker.APIClient, extra_args: list[str] | None = None) -> None:
        self.api = api
        self.node = f"itest-{secrets.token_hex(4)}"
        self.manifests = base / "manifests"
        self.root = base / "root"
        self.logs_dir = base / "podlogs"
        self.log_file = base / "agent.log"
        self.port = free_port()
        self.extra_args = extra_args or []
        self.manifest_flag = True  # False: the manifest path comes from a --config file in extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        self.manifests.mkdir(parents=True, exist_ok=True)

    # -- the process ---------------------------------------------------------------------------------

    def command(self) -> list[str]:
        manifest_flags = ["--pod-manifest-path", str(self.manifests)] if self.manifest_flag else []
        return [
            sys.executable,
            "-m",
            "pykubelet",
            *manifest_flags,
            "--root-dir",
            str(self.root),
            "--pod-logs-dir",
            str(self.logs_dir),
            "--hostname-override",
            self.node,
            "--read-only-port",
            str(self.port),
            "--address",
            "127.0.0.1",
            "--file-check-frequency",
            "2s",
            *self.extra_args,
        ]

    def start(self, wrapper: list[str] | None = None) -> Agent:
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen((wrapper or []) + self.command(), stdout=log, stderr=log, cwd=REPO)
        wait_for("the agent's /healthz", lambda: self.get("/healthz") == "ok", timeout=30)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cli(self, *args: str) -> str:
        """``pykubelet --server <this agent> ARGS``: its stdout, after checking it succeeded."""
        result = subprocess.run(
            [sys.executable, "-m", "pykubelet", "--server", f"http://127.0.0.1:{self.port}", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    # -- talking to it -------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            body = response.read().decode()
            if response.headers.get_content_type() == "application/json":
                return json.loads(body)
            return body

    def pods(self) -> list[dict[str, Any]]:
        return self.get("/pods")["items"]

    def pod(self, name: str) -> dict[str, Any] | None:
        full = f"{name}-{self.node}"
        return next((p for p in self.pods() if p["metadata"]["name"] == full), None)

    def cadvisor_labels(self, full_name: str, container: str) -> dict[str, str]:
        """The labels ``/metrics/cadvisor`` gives one container of a pod (by the pod's full name), once the
        stats collection (every 10 s) has seen it."""

        def labels() -> dict[str, str] | None:
            found = [
                sample.labels
                for family in text_string_to_metric_families(self.get("/metrics/cadvisor"))
                if family.name == "container_memory_working_set_bytes"
                for sample in family.samples
                if sample.labels.get("pod") == full_name and sample.labels.get("container") == container
            ]
            assert len(found) <= 1, f"{container} of {full_name} twice in /metrics/cadvisor: {found}"
            return found[0] if found else None

        return wait_for(f"{container} of {full_name} in /metrics/cadvisor", labels, timeout=30, interval=1)

    def phase(self, name: str) -> str | None:
        pod = self.pod(name)
        return pod["status"].get("phase") if pod else None

    # -- manifests -----------------------------------------------------------------------------------

    def write(self, filename: str, content: str | dict[str, Any] | bytes) -> Path:
        """Write a manifest atomically (temp name, then rename), as careful tools do."""
        path = self.manifests / filename
        if isinstance(content, dict):
            content = yaml.safe_dump(content)
        data = content if isinstance(content, bytes) else content.encode()
        tmp = self.manifests / f".{filename}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def copy_example(self, name: str) -> Path:
        return self.write(name, (MANIFESTS / name).read_text())

    def remove(self, filename: str) -> None:
        (self.manifests / filename).unlink()

    # -- what Docker shows ---------------------------------------------------------------------------

    def containers(self, pod: str | None = None, all: bool = False) -> list[dict[str, Any]]:
        filters = [f"{NODE_LABEL}={self.node}"]
        if pod:
            filters.append(f"io.kubernetes.pod.name={pod}-{self.node}")
        return self.api.containers(all=all, filters={"label": filters})

    def inspect(self, pod: str, container: str) -> dict[str, Any]:
        matches = [
            c for c in self.containers(pod) if c["Labels"].get("io.kubernetes.container.name") == container
        ]
        assert len(matches) == 1, f"expected one running {container} in {pod}, found {len(matches)}"
        return self.api.inspect_container(matches[0]["Id"])

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for c in self.api.containers(all=True, filters={"label": [f"{NODE_LABEL}={self.node}"]}):
            with contextlib.suppress(docker.errors.NotFound):
                self.api.remove_container(c["Id"], force=True)
        subprocess.run(["umount", "-R", str(self.root)], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def agent_factory(
    tmp_path: Path, docker_api: docker.APIClient, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Agent]]:
    agents: list[Agent] = []

    def make(extra_args: list[str] | None = None, base: Path | None = None) -> Agent:
        agent = Agent(base or tmp_path / f"agent{len(agents)}", docker_api, extra_args)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            sys.stderr.write(f"\n--- agent log ({agent.node}) ---\n{agent.log()[-6000:]}\n")
        agent.cleanup()


@pytest.fixture
def agent(agent_factory: Callable[..., Agent]) -> Agent:
    return agent_factory().start()


@pytest.fixture(scope="module")
def shared_agent(tmp_path_factory: pytest.TempPathFactory, docker_api: docker.APIClient) -> Iterator[Agent]:
    """One agent for a whole module of tests that each add and remove their own pods."""
    agent = Agent(tmp_path_factory.mktemp("shared"), docker_api)
    try:
        agent.start()
        yield agent
    finally:  # also when start() fails: never leave an agent process behind
        agent.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
