"""The Summary API from fake /proc and cgroup trees: exact CPU, memory and network numbers for containers,
pods and the node, in both cgroup versions; their rates; and the ``only_cpu_and_memory`` view."""

from __future__ import annotations

import os
from pathlib import Path

from pykubelet.stats import USER_HZ, StatsProvider, only_cpu_and_memory
from tests.unit.stats_support import APP_PATH, STAMP0, STAMP1, T0, Clock, Host, MiB, collect_twice, pod
from tests.unit.stats_support import host_fixture as host_fixture  # fixture


def test_container_cpu_and_memory_exact(host: Host, tmp_path: Path) -> None:
    first, second = collect_twice(host, tmp_path, [pod()])
    (app,) = first["pods"][0]["containers"]
    assert app["name"] == "app"
    assert app["startTime"] == "2027-01-15T07:00:02Z"
    assert app["cpu"] == {"time": STAMP0, "usageCoreNanoSeconds": 1_000_000_000}  # no rate from one sample
    assert app["memory"] == {
        "time": STAMP0,
        "availableBytes": 128 * MiB - 60 * MiB,
        "usageBytes": 64 * MiB,
        "workingSetBytes": 60 * MiB,
        "rssBytes": 30 * MiB,
        "pageFaults": 40,
        "majorPageFaults": 4,
    }
    (app,) = second["pods"][0]["containers"]
    assert app["cpu"] == {
        "time": STAMP1,
        "usageNanoCores": 500_000_000,
        "usageCoreNanoSeconds": 6_000_000_000,
    }


def test_pod_totals_include_the_sandbox(host: Host, tmp_path: Path) -> None:
    _, second = collect_twice(host, tmp_path, [pod()])
    stats = second["pods"][0]
    assert stats["podRef"] == {"name": "web-node-1", "namespace": "default", "uid": "u" * 32}
    assert stats["startTime"] == "2027-01-15T07:00:00Z"
    assert [c["name"] for c in stats["containers"]] == ["app"]  # the sandbox is never listed
    assert stats["cpu"] == {
        "time": STAMP1,
        "usageNanoCores": 500_000_000 + 2_000_000,
        "usageCoreNanoSeconds": 6_000_000_000 + 30_000_000,
    }
    # The sandbox has no limit, so neither has the pod: no availableBytes.
    assert stats["memory"] == {
        "time": STAMP1,
        "usageBytes": 65 * MiB,
        "workingSetBytes": 60 * MiB + 1 * MiB - 200_000,
        "rssBytes": 30 * MiB + 100_000,
        "pageFaults": 80,
        "majorPageFaults": 8,
    }
    assert stats["process_stats"] == {"process_count": 4}
    assert stats["network"] == {
        "time": STAMP1,
        "name": "eth0",
        "rxBytes": 300,
        "rxErrors": 0,
        "txBytes": 400,
        "txErrors": 1,
        "interfaces": [{"name": "eth0", "rxBytes": 300, "rxErrors": 0, "txBytes": 400, "txErrors": 1}],
    }


