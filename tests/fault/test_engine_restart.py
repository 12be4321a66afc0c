"""Restart the Docker engine under running pods: pykubelet says so on /healthz, survives, brings them back.

The machine's own engine is shared (other tests, the Molecule scenario), so this test never touches it:
it starts a private ``dockerd`` with its own socket, data root, exec root, pid file and bridge
(``pykf-<hex>``, a free 10.213.<n>.1/24, no iptables rules, no IP forwarding change), copies the two images it
needs into it with ``docker save | docker load``, points an agent at it with
``--container-runtime-endpoint``, then stops and restarts that engine. Everything is removed in the end,
whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from tests.fault.helpers import IMAGES, expected_pods, marker_lines, pod, wait_converged
from tests.integration.conftest import Agent, wait_for

pytestmark = pytest.mark.integration

BRIDGE_PREFIX = "pykf-"  # + 4 hex digits: a run of its own never deletes another run's bridge


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)


class PrivateDockerd:
    """A second Docker engine of the test's own, on a short path (unix socket paths are limited)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="pykf-", dir="/tmp"))
        self.socket = self.base / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.log = self.base / "dockerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = docker.APIClient(base_url=self.url, version="1.41", timeout=60)
        self.bridge = BRIDGE_PREFIX + secrets.token_hex(2)

    def command(self) -> list[str]:
        return [
            "dockerd",
            "--host", self.url,
            "--data-root", str(self.base / "data"),
            "--exec-root", str(self.base / "exec"),
            "--pidfile", str(self.base / "docker.pid"),
            "--bridge", self.bridge,
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--userland-proxy=false",
            "--log-level", "warn",
        ]  # fmt: skip

    def make_bridge(self) -> None:
        used = _run("ip", "-o", "-4", "addr", "show").stdout
        subnet = next(n for n in range(1, 255) if f" 10.213.{n}." not in used)
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"10.213.{subnet}.1/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log, start_new_session=True)
        wait_for("the private dockerd to answer", self.api.ping, timeout=60, interval=0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None

    def load_images(self, images: tuple[str, ...]) -> None:
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "--host", self.url, "load"],
            stdin=save.stdout,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        save.wait(timeout=60)
        assert load.returncode == 0, f"docker load into the private engine failed: {load.stderr}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for c in self.api.containers(all=True):
                self.api.remove_container(c["Id"], force=True)
        self.stop()
        self._kill_leftovers()
        for target in sorted(self._mounts(), key=len, reverse=True):
            _run("umount", "-l", target, check=False)
        _run("ip", "link", "del", self.bridge, check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def _mounts(self) -> list[str]:
        with open("/proc/self/mounts") as fh:
            points = [line.split()[1] for line in fh]
        prefix = str(self.base) + "/"
        return [p for p in points if p.startswith(prefix)]

    def _kill_leftovers(self) -> None:
        """containerd and shims this engine left behind (only ours: their command line names our dir)."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(self.base) in cmdline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


@pytest.fixture
def private_engine() -> Iterator[PrivateDockerd]:
    engine = PrivateDockerd()
    try:
        engine.make_bridge()
        engine.start()
        engine.load_images(IMAGES)
        yield engine
    finally:
        engine.close()


def _healthz(agent: Agent) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{agent.port}/healthz?verbose", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_engine_restart_is_reported_survived_and_recovered_from(
    private_engine: PrivateDockerd, agent_factory: Callable[..., Agent]
) -> None:
    agent = agent_factory(["--container-runtime-endpoint", private_engine.url], api=private_engine.api)
    agent.start()
    agent.write("with-volume.yaml", pod("engine-a"))
    agent.write("plain.yaml", pod("engine-b", volume=False))
    wait_converged(agent, 60, "before the engine restart")
    (volume_uid,) = [uid for uid, exp in expected_pods(agent).items() if exp.has_volume]
    wait_for("the marker", lambda: marker_lines(agent, volume_uid) == 1, timeout=10)

    private_engine.stop(signal.SIGTERM)
    _, body = wait_for(
        "/healthz to report the runtime down",
        lambda: (lambda r: r if r[0] == 500 else None)(_healthz(agent)),
        timeout=30,
    )
    assert "[-]runtime failed" in body, body
    assert "[+]ping ok" in body, body
    assert agent.alive(), "pykubelet died with the engine"
    assert len(agent.pods()) == 2, "/pods must keep answering from memory while the engine is down"
    time.sleep(3)  # some failed syncs and relists while the engine is gone
    assert agent.alive()

    private_engine.start()
    wait_for("/healthz ok again", lambda: _healthz(agent)[0] == 200, timeout=60)
    wait_converged(agent, 90, "after the engine came back")
    assert agent.alive()
    # the engine's restart stopped every container; the same pods came back (same uids) with their
    # emptyDir kept: the marker shows a second start of the same pod
    assert marker_lines(agent, volume_uid) == 2
    statuses = {p["metadata"]["name"]: p["status"] for p in agent.pods()}
    assert all(s["phase"] == "Running" for s in statuses.values()), statuses
