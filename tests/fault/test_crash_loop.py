"""A crash-looping container: CrashLoopBackOff restarts it at once, then 10 s, 20 s, 40 s after each exit.

The intervals are Docker's own times (``State.FinishedAt`` of one instance to ``State.StartedAt`` of the
next), not the test's wall clock. pykubelet garbage-collects all but the two newest instances, so each
instance is inspected while it still exists (every 0.3 s; instances live at least 10 s). Meanwhile the
agent's CPU time stays a small fraction of the elapsed time: waiting out a back-off costs nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime

import docker
import psutil
import pytest

from tests.fault.helpers import pod
from tests.integration.conftest import Agent

pytestmark = pytest.mark.integration

EXPECTED_GAPS = (0.0, 10.0, 20.0, 40.0)  # before restarts 1, 2, 3, 4
TOLERANCE = 0.10
IMMEDIATE = 2.0  # "at once": the first restart waits for no back-off
MAX_CPU_FRACTION = 0.20


def _docker_time(value: str) -> float:
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float(f"0.{frac or 0}")


def test_crash_loop_backoff_follows_10_20_40_seconds_and_costs_little_cpu(
    agent_factory: Callable[..., Agent],
) -> None:
    agent = agent_factory().start()
    assert agent.proc is not None
    process = psutil.Process(agent.proc.pid)
    cpu_start, wall_start = sum(process.cpu_times()[:2]), time.monotonic()
    agent.write("crashloop.yaml", pod("crashloop", volume=False, command=["sh", "-c", "exit 1"]))

    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    deadline = time.monotonic() + 75 + sum(EXPECTED_GAPS)
    while time.monotonic() < deadline and len(started) <= len(EXPECTED_GAPS):
        for summary in agent.containers("crashloop", all=True):
            labels = summary["Labels"]
            if labels.get("io.kubernetes.container.name") != "app":
                continue
            attempt = int(summary["Names"][0].rsplit("_", 1)[1])
            if attempt in finished:
                continue
            with contextlib.suppress(docker.errors.NotFound):
                state = agent.api.inspect_container(summary["Id"])["State"]
                if not state["StartedAt"].startswith("0001"):
                    started[attempt] = _docker_time(state["StartedAt"])
                if not state["Running"] and not state["FinishedAt"].startswith("0001"):
                    finished[attempt] = _docker_time(state["FinishedAt"])
        time.sleep(0.3)
    cpu_used, elapsed = sum(process.cpu_times()[:2]) - cpu_start, time.monotonic() - wall_start

    gaps = [
        started[n + 1] - finished[n] for n in range(len(EXPECTED_GAPS)) if n in finished and n + 1 in started
    ]
    assert len(gaps) == len(EXPECTED_GAPS), f"saw starts {sorted(started)} and exits {sorted(finished)} only"
    assert gaps[0] < IMMEDIATE, f"the first restart should be immediate, took {gaps[0]:.2f}s (gaps {gaps})"
    for n, (gap, expected) in enumerate(zip(gaps[1:], EXPECTED_GAPS[1:], strict=True), start=2):
        assert abs(gap - expected) <= TOLERANCE * expected, (
            f"restart {n} came {gap:.2f}s after the exit, expected {expected:g}s within 10% (all gaps: "
            + ", ".join(f"{g:.2f}" for g in gaps)
            + ")"
        )
    assert cpu_used / elapsed < MAX_CPU_FRACTION, (
        f"pykubelet used {cpu_used:.1f}s of CPU in {elapsed:.0f}s of a crash loop "
        f"({100 * cpu_used / elapsed:.1f}%)"
    )
    status = agent.pod("crashloop")
    assert status is not None
    (container,) = status["status"]["containerStatuses"]
    assert container["restartCount"] >= len(EXPECTED_GAPS)
