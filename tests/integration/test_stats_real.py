"""The stats provider against real Docker containers: real cgroups, a real network namespace.

A sleeping container plays the sandbox and a busy loop joins its network namespace, as a pod's
containers do. Two collections a second apart must see the loop spinning a whole core. No agent runs
here: this checks the provider's reading of the kernel's files on this host's cgroup layout.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from pykubelet.stats import ContainerRef, PodRef, StatsProvider, only_cpu_and_memory

IMAGE = "busybox:1.35"
LABEL = "io.pykubelet.test"


@pytest.fixture
def api() -> docker.APIClient:
    client = docker.APIClient(version="1.41", timeout=60)
    try:
        client.ping()
        client.inspect_image(IMAGE)
    except Exception as exc:  # fail, never skip: this test exists to run against a real engine
        pytest.fail(f"Docker engine or {IMAGE} unavailable ({exc}); see scripts/ensure-docker.sh")
    return client


@pytest.fixture
def started(api: docker.APIClient) -> Iterator[list[str]]:
    """Containers created by the test, removed whatever happens."""
    ids: list[str] = []
    try:
        yield ids
    finally:
        for cid in ids:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(cid, force=True)


def run(api: docker.APIClient, ids: list[str], command: list[str], **host_config: Any) -> ContainerRef:
    name = f"pykubelet-stats-{secrets.token_hex(4)}"
    container = api.create_container(
        IMAGE, command, name=name, labels={LABEL: "stats"}, host_config=api.create_host_config(**host_config)
    )
    ids.append(container["Id"])
    api.start(container["Id"])
    state = api.inspect_container(container["Id"])["State"]
    assert state["Running"] and state["Pid"] > 0
    return ContainerRef("", container["Id"], state["Pid"], state["StartedAt"])


def test_collect_reads_real_cgroups(api: docker.APIClient, started: list[str], tmp_path: Path) -> None:
    sandbox = run(api, started, ["sleep", "300"])
    sandbox.name = "POD"
    busy = run(
        api, started, ["sh", "-c", "while true; do :; done"], network_mode=f"container:{sandbox.container_id}"
    )
    busy.name = "spin"
    volume = tmp_path / "pods/uid/volumes/kubernetes.io~empty-dir/scratch"
    volume.mkdir(parents=True)
    (volume / "data").write_bytes(b"x" * 100_000)
    pod = PodRef(
        name="spinner-node",
        namespace="default",
        uid="0123456789abcdef",
        start_time=sandbox.started_at,
        sandbox=sandbox,
        containers=[busy],
        volumes={"scratch": str(volume)},
    )
    provider = StatsProvider("stats-node", str(tmp_path))

    first = provider.collect([pod])
    time.sleep(1)
    summary = provider.collect([pod])

    assert "usageNanoCores" not in first["pods"][0]["containers"][0]["cpu"]  # one sample: no rate yet
    (stats,) = summary["pods"]
    assert stats["podRef"] == {"name": "spinner-node", "namespace": "default", "uid": "0123456789abcdef"}
    (spin,) = stats["containers"]
    assert spin["name"] == "spin"
    assert spin["cpu"]["usageNanoCores"] > 100_000_000, spin["cpu"]  # it spins a core: ~1e9
    assert (
        spin["cpu"]["usageCoreNanoSeconds"] > first["pods"][0]["containers"][0]["cpu"]["usageCoreNanoSeconds"]
    )
    assert spin["memory"]["workingSetBytes"] > 0
    assert "availableBytes" not in spin["memory"]  # no memory limit was set
    assert stats["cpu"]["usageNanoCores"] >= spin["cpu"]["usageNanoCores"]
    assert stats["memory"]["usageBytes"] >= spin["memory"]["usageBytes"]
    assert stats["process_stats"]["process_count"] >= 2

    network = stats["network"]
    assert network["name"] == "eth0"
    assert [i["name"] for i in network["interfaces"]] == ["eth0"]  # the pod's namespace, without lo
    assert network["rxBytes"] >= 0

    (scratch,) = stats["volume"]
    assert scratch["name"] == "scratch"
    assert scratch["usedBytes"] >= 100_000
    assert scratch["inodesUsed"] == 2

    node = summary["node"]
    assert node["nodeName"] == "stats-node"
    assert node["cpu"]["usageNanoCores"] > 100_000_000
    assert 0 < node["memory"]["workingSetBytes"] <= node["memory"]["usageBytes"]
    assert node["fs"]["capacityBytes"] > 0
    assert node["rlimit"]["curproc"] > 0
    assert node["systemContainers"][0]["name"] == "pods"

    slim = only_cpu_and_memory(summary)
    assert set(slim["pods"][0]["containers"][0]) == {"name", "startTime", "cpu", "memory"}


def test_a_container_removed_between_listing_and_reading_is_skipped(
    api: docker.APIClient, started: list[str], tmp_path: Path
) -> None:
    gone = run(api, started, ["sleep", "300"])
    gone.name = "gone"
    api.remove_container(gone.container_id, force=True)
    pod = PodRef("p", "default", "u", gone.started_at, None, [gone], {})
    summary = StatsProvider("stats-node", str(tmp_path)).collect([pod])
    assert summary["pods"][0]["containers"] == []
