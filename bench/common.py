"""What every scenario of the benchmark needs: an agent process, a Docker event recorder, statistics.

Times of container starts and removals are the engine's own (``timeNano`` of Docker's ``start`` and
``destroy`` events), compared with the host's wall clock at the moment the bench acted (a manifest
written, a file deleted, an SDK call made): the same clock on the same machine, so neither the bench's
polling nor the event stream's delivery adds to a figure.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
NODE_LABEL = "io.pykubelet.node"
POD_LABEL = "io.kubernetes.pod.name"
API_VERSION = "1.41"
BUSYBOX = "busybox:1.35"
NGINX = "nginx:1.22"
PAUSE = "registry.k8s.io/pause:3.10"
IMAGES = (BUSYBOX, NGINX, PAUSE)


def api_client(base_url: str | None = None, timeout: int | None = 120) -> docker.APIClient:
    return docker.APIClient(
        base_url=base_url or "unix:///var/run/docker.sock", version=API_VERSION, timeout=timeout
    )


def node_name(prefix: str = "bench") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- statistics ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: with 20 samples, p99 is the largest (no interpolated optimism)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "p99": None, "min": None, "max": None, "samples": []}
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p99": percentile(values, 99),
        "min": min(values),
        "max": max(values),
        "samples": [round(v, 6) for v in values],
    }


# -- Docker events ------------------------------------------------------------------------------------


@dataclass
class Event:
    action: str
    cid: str
    node: str
    pod: str
    name: str  # the container's name
    at: float  # seconds since the epoch, the engine's timeNano


class EventRecorder:
    """Every container event of containers carrying ``io.pykubelet.node`` (any value), in a thread."""

    def __init__(self, base_url: str | None = None) -> None:
        self.client = api_client(base_url, timeout=None)
        self.events: list[Event] = []
        self.cond = threading.Condition()
        self._stream: Any = None
        self._stop = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-events", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("could not open Docker's event stream")

    def _run(self) -> None:
        self._stream = self.client.events(decode=True, filters={"type": "container", "label": [NODE_LABEL]})
        self._ready.set()
        with contextlib.suppress(Exception):
            for raw in self._stream:
                if self._stop:
                    return
                attrs = (raw.get("Actor") or {}).get("Attributes") or {}
                event = Event(
                    action=str(raw.get("Action", "")).split(":")[0],
                    cid=(raw.get("Actor") or {}).get("ID", ""),
                    node=attrs.get(NODE_LABEL, ""),
                    pod=attrs.get(POD_LABEL, ""),
                    name=attrs.get("name", ""),
                    at=int(raw.get("timeNano") or 0) / 1e9,
                )
                with self.cond:
                    self.events.append(event)
                    self.cond.notify_all()

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(Exception):
            self._stream.close()
        with contextlib.suppress(Exception):
            self.client.close()

    def select(
        self, node: str, action: str, pods: Iterable[str] | None = None, since: float = 0.0
    ) -> list[Event]:
        wanted = set(pods) if pods is not None else None
        with self.cond:
            return [
                e
                for e in self.events
                if e.node == node
                and e.action == action
                and e.at >= since
                and (wanted is None or e.pod in wanted)
            ]

    def wait(self, what: str, probe: Callable[[], Any], timeout: float) -> Any:
        """Wait (bounded) until ``probe()`` is truthy, re-checking on every event and every 0.2 s."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                result = probe_safely(probe)
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
                self.cond.wait(min(left, 0.2))

    def wait_started(
        self, node: str, pods: dict[str, int], since: float, timeout: float
    ) -> tuple[float, float]:
        """Until each pod has started its expected number of containers: (first create, last start)."""

        def probe() -> tuple[float, float] | None:
            starts: dict[str, set[str]] = {}
            last = 0.0
            for e in self.events:
                if e.node == node and e.action == "start" and e.at >= since and e.pod in pods:
                    starts.setdefault(e.pod, set()).add(e.cid)
                    last = max(last, e.at)
            if all(len(starts.get(p, ())) >= n for p, n in pods.items()):
                creates = [
                    e.at
                    for e in self.events
                    if e.node == node and e.action == "create" and e.at >= since and e.pod in pods
                ]
                return (min(creates) if creates else last, last)
            return None

        return self.wait(
            f"{sum(pods.values())} containers of {len(pods)} pod(s) on {node} to start", probe, timeout
        )

    def wait_destroyed(self, node: str, cids: set[str], since: float, timeout: float) -> float:
        """Until every container in ``cids`` is removed: the time of the last ``destroy``."""

        def probe() -> float | None:
            gone = {
                e.cid: e.at
                for e in self.events
                if e.node == node and e.action == "destroy" and e.at >= since and e.cid in cids
            }
            return max(gone.values()) if len(gone) == len(cids) else None

        return self.wait(f"{len(cids)} containers on {node} to be removed", probe, timeout)

    def timeline(self, node: str, pod: str, since: float) -> dict[str, float]:
        """Where one pod start's time went, from ``since``: the engine's create and start events."""
        events = [
            e for e in self.select(node, "create", [pod], since) + self.select(node, "start", [pod], since)
        ]
        sandbox = [e for e in events if "_POD_" in e.name]
        apps = [e for e in events if "_POD_" not in e.name]
        out: dict[str, float] = {}
        if sandbox and apps:
            sandbox_create = min(e.at for e in sandbox if e.action == "create")
            sandbox_start = min(e.at for e in sandbox if e.action == "start")
            app_create = min(e.at for e in apps if e.action == "create")
            app_start = max(e.at for e in apps if e.action == "start")
            out = {
                "to_sandbox_create": sandbox_create - since,
                "sandbox_create_to_start": sandbox_start - sandbox_create,
                "sandbox_start_to_first_app_create": app_create - sandbox_start,
                "first_app_create_to_last_app_start": app_start - app_create,
            }
        return out

    def started_cids(self, node: str, pods: Iterable[str], since: float) -> set[str]:
        return {e.cid for e in self.select(node, "start", pods, since)}


