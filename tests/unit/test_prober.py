"""The prober against FakeRuntime's exec: liveness failures get the container killed by the next sync,
readiness flips a container's ``ready``, startup holds the other probes back and kills on failure.

Exec probes run ``exec_sync`` in the fake, whose answer per command the test sets. Every probe here
decides on its first outcome (thresholds of 1, no initial delay), so no test waits out a period.
The kill callback is the kubelet's wiring (``Kubelet._kill_for_probe``): mark the container in
``RuntimeManager.liveness_failed`` and nudge the pod's worker; the sync then does the killing.
The handlers themselves (httpGet, tcpSocket, exec, sleep) are tested last, against loopback servers.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from pykubelet.events import Recorder
from pykubelet.lifecycle import actions
from pykubelet.lifecycle.prober import ProbeManager
from pykubelet.manifest import StaticPod
from pykubelet.runtime.api import Container, SandboxConfig
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import make_pod, reasons, until

HEALTHY = ("cat", "/tmp/healthy")
READY = ("cat", "/tmp/ready")


def probe(command: tuple[str, ...], **fields: Any) -> dict[str, Any]:
    return {"exec": {"command": list(command)}, "periodSeconds": 1, "failureThreshold": 1, **fields}


def probed_pod(**probes: dict[str, Any]) -> StaticPod:
    return make_pod(
        containers=[{"name": "app", "image": "busybox:1.35", "command": ["sleep", "3600"], **probes}]
    )


@dataclass
class Wiring:
    """What the kubelet hands the prober: a nudge on change, and a kill that marks and nudges."""

    manager: RuntimeManager
    changed: list[str] = field(default_factory=list)
    nudged: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    async def kill(self, pod: StaticPod, container: Container, kind: str, grace: int | None) -> None:
        self.kinds.append(kind)
        self.manager.liveness_failed[container.id] = grace
        self.nudged.append(pod.uid)


@pytest.fixture
def wiring(manager: RuntimeManager) -> Wiring:
    return Wiring(manager)


@pytest.fixture
async def prober(fake: FakeRuntime, recorder: Recorder, wiring: Wiring) -> AsyncIterator[ProbeManager]:
    manager = ProbeManager(fake, recorder, wiring.changed.append, wiring.kill)
    started: list[str] = []
    original = manager.sync

    def sync(pod: StaticPod, pod_ip: str, containers: list[Container]) -> None:
        started.append(pod.uid)
        original(pod, pod_ip, containers)

    manager.sync = sync  # type: ignore[method-assign]  # remember the pods, to stop their workers after
    yield manager
    for uid in started:
        manager.stop_pod(uid)


async def running(manager: RuntimeManager, fake: FakeRuntime, pod: StaticPod) -> list[Container]:
    await manager.sync_pod(pod)
    return await fake.list_pod_containers(pod.uid)


async def test_a_failing_liveness_probe_marks_the_container_and_the_next_sync_restarts_it(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, prober: ProbeManager, wiring: Wiring
) -> None:
    fake.exec_results[HEALTHY] = (1, "cat: can't open '/tmp/healthy': No such file or directory")
    pod = probed_pod(livenessProbe=probe(HEALTHY, terminationGracePeriodSeconds=3))
    containers = await running(manager, fake, pod)
    app = next(c for c in containers if c.name == "app")
    prober.sync(pod, "10.88.0.2", containers)
    await until("the worker nudged", lambda: wiring.nudged == [pod.uid])
    assert wiring.kinds == ["Liveness"] and manager.liveness_failed == {app.id: 3}
    assert "Unhealthy" in reasons(recorder) and "Killing" in reasons(recorder)
    assert b'prober_probe_total{container="app"' in prober.render()
    await manager.sync_pod(pod)  # the nudged sync kills it, with the probe's grace period
    assert fake.args("stop_container") == [(app.id, 3)] and manager.liveness_failed == {}
    await manager.sync_pod(pod)
    restarted = fake.find("app")
    assert restarted.running and restarted.attempt == 1
    fake.exec_results[HEALTHY] = (0, "")
    prober.sync(pod, "10.88.0.2", await fake.list_pod_containers(pod.uid))  # fresh workers for the new one
    assert prober.flags(restarted) == (True, True)


async def test_a_passing_liveness_probe_leaves_the_container_alone(
    fake: FakeRuntime, manager: RuntimeManager, prober: ProbeManager, wiring: Wiring
) -> None:
    pod = probed_pod(livenessProbe=probe(HEALTHY))
    prober.sync(pod, "10.88.0.2", await running(manager, fake, pod))
    await until("one liveness probe", lambda: len(fake.args("exec_sync")) == 1)
    assert wiring.nudged == [] and manager.liveness_failed == {}


async def test_readiness_flips_the_container_ready(
    fake: FakeRuntime, manager: RuntimeManager, prober: ProbeManager, wiring: Wiring
) -> None:
    pod = probed_pod(readinessProbe=probe(READY))
    containers = await running(manager, fake, pod)
    app = next(c for c in containers if c.name == "app")
    prober.sync(pod, "10.88.0.2", containers)
    assert prober.flags(app) == (True, False)  # not ready until the first probe passes
    await until("ready", lambda: prober.flags(app) == (True, True))
    assert wiring.changed == [pod.uid] and wiring.nudged == []


async def test_a_failing_readiness_probe_keeps_the_container_unready_without_killing_it(
    fake: FakeRuntime, manager: RuntimeManager, prober: ProbeManager, wiring: Wiring
) -> None:
    fake.exec_results[READY] = (1, "not yet")
    pod = probed_pod(readinessProbe=probe(READY))
    containers = await running(manager, fake, pod)
    app = next(c for c in containers if c.name == "app")
    prober.sync(pod, "10.88.0.2", containers)
    await until("the result known", lambda: wiring.changed == [pod.uid])
    assert prober.flags(app) == (True, False) and wiring.nudged == []


async def test_startup_holds_readiness_back_and_a_failed_startup_kills(
    fake: FakeRuntime, manager: RuntimeManager, prober: ProbeManager, wiring: Wiring
) -> None:
    fake.exec_results[HEALTHY] = (1, "still starting")
    pod = probed_pod(startupProbe=probe(HEALTHY), readinessProbe=probe(READY))
    containers = await running(manager, fake, pod)
    app = next(c for c in containers if c.name == "app")
    prober.sync(pod, "10.88.0.2", containers)
    assert prober.flags(app) == (False, False)
    await until("the startup failure acted on", lambda: wiring.kinds == ["Startup"])
    assert READY not in [args[1] for args in fake.args("exec_sync")]  # readiness never ran
    assert app.id in manager.liveness_failed


async def test_containers_that_are_gone_lose_their_probe_workers(
    fake: FakeRuntime, manager: RuntimeManager, prober: ProbeManager
) -> None:
    pod = probed_pod(readinessProbe=probe(READY))
    containers = await running(manager, fake, pod)
    app = next(c for c in containers if c.name == "app")
    prober.sync(pod, "10.88.0.2", containers)
    await until("ready", lambda: prober.flags(app) == (True, True))
    fake.exit(app.id, 0)
    prober.sync(pod, "10.88.0.2", await fake.list_pod_containers(pod.uid))
    assert prober.flags(app) == (True, True)  # no worker left: a running record counts as ready
    assert prober.flags(fake.find("app")) == (False, False)  # the exited one is neither


# -- the handlers probes and hooks share (lifecycle/actions.py), against loopback servers -------------------


@pytest.fixture
async def http_port() -> AsyncIterator[int]:
    """A loopback HTTP server: ``/ok`` answers 200, anything else 500."""

    async def handle(request: web.Request) -> web.Response:
        status = 200 if request.path == "/ok" else 500
        return web.Response(status=status, text=request.headers.get("User-Agent", ""))

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def run_action(
    action: dict[str, Any], fake: FakeRuntime, container: dict[str, Any] | None = None
) -> Any:
    return await actions.run(
        action,
        runtime=fake,
        container_id="none",
        container=container or {"name": "app"},
        pod_ip="127.0.0.1",
        timeout=2.0,
    )


async def test_http_get_passes_on_2xx_and_names_the_status_otherwise(
    fake: FakeRuntime, http_port: int
) -> None:
    ok = await run_action({"httpGet": {"path": "ok", "port": http_port}}, fake)
    assert ok.ok and ok.message.startswith("kube-probe/")
    failed = await run_action({"httpGet": {"path": "/broken", "port": http_port}}, fake)
    assert failed == actions.Outcome(False, "HTTP probe failed with statuscode: 500")


async def test_a_named_port_is_found_among_the_container_ports(fake: FakeRuntime, http_port: int) -> None:
    container = {"name": "app", "ports": [{"name": "web", "containerPort": http_port}]}
    assert (await run_action({"httpGet": {"path": "/ok", "port": "web"}}, fake, container)).ok
    missing = await run_action({"httpGet": {"path": "/ok", "port": "metrics"}}, fake, container)
    assert missing == actions.Outcome(False, "couldn't find port: metrics in container app")


async def test_tcp_socket_passes_when_something_listens_and_says_refused_otherwise(
    fake: FakeRuntime, http_port: int
) -> None:
    assert (await run_action({"tcpSocket": {"port": str(http_port)}}, fake)).ok
    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens on it
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = await run_action({"tcpSocket": {"port": port}}, fake)
    assert refused == actions.Outcome(False, f"dial tcp 127.0.0.1:{port}: connect: connection refused")
    http_refused = await run_action({"httpGet": {"port": port}}, fake)
    assert not http_refused.ok and "connect: connection refused" in http_refused.message


async def test_exec_failures_timeouts_and_unknown_handlers(fake: FakeRuntime) -> None:
    assert (await run_action({"exec": {"command": ["true"]}}, fake)).message.startswith("exec failed:")
    sandbox = await fake.run_pod_sandbox(
        SandboxConfig("p", "default", "0" * 32, 0, "registry.k8s.io/pause:3.10", {}, {})
    )
    fake.exec_results[("false",)] = (1, "")
    failed = await actions.run(
        {"exec": {"command": ["false"]}},
        runtime=fake,
        container_id=sandbox.id,
        container={},
        pod_ip="",
        timeout=1,
    )
    assert failed == actions.Outcome(False, "command ['false'] exited with 1")
    fake.exec_delay = 5.0
    timed_out = await actions.run(
        {"exec": {"command": ["sleep", "9"]}},
        runtime=fake,
        container_id=sandbox.id,
        container={},
        pod_ip="",
        timeout=0.01,
    )
    assert timed_out == actions.Outcome(False, "command ['sleep', '9'] timed out")
    assert await run_action({"sleep": {"seconds": 0}}, fake) == actions.Outcome(True)
    assert not (await run_action({"bogus": {}}, fake)).ok
