"""Fault tests: the real pykubelet process against a real Docker engine, under crashes and bad disks.

They reuse the integration harness (``tests/integration/conftest.py``: :class:`Agent`, ``wait_for``).
Every test is bounded in time and count, uses its own node name, and removes what it made. Random
sequences are seeded (``PYKUBELET_FAULT_SEED`` overrides the seed; a failure prints the seed in use).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from tests.fault.helpers import IMAGES
from tests.integration.conftest import Agent, connect_docker

FAULT_SEED = int(os.environ.get("PYKUBELET_FAULT_SEED", "20261127"))


@pytest.fixture(scope="session")
def docker_api() -> docker.APIClient:
    return connect_docker(IMAGES)


@pytest.fixture
def seed() -> int:
    return FAULT_SEED


@pytest.fixture
def agent_factory(
    tmp_path: Path, docker_api: docker.APIClient, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Agent]]:
    """Agents with their own directories; on failure their logs are printed; always cleaned up."""
    agents: list[Agent] = []

    def make(
        extra_args: list[str] | None = None, base: Path | None = None, api: docker.APIClient | None = None
    ) -> Agent:
        agent = Agent(base or tmp_path / f"agent{len(agents)}", api or docker_api, extra_args)
        agents.append(agent)
        return agent

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for agent in agents:
        if failed and agent.log_file.exists():
            sys.stderr.write(f"\n--- agent log ({agent.node}) ---\n{agent.log()[-8000:]}\n")
        try:
            agent.cleanup()
        except Exception as exc:  # an engine the test stopped, say; its own fixture cleans it up
            sys.stderr.write(f"clean-up of agent {agent.node} failed: {exc}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