def probe_safely(probe: Callable[[], Any]) -> Any:
    try:
        return probe()
    except Exception:
        return None


def poll(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe_safely(probe)
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


# -- pods -----------------------------------------------------------------------------------------------


def walkthrough_pod(name: str) -> dict[str, Any]:
    """manifests/nginx-truncator.yaml as shipped, renamed, with terminationGracePeriodSeconds 0."""
    pod = yaml.safe_load((REPO / "manifests" / "nginx-truncator.yaml").read_text())
    pod["metadata"]["name"] = name
    pod["spec"]["terminationGracePeriodSeconds"] = 0
    return pod


# Two ways a container meets SIGTERM. ``sleep`` as PID 1 ignores it (PID 1 gets no default signal
# actions), so each stop waits out the kubelet's 2 s minimum grace period before SIGKILL; a shell that
# traps TERM exits at once, as servers that shut down cleanly do (nginx, pause).
IGNORES_TERM = ["sleep", "3600"]
EXITS_ON_TERM = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def busybox_pod(name: str, command: list[str] = EXITS_ON_TERM) -> dict[str, Any]:
    """A one-container pod with terminationGracePeriodSeconds 0."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "app", "image": BUSYBOX, "command": list(command)}],
        },
    }


def container_count(pod: dict[str, Any]) -> int:
    """Containers the pod runs in Docker: its app containers plus the infra (pause) container."""
    return len(pod["spec"]["containers"]) + 1


# -- the agent ------------------------------------------------------------------------------------------


class AgentProcess:
    """One pykubelet process with its own node name, directories and read-only port."""

    def __init__(self, base: Path, node: str, extra_args: list[str] | None = None) -> None:
        self.base = base
        self.node = node
        self.manifests = base / "manifests"
        self.root = base / "root"
        self.logs_dir = base / "podlogs"
        self.log_file = base / "agent.log"
        self.port = free_port()
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.manifests.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "pykubelet",
            "--pod-manifest-path", str(self.manifests),
            "--root-dir", str(self.root),
            "--pod-logs-dir", str(self.logs_dir),
            "--hostname-override", self.node,
            "--read-only-port", str(self.port),
            "--address", "127.0.0.1",
            *self.extra_args,
        ]  # fmt: skip

    def spawn(self) -> None:
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log, cwd=REPO)

    def start(self, timeout: float = 30) -> AgentProcess:
        self.spawn()
        poll("the agent's /healthz", lambda: self.get_text("/healthz") == "ok", timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get_text(self, path: str, timeout: float = 5) -> str:
        with urllib.request.urlopen(self.url(path), timeout=timeout) as response:
            return response.read().decode()

    def get_json(self, path: str, timeout: float = 10) -> Any:
        import json

        return json.loads(self.get_text(path, timeout))

    def write(self, filename: str, pod: dict[str, Any]) -> None:
        """Atomically, as careful tools do: a dot-name (ignored by the agent), then a rename."""
        tmp = self.manifests / f".{filename}.tmp"
        tmp.write_text(yaml.safe_dump(pod))
        os.replace(tmp, self.manifests / filename)

    def remove(self, filename: str) -> None:
        (self.manifests / filename).unlink()

    def process(self) -> psutil.Process:
        return psutil.Process(self.pid)

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_file.read_text(errors="replace")[-chars:]
        return ""


def remove_node_containers(api: docker.APIClient, node: str) -> int:
    """Force-remove everything labelled with ``node`` (the bench's clean-up)."""
    removed = 0
    for c in api.containers(all=True, filters={"label": [f"{NODE_LABEL}={node}"]}):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            api.remove_container(c["Id"], force=True)
            removed += 1
    return removed


def cleanup_dir(path: Path) -> None:
    subprocess.run(["umount", "-R", str(path)], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Machine:
    cores: int
    memory_bytes: int
    kernel: str
    os: str
    docker_server: str
    python: str
    cpu_model: str
    loadavg_start: tuple[float, float, float]
    other_containers_running: int
    podman: str = ""
    notes: list[str] = field(default_factory=list)


def machine(api: docker.APIClient) -> Machine:
    os_name = ""
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return Machine(
        cores=os.cpu_count() or 0,
        memory_bytes=psutil.virtual_memory().total,
        kernel=os.uname().release,
        os=os_name,
        docker_server=str(api.version().get("Version", "?")),
        python=sys.version.split()[0],
        cpu_model=cpu_model,
        loadavg_start=os.getloadavg(),
        other_containers_running=len(api.containers()),
    )