def test_node_stats_exact(host: Host, tmp_path: Path) -> None:
    first, second = collect_twice(host, tmp_path, [pod()])
    node = second["node"]
    assert node["nodeName"] == "node-1"
    assert node["startTime"] == "2023-11-14T22:13:20Z"  # /proc/stat btime
    busy_ticks0 = 1000 + 200 + 300 + 50 + 50
    busy_ticks1 = 1300 + 200 + 400 + 90 + 60
    assert first["node"]["cpu"] == {"time": STAMP0, "usageCoreNanoSeconds": busy_ticks0 * 10**9 // USER_HZ}
    assert node["cpu"] == {
        "time": STAMP1,
        "usageNanoCores": (busy_ticks1 - busy_ticks0) * 10**9 // USER_HZ // 10,
        "usageCoreNanoSeconds": busy_ticks1 * 10**9 // USER_HZ,
    }
    assert node["memory"] == {
        "time": STAMP1,
        "availableBytes": 8_192_000_000 - 5_120_000_000,
        "usageBytes": 6_144_000_000,
        "workingSetBytes": 5_120_000_000,
        "rssBytes": 512_000_000,
        "pageFaults": 12345,
        "majorPageFaults": 67,
    }
    # lo, docker0 and veth* are left out; no eth0, so the default route's interface is the inline one.
    assert node["network"] == {
        "time": STAMP1,
        "name": "ens3",
        "rxBytes": 1000,
        "rxErrors": 1,
        "txBytes": 2000,
        "txErrors": 2,
        "interfaces": [{"name": "ens3", "rxBytes": 1000, "rxErrors": 1, "txBytes": 2000, "txErrors": 2}],
    }
    assert node["rlimit"] == {"time": STAMP1, "maxpid": 4194304, "curproc": 3}  # PIDs 1, 100, 101
    root_fs = os.statvfs(tmp_path)  # the root dir does not exist yet: its nearest parent's filesystem
    assert node["fs"]["capacityBytes"] == root_fs.f_blocks * root_fs.f_frsize
    assert node["fs"]["inodes"] == root_fs.f_files
    (pods_container,) = node["systemContainers"]
    assert pods_container["name"] == "pods"
    assert pods_container["cpu"] == second["pods"][0]["cpu"]
    assert pods_container["memory"] == second["pods"][0]["memory"]


def test_counter_going_backwards_gives_no_rate(host: Host, tmp_path: Path) -> None:
    clock = Clock(T0)
    provider = host.provider(tmp_path / "kubelet", clock)
    provider.collect([pod()])
    clock.now += 10
    host.set_cpu(APP_PATH, 1000)  # below the first sample
    (app,) = provider.collect([pod()])["pods"][0]["containers"]
    assert "usageNanoCores" not in app["cpu"]
    clock.now += 10
    host.set_cpu(APP_PATH, 1000 + 2_000_000_000)
    (app,) = provider.collect([pod()])["pods"][0]["containers"]
    assert app["cpu"]["usageNanoCores"] == 200_000_000


def test_a_container_missing_from_one_collection_starts_a_new_series(host: Host, tmp_path: Path) -> None:
    clock = Clock(T0)
    provider = host.provider(tmp_path / "kubelet", clock)
    provider.collect([pod()])
    clock.now += 10
    provider.collect([])  # the pod went away: its samples are forgotten
    clock.now += 10
    host.set_cpu(APP_PATH, 6_000_000_000)
    (app,) = provider.collect([pod()])["pods"][0]["containers"]
    assert "usageNanoCores" not in app["cpu"]


def test_missing_start_times_are_filled_not_empty(host: Host, tmp_path: Path) -> None:
    ref = pod()
    ref.start_time = ""
    ref.containers[0].started_at = ""
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([ref])
    stats = summary["pods"][0]
    assert stats["startTime"] == "2027-01-15T07:00:01Z"  # the sandbox's start
    assert stats["containers"][0]["startTime"] == STAMP0
    assert summary["node"]["systemContainers"][0]["startTime"] == "2027-01-15T07:00:01Z"


def test_no_pods_no_system_containers(host: Host, tmp_path: Path) -> None:
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([])
    assert summary["pods"] == []
    assert summary["node"]["systemContainers"] == []


def test_empty_proc_never_raises(tmp_path: Path) -> None:
    provider = StatsProvider(
        "n",
        str(tmp_path / "nowhere"),
        str(tmp_path / "proc"),
        str(tmp_path / "cg"),
    )
    summary = provider.collect([pod()])
    assert set(summary["node"]) == {"nodeName", "systemContainers", "startTime", "fs"}
    assert summary["pods"][0]["containers"] == []
    assert "cpu" not in summary["pods"][0]


def test_only_cpu_and_memory_view(host: Host, tmp_path: Path) -> None:
    _, summary = collect_twice(host, tmp_path, [pod()])
    view = only_cpu_and_memory(summary)
    assert set(view["node"]) == {"nodeName", "startTime", "cpu", "memory", "systemContainers"}
    assert set(view["node"]["systemContainers"][0]) == {"name", "startTime", "cpu", "memory"}
    (stats,) = view["pods"]
    assert set(stats) == {"podRef", "startTime", "containers", "cpu", "memory"}
    assert stats["containers"] == [
        {k: summary["pods"][0]["containers"][0][k] for k in ("name", "startTime", "cpu", "memory")}
    ]
