"""A crash-looping container: CrashLoopBackOff restarts it at once, then 10 s, 20 s, 40 s after each exit.

The intervals are Docker's own times (the ``die`` event of one instance to the ``start`` event of the
next), read from Docker's event log once the loop has gone round four times. The log keeps every
instance's events, even after pykubelet has garbage-collected the instance (the first one goes within a
second, once its immediate successor has died too), so nothing depends on the test polling fast enough.
Meanwhile the agent's CPU time stays a small fraction of the elapsed time: waiting out a back-off costs
nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil
import pytest

from tests.fault.helpers import pod
from tests.integration.conftest import Agent

pytestmark = pytest.mark.integration

EXPECTED_GAPS = (0.0, 10.0, 20.0, 40.0)  # before restarts 1, 2, 3, 4
TOLERANCE = 0.10
IMMEDIATE = 2.0  # "at once": the first restart waits for no back-off
MAX_CPU_FRACTION = 0.20


def _restarts(agent: Agent) -> int:
    status = agent.pod("crashloop")
    statuses = (status or {}).get("status", {}).get("containerStatuses") or [{}]
    return int(statuses[0].get("restartCount", 0))


def _starts_and_exits(agent: Agent, since: int) -> tuple[dict[int, float], dict[int, float]]:
    """Each instance's start and exit time (seconds), by attempt number, from Docker's event log."""
    events = agent.api.events(
        since=since,
        until=int(time.time()) + 1,
        decode=True,
        filters={
            "type": "container",
            "event": ["start", "die"],
            "label": [f"io.kubernetes.pod.name=crashloop-{agent.node}", "io.kubernetes.container.name=app"],
        },
    )
    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    for event in events:
        attempt = int(event["Actor"]["Attributes"]["name"].rsplit("_", 1)[1])
        action = event.get("Action", event.get("status"))
        (started if action == "start" else finished)[attempt] = event["timeNano"] / 1e9
    return started, finished


def test_crash_loop_backoff_follows_10_20_40_seconds_and_costs_little_cpu(
    agent_factory: Callable[..., Agent],
) -> None:
    agent = agent_factory().start()
    assert agent.proc is not None
    process = psutil.Process(agent.proc.pid)
    cpu_start, wall_start = sum(process.cpu_times()[:2]), time.monotonic()
    wall_clock_start = int(time.time()) - 1
    agent.write("crashloop.yaml", pod("crashloop", volume=False, command=["sh", "-c", "exit 1"]))

    deadline = time.monotonic() + 75 + sum(EXPECTED_GAPS)
    while time.monotonic() < deadline and _restarts(agent) < len(EXPECTED_GAPS):
        time.sleep(0.5)
    cpu_used, elapsed = sum(process.cpu_times()[:2]) - cpu_start, time.monotonic() - wall_start

    started, finished = _starts_and_exits(agent, since=wall_clock_start)
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
