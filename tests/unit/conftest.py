"""Shared pieces of the unit tests that drive the agent through :class:`FakeRuntime` (no Docker).

Pods are built the way the file source builds them (``load_pod_document``: defaults, static identity,
validation), so the executor sees exactly what it sees in production. Back-offs run on a clock the test
moves (:class:`Clock`), so a crash loop's 10 s wait is asserted, then skipped, without sleeping.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

import pytest

from pykubelet.events import Recorder
from pykubelet.lifecycle.backoff import Backoff
from pykubelet.manifest import StaticPod, load_pod_document
from pykubelet.node import Node
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager, Settings

# The helpers that the parts of a split test module share (``*_support.py``) assert too: pytest rewrites
# them as it does test modules, so that a failing helper's assertion shows its values.
pytest.register_assert_rewrite(
    "tests.unit.kubectl_support",
    "tests.unit.manifest_parse_support",
    "tests.unit.manifest_validate_support",
    "tests.unit.server_routes_support",
    "tests.unit.stats_support",
    "tests.unit.url_source_support",
)

NODE = Node(name="node-a", host_ip="10.0.0.1", memory_capacity=8 * 2**30, cpu_count=2)
PAUSE = "registry.k8s.io/pause:3.10"
TIMEOUT = 2.0  # the longest any wait for the agent's tasks may take


def make_pod(
    name: str = "web",
    containers: list[dict[str, Any]] | None = None,
    *,
    init: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> StaticPod:
    """A static pod named ``<name>-node-a`` from ``/etc/kubernetes/manifests/<name>.yaml``.

    ``containers`` default to one busybox ``app`` container; ``spec`` adds pod spec fields
    (``restartPolicy="Never"``, ``terminationGracePeriodSeconds=5`` ...).
    """
    body: dict[str, Any] = {
        "containers": containers or [{"name": "app", "image": "busybox:1.35", "command": ["sleep", "3600"]}],
        **spec,
    }
    if init:
        body["initContainers"] = init
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": copy.deepcopy(body)}
    return load_pod_document(document, f"/etc/kubernetes/manifests/{name}.yaml", NODE.name)


async def until(what: str, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait (bounded) until ``condition()`` holds, yielding to the workers meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.005)


def reasons(recorder: Recorder) -> list[str]:
    """The reasons of the events recorded so far, oldest first."""
    return [event["reason"] for event in recorder.list()]


class Clock:
    """Wall-clock time plus an offset the test moves forward (``clock.advance(11)``)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeRuntime:
    return FakeRuntime(NODE.name, clock=clock)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(NODE.name)


@pytest.fixture
def manager(fake: FakeRuntime, recorder: Recorder, clock: Clock, tmp_path: Any) -> RuntimeManager:
    """The executor over the fake runtime, with its pod and log directories under ``tmp_path``."""
    settings = Settings(str(tmp_path / "root"), str(tmp_path / "logs"), PAUSE)
    runtime_manager = RuntimeManager(fake, recorder, NODE, settings)
    runtime_manager.backoff = Backoff(clock=clock)
    runtime_manager.images.backoff = Backoff(clock=clock)
    return runtime_manager
