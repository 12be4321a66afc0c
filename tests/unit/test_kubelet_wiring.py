"""The Kubelet's wiring, end to end without Docker: ``Kubelet.run`` over :class:`FakeRuntime`.

Each test writes manifests into a temporary directory and runs the real agent (file source with
inotify, PodConfig, admission, pod workers, PLEG, status manager, housekeeping, stats collector, runtime
state, read-only port on 127.0.0.1) with the runtime factory swapped for the fake. What it asserts is
what a user sees: the pod's containers run in the runtime, ``/pods`` shows it Running, a removed file
stops and removes everything, a pod that does not fit is Failed with the kubelet's reason, and
``/healthz`` says when the runtime is down. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from pykubelet import housekeeping, kubelet, statscollector
from pykubelet.kubelet import Kubelet
from pykubelet.options import Options
from pykubelet.runtime.fake import FakeRuntime
from tests.unit.conftest import until

NODE = "node-a"
WAIT = 5.0  # the agent's own loops (inotify, workers) under a loaded machine


def manifest(name: str, **spec: Any) -> str:
    """A busybox pod named ``name`` as YAML (``spec`` adds or replaces pod spec fields)."""
    body = {
        "containers": [{"name": "app", "image": "busybox:1.35", "command": ["sleep", "3600"]}],
        **spec,
    }
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body})


def put(path: Path, text: str) -> None:
    """Write a manifest whole (a hidden name, then a rename), as a careful writer does.

    ``write_text`` truncates first: inotify can show the agent the empty file in between, which is
    one more (correct) FailedValidation event and a flaky count in any test that reads the events.
    """
    hidden = path.with_name(f".{path.name}")
    hidden.write_text(text)
    hidden.replace(path)


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now (the read-only port binds it next)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Agent:
    kubelet: Kubelet
    fake: FakeRuntime
    manifests: Path
    port: int

    def desired_uid(self, name: str) -> str:
        return next(uid for uid, pod in self.kubelet.config.desired.items() if pod.name == f"{name}-{NODE}")

    def running(self, uid: str) -> list[str]:
        """The names of the pod's running containers in the runtime (``POD`` for the sandbox)."""
        return sorted(c.name for c in self.fake.pod(uid) if c.running)

    def phase(self, name: str) -> str | None:
        items = self.kubelet.pod_list()["items"]
        return next(
            (i.get("status", {}).get("phase") for i in items if i["metadata"]["name"] == f"{name}-{NODE}"),
            None,
        )

    async def get(self, path: str) -> tuple[int, str, bytes]:
        """GET ``path`` from the read-only port on loopback: (status, content type, body)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}{path}") as response,
        ):
            return response.status, response.content_type, await response.read()


Start = Callable[..., Awaitable[Agent]]


@pytest.fixture
async def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Start]:
    """Start ``Kubelet.run`` over a fresh FakeRuntime; the fixture stops it and checks it stopped cleanly."""
    fake = FakeRuntime(NODE)
    monkeypatch.setattr(kubelet, "new_runtime", lambda endpoint, node: fake)
    monkeypatch.setattr(housekeeping, "HOUSEKEEPING_PERIOD", 0.05)
    monkeypatch.setattr(statscollector, "STATS_PERIOD", 0.05)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    stop = asyncio.Event()
    running: list[asyncio.Task[None]] = []

    async def _start(read_only_port: bool = True, **options: Any) -> Agent:
        port = free_port() if read_only_port else 0
        agent = Kubelet(
            Options(
                pod_manifest_path=str(manifests),
                hostname_override=NODE,
                node_ip="10.0.0.1",
                root_dir=str(tmp_path / "root"),
                pod_logs_dir=str(tmp_path / "logs"),
                read_only_port=port,
                address="127.0.0.1",
                **options,
            )
        )
        running.append(asyncio.create_task(agent.run(stop)))
        await until(
            "the runtime's first health check",
            lambda: agent.runtime_health.ok and "check_health" in fake.ops(),
            WAIT,
        )
        return Agent(agent, fake, manifests, port)

    yield _start
    stop.set()
    for task in running:
        await asyncio.wait_for(task, WAIT)
    assert not running or fake.closed, "Kubelet.run must close the runtime when it stops"


async def test_a_manifest_runs_shows_in_pods_and_its_removal_stops_and_removes_the_pod(start: Start) -> None:
    agent = await start()
    put(agent.manifests / "web.yaml", manifest("web"))

    await until("the pod to be desired", lambda: agent.kubelet.config.desired != {}, WAIT)
    uid = agent.desired_uid("web")
    await until("the sandbox and app to run", lambda: agent.running(uid) == ["POD", "app"], WAIT)
    await until("the pod to be Running in /pods", lambda: agent.phase("web") == "Running", WAIT)

    status, content_type, body = await agent.get("/pods")
    assert (status, content_type) == (200, "application/json")
    [item] = json.loads(body)["items"]
    assert item["metadata"]["uid"] == uid
    assert item["status"]["podIP"].startswith("10.88.0.")
    assert [c["name"] for c in item["status"]["containerStatuses"]] == ["app"]
    assert item["status"]["containerStatuses"][0]["containerID"].startswith("fake://")

    detail = agent.kubelet.pod_detail(uid)
    assert detail.source == str(agent.manifests / "web.yaml") and detail.sandbox_error is None
    assert [r["file"] for r in agent.kubelet.manifest_report()] == [str(agent.manifests / "web.yaml")]
    assert "Started" in {e["reason"] for e in agent.kubelet.events()}

    (agent.manifests / "web.yaml").unlink()
    await until("the pod's containers to be removed", lambda: agent.fake.pod(uid) == [], WAIT)
    await until("/pods to be empty", lambda: agent.kubelet.pod_list()["items"] == [], WAIT)
    await until("the status to be forgotten", lambda: uid not in agent.kubelet.status.statuses, WAIT)


async def test_the_read_only_port_serves_health_metrics_spec_and_stats_from_the_agent(start: Start) -> None:
    agent = await start()
    put(agent.manifests / "web.yaml", manifest("web"))
    await until("the pod to be Running", lambda: agent.phase("web") == "Running", WAIT)

    status, _, body = await agent.get("/healthz?verbose")
    assert status == 200
    assert body.decode().splitlines() == [
        "[+]ping ok",
        "[+]log ok",
        "[+]syncloop ok",
        "[+]runtime ok",
        "healthz check passed",
    ]

    status, content_type, body = await agent.get("/metrics")
    text = body.decode()
    assert (status, content_type) == (200, "text/plain")
    assert "kubelet_running_pods 1.0" in text
    assert "kubelet_desired_pods" in text and 'static="true"} 1.0' in text
    assert "pykubelet_runtime_up 1.0" in text
    assert 'kubelet_runtime_operations_total{operation_type="run_pod_sandbox"} 1.0' in text
    assert 'kubelet_pod_worker_duration_seconds_count{operation_type="create"} 1.0' in text
    assert "kubelet_pod_start_duration_seconds_count 1.0" in text

    status, _, body = await agent.get("/spec/")
    assert status == 200 and json.loads(body)["num_cores"] >= 1

    # The stats collector has run (its period is shortened) and knows the desired pod.
    await until(
        "a stats summary with the pod",
        lambda: [p["podRef"]["name"] for p in agent.kubelet.stats.summary["pods"]] == [f"web-{NODE}"],
        WAIT,
    )
    status, _, body = await agent.get("/stats/summary")
    assert status == 200 and json.loads(body)["node"]["nodeName"] == NODE

    status, content_type, body = await agent.get("/metrics/probes")
    assert (status, content_type) == (200, "text/plain")
    assert b"# TYPE prober_probe_total counter" in body


async def test_a_runtime_that_goes_down_fails_healthz_and_the_runtime_gauge(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kubelet.RuntimeState, "run", _fast_ping)
    agent = await start()
    agent.fake.set_down("connection refused")
    await until("the runtime to be seen down", lambda: not agent.kubelet.runtime_state()[0], WAIT)

    await until(
        "the ping's reason in /healthz",
        lambda: (
            dict(agent.kubelet.health_checks())["runtime"]
            == "container runtime is down: cannot reach fake://: connection refused"
        ),
        WAIT,
    )
    status, _, body = await agent.get("/healthz")
    assert status == 500 and "[-]runtime failed: container runtime is down" in body.decode()
    _, _, metrics = await agent.get("/metrics")
    assert "pykubelet_runtime_up 0.0" in metrics.decode()

    agent.fake.set_up()
    await until("the runtime to be seen up", lambda: agent.kubelet.runtime_state()[0], WAIT)
    status, _, body = await agent.get("/healthz")
    assert (status, body) == (200, b"ok")


async def test_a_broken_event_stream_is_reported_once_in_healthz(start: Start) -> None:
    agent = await start(read_only_port=False)
    agent.fake.set_down("connection refused")
    await until("the PLEG to see the stream break", lambda: not agent.kubelet.runtime_state()[0], WAIT)
    reason = dict(agent.kubelet.health_checks())["runtime"] or ""
    assert reason.count("container runtime is down") == 1, reason


async def _fast_ping(self: Any) -> None:
    """RuntimeState.run with a 10 ms period, so a test sees the runtime go down and come back quickly."""
    while True:
        self.set(*await self._runtime.check_health(1.0))
        await asyncio.sleep(0.01)


async def test_a_pod_that_does_not_fit_is_failed_without_touching_the_runtime(start: Start) -> None:
    agent = await start(read_only_port=False)
    put(agent.manifests / "big.yaml", manifest("big", nodeSelector={"disktype": "ssd"}))
    await until("the pod to be Failed", lambda: agent.phase("big") == "Failed", WAIT)
    [item] = agent.kubelet.pod_list()["items"]
    assert item["status"]["reason"] == "NodeAffinity"
    assert item["status"]["message"].startswith("Pod was rejected")
    assert agent.fake.ops("run_pod_sandbox") == []
    assert [e["reason"] for e in agent.kubelet.events() if e["type"] == "Warning"] == ["NodeAffinity"]


async def test_node_labels_let_the_same_pod_in(start: Start) -> None:
    agent = await start(read_only_port=False, node_labels="disktype=ssd")
    put(agent.manifests / "big.yaml", manifest("big", nodeSelector={"disktype": "ssd"}))
    await until("the pod to be Running", lambda: agent.phase("big") == "Running", WAIT)


async def test_an_invalid_manifest_is_reported_and_counted_without_a_pod(start: Start) -> None:
    agent = await start(read_only_port=False)
    path = agent.manifests / "bad.yaml"
    put(path, "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: []}\n")
    await until("the manifest error", lambda: agent.kubelet.config.errors != {}, WAIT)
    [entry] = agent.kubelet.manifest_report()
    assert entry["file"] == str(path) and "spec.containers" in json.dumps(entry["fields"])
    assert agent.kubelet.pod_list()["items"] == []
    assert f'pykubelet_manifest_errors{{file="{path}"}} 1.0' in agent.kubelet.metrics_text().decode()


async def test_each_failed_validation_counts_in_pykubelet_manifest_rejections_total(start: Start) -> None:
    """A rejection counts once per change of the file (as its FailedValidation event), duplicates too."""
    agent = await start(read_only_port=False)
    bad, second = agent.manifests / "bad.yaml", agent.manifests / "web2.yaml"

    def rejections(path: Path) -> str | None:
        prefix = f'pykubelet_manifest_rejections_total{{file="{path}"}} '
        lines = agent.kubelet.metrics_text().decode().splitlines()
        return next((line.removeprefix(prefix) for line in lines if line.startswith(prefix)), None)

    put(bad, "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: []}\n")
    await until("the first rejection counted", lambda: rejections(bad) == "1.0", WAIT)
    put(bad, "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: 7}\n")
    await until("the changed error counted again", lambda: rejections(bad) == "2.0", WAIT)

    put(agent.manifests / "web.yaml", manifest("web"))
    await until("the first web pod desired", lambda: agent.kubelet.config.desired != {}, WAIT)
    put(second, manifest("web"))  # sorts after web.yaml: refused as a duplicate name
    await until("the duplicate counted", lambda: rejections(second) == "1.0", WAIT)
    assert rejections(agent.manifests / "web.yaml") is None


async def test_an_orphan_left_in_the_runtime_by_a_previous_agent_is_removed(start: Start) -> None:
    agent = await start(read_only_port=False)
    put(agent.manifests / "web.yaml", manifest("web"))
    await until("the pod to run", lambda: agent.kubelet.config.desired != {}, WAIT)
    uid = agent.desired_uid("web")
    await until("the sandbox and app to run", lambda: agent.running(uid) == ["POD", "app"], WAIT)

    # As if the file had gone while no agent ran: the runtime holds the pod, nothing wants it.
    agent.kubelet.config.update("file", {})
    await until("the orphan's containers to be removed", lambda: agent.fake.pod(uid) == [], WAIT)


async def test_a_sync_that_fails_still_shows_the_pod_in_pods(start: Start) -> None:
    agent = await start(read_only_port=False)
    agent.fake.fail_sandbox = "no space left on device"
    put(agent.manifests / "web.yaml", manifest("web"))
    await until("the pod to be desired", lambda: agent.kubelet.config.desired != {}, WAIT)
    uid = agent.desired_uid("web")
    await until(
        "the sandbox error to be known",
        lambda: agent.kubelet.pod_detail(uid).sandbox_error is not None,
        WAIT,
    )
    reason, message = agent.kubelet.pod_detail(uid).sandbox_error or ("", "")
    assert (reason, message) == ("ContainerCreating", "no space left on device")
    await until("a Pending status in /pods", lambda: agent.phase("web") == "Pending", WAIT)


async def test_a_container_gone_without_an_event_is_restarted_within_one_sync_period(start: Start) -> None:
    """--sync-frequency drives every pod worker's resync: with no event (and the PLEG's relist 10 s away),
    the worker's periodic sync alone finds the exited container and restarts it."""
    agent = await start(read_only_port=False, sync_frequency=0.5)
    put(agent.manifests / "quiet.yaml", manifest("quiet"))
    await until("the pod to run", lambda: agent.phase("quiet") == "Running", WAIT)
    uid = agent.desired_uid("quiet")
    agent.fake.exit("app", 1, event=False)
    await until(
        "the container restarted by the resync",
        lambda: any(c.name == "app" and c.running and c.attempt == 1 for c in agent.fake.pod(uid)),
        2.0,  # four sync periods; the PLEG's relist (10 s) cannot be what finds it
    )
