"""SIGKILL pykubelet at random moments while it starts and removes pods; it must converge after each restart.

Ten rounds, seeded. Each round writes and deletes a few manifests in a quick burst, kills the agent with
SIGKILL a random fraction of a second later (mid-create, mid-start, mid-kill, mid-teardown), sometimes
changes the directory while it is down, and restarts it. Then Docker must hold exactly one running infra
and app container for each manifest on disk (no duplicates, nothing in state "created"), nothing for the
files that are gone (no orphans, no pod directories left), /pods must list exactly those pods, and a pod
that was running before the round must still have its emptyDir with its content, not restarted.
"""

from __future__ import annotations

import itertools
import random
import signal
import time
from collections.abc import Callable

import pytest

from tests.fault.helpers import expected_pods, marker_lines, mismatches, pod, wait_converged
from tests.integration.conftest import Agent, wait_for

pytestmark = pytest.mark.integration

ROUNDS = 10
MAX_PODS = 6
CONVERGE_TIMEOUT = 60.0


def test_sigkill_during_a_burst_of_starts_and_removals_converges(
    agent_factory: Callable[..., Agent], seed: int
) -> None:
    rng = random.Random(seed)
    agent = agent_factory().start()
    numbers = itertools.count()
    files: list[str] = []

    def add() -> None:
        n = next(numbers)
        name = f"k{n}.yaml"
        agent.write(name, pod(f"crash-{n}", volume=rng.random() < 0.75))
        files.append(name)

    def delete() -> None:
        agent.remove(files.pop(rng.randrange(len(files))))

    interrupted = 0  # rounds whose kill caught the agent with work left to do
    for round_ in range(ROUNDS):
        context = f"round {round_ + 1}/{ROUNDS} (PYKUBELET_FAULT_SEED={seed})"
        before = expected_pods(agent)
        volume_pods = [uid for uid, exp in before.items() if exp.has_volume]
        wait_for(
            "every running pod to write its marker",
            lambda pods=tuple(volume_pods): all(marker_lines(agent, u) for u in pods),  # type: ignore[misc]
            10,
        )
        markers = {uid: marker_lines(agent, uid) for uid in volume_pods}
        for _ in range(rng.randint(2, 6)):
            if files and (len(files) >= MAX_PODS or rng.random() < 0.4):
                delete()
            else:
                add()
            time.sleep(rng.uniform(0, 0.1))
        time.sleep(rng.uniform(0, 0.8))  # the kill lands somewhere in the work this caused
        agent.stop(signal.SIGKILL)
        if mismatches(agent, served=False):
            interrupted += 1
        if rng.random() < 0.3:  # the directory changes while nobody watches
            if files and rng.random() < 0.5:
                delete()
            else:
                add()
        agent.start()
        wait_converged(agent, CONVERGE_TIMEOUT, context)
        after = expected_pods(agent)
        for uid, lines in markers.items():
            if uid in after:
                assert marker_lines(agent, uid) == lines, (
                    f"{context}: pod {after[uid].full_name} lost its emptyDir content or was restarted "
                    f"({lines} start(s) recorded before the kill, {marker_lines(agent, uid)} after)"
                )
    assert agent.alive()
    assert interrupted >= 1, "no kill caught the agent mid-work: the test did not test anything"


def test_a_container_left_created_by_a_kill_between_create_and_start_gets_running(
    agent_factory: Callable[..., Agent],
) -> None:
    agent = agent_factory().start()
    agent.write("p.yaml", pod("left-created", volume=False))
    wait_converged(agent, 60, "before the kill")
    agent.stop(signal.SIGKILL)
    # what a kill between "docker create" and "docker start" leaves: the same container, never started
    (app,) = [c for c in agent.containers() if c["Labels"]["io.kubernetes.container.name"] == "app"]
    info = agent.api.inspect_container(app["Id"])
    agent.api.remove_container(app["Id"], force=True)
    host = info["HostConfig"]
    agent.api.create_container(
        info["Config"]["Image"],
        name=info["Name"].lstrip("/"),
        labels=info["Config"]["Labels"],
        entrypoint=info["Config"]["Entrypoint"],
        command=info["Config"]["Cmd"],
        host_config=agent.api.create_host_config(
            network_mode=host["NetworkMode"], ipc_mode=host["IpcMode"], binds=host["Binds"]
        ),
    )
    agent.start()
    wait_converged(agent, 20, "after the restart")
