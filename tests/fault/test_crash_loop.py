"""A crash-looping container: CrashLoopBackOff restarts it at once, then 10 s, 20 s, 40 s after each exit.

The intervals are Docker's own times (the ``die`` event of one instance to the ``start`` event of the
next), from a live event stream opened before the manifest is written. The stream sees every instance,
even one pykubelet garbage-collects within a second (the first goes once its immediate successor has
died too), so nothing depends on the test polling fast enough. It is a live stream, not a ``since``
query afterwards: the engine keeps only its last 256 events, and a shared engine (Molecule's ``docker
exec`` calls beside this test) can push the early attempts out in the ~75 s the loop takes.
Meanwhile the agent's CPU time stays a small fraction of the elapsed time: waiting out a back-off costs
nothing.
"""

from __future__ import annotations

import contextlib
import threading
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


class StartsAndExits:
    """Each instance's start and exit time (seconds), by attempt number, from a live Docker event stream."""

    def __init__(self, agent: Agent) -> None:
        self.started: dict[int, float] = {}
        self.finished: dict[int, float] = {}
        self._stream = agent.api.events(
            decode=True,
            filters={
                "type": "container",
                "event": ["start", "die"],
                "label": [
                    f"io.kubernetes.pod.name=crashloop-{agent.node}",
                    "io.kubernetes.container.name=app",
                ],
            },
        )
        self._thread = threading.Thread(target=self._read, name="crashloop-events", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # closing the stream ends the loop
            for event in self._stream:
                attempt = int(event["Actor"]["Attributes"]["name"].rsplit("_", 1)[1])
                action = event.get("Action", event.get("status"))
                (self.started if action == "start" else self.finished)[attempt] = event["timeNano"] / 1e9

    def close(self) -> tuple[dict[int, float], dict[int, float]]:
        time.sleep(0.5)  # the last die reaches the stream a moment after pykubelet counts its restart
        self._stream.close()
        self._thread.join(timeout=5)
        return dict(self.started), dict(self.finished)


def test_crash_loop_backoff_follows_10_20_40_seconds_and_costs_little_cpu(
    agent_factory: Callable[..., Agent],
) -> None:
    agent = agent_factory().start()
    assert agent.proc is not None
    process = psutil.Process(agent.proc.pid)
    cpu_start, wall_start = sum(process.cpu_times()[:2]), time.monotonic()
    events = StartsAndExits(agent)
    agent.write("crashloop.yaml", pod("crashloop", volume=False, command=["sh", "-c", "exit 1"]))

    deadline = time.monotonic() + 75 + sum(EXPECTED_GAPS)
    while time.monotonic() < deadline and _restarts(agent) < len(EXPECTED_GAPS):
        time.sleep(0.5)
    cpu_used, elapsed = sum(process.cpu_times()[:2]) - cpu_start, time.monotonic() - wall_start

    started, finished = events.close()
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
