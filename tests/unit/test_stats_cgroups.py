"""The Summary API finds a container's cgroup in both cgroup versions and Docker's layouts (systemd and
cgroupfs drivers, a private cgroup namespace, a separate cpuacct), and skips a container that is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

from pykubelet.stats import USER_HZ, ContainerRef, PodRef
from tests.unit.stats_support import APP_ID, APP_MEMORY, SANDBOX_MEMORY, T0, Clock, Host, pod, write
from tests.unit.stats_support import host_fixture as host_fixture  # fixture


def test_vanished_and_stopped_containers_are_skipped(host: Host, tmp_path: Path) -> None:
    gone = pod(app_pid=4242)  # no /proc/4242: exited between listing and reading
    stopped = pod(app_pid=0)
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([gone, stopped])
    for stats in summary["pods"]:
        assert stats["containers"] == []
        assert stats["cpu"]["usageCoreNanoSeconds"] == 10_000_000  # the sandbox is still there


def test_recycled_pid_in_another_cgroup_is_not_the_container(host: Host, tmp_path: Path) -> None:
    # The container exited (Docker removed its cgroups) and PID 101 went to a process elsewhere,
    # whose cgroup exists but does not name the container: its counters must not be reported.
    for tree in (host.cgroup, host.cgroup / "memory", host.cgroup / "cpu,cpuacct", host.cgroup / "pids"):
        shutil.rmtree(tree / "system.slice", ignore_errors=True)
    host.container(101, "", "/user.slice/session-1.scope", cpu=5, memory=SANDBOX_MEMORY)
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([pod()])
    assert summary["pods"][0]["containers"] == []


def test_private_cgroup_namespace_falls_back_to_the_docker_layouts(tmp_path: Path) -> None:
    host = Host(tmp_path, v2=False)
    host.container(101, APP_ID, f"/docker/{APP_ID}", cpu=77, memory=APP_MEMORY)
    write(host.proc / "101/cgroup", "9:pids:/\n4:memory:/\n2:cpu,cpuacct:/\n")  # as seen from inside
    ref = PodRef(
        "p", "default", "u", "2027-01-15T07:00:00Z", None, [ContainerRef("app", APP_ID, 101, "")], {}
    )
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([ref])
    (app,) = summary["pods"][0]["containers"]
    assert app["cpu"]["usageCoreNanoSeconds"] == 77
    assert summary["pods"][0]["network"]["name"] == "eth0"  # no sandbox: the container's namespace


def test_separately_mounted_cpuacct_hierarchy(tmp_path: Path) -> None:
    # Some hosts mount cpu and cpuacct on their own and leave an empty "cpu,cpuacct" directory.
    host = Host(tmp_path, v2=False)
    host.container(101, APP_ID, f"/docker/{APP_ID}", cpu=1, memory=APP_MEMORY)
    (host.cgroup / "cpu,cpuacct").rename(host.cgroup / "cpuacct")
    (host.cgroup / "cpu,cpuacct").mkdir()
    write(
        host.proc / "101/cgroup",
        f"2:cpuacct:/docker/{APP_ID}\n1:cpu:/docker/{APP_ID}\n4:memory:/docker/{APP_ID}\n",
    )
    write(host.cgroup / f"cpuacct/docker/{APP_ID}/cpuacct.usage", "555\n")
    ref = PodRef(
        "p", "default", "u", "2027-01-15T07:00:00Z", None, [ContainerRef("app", APP_ID, 101, "")], {}
    )
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([ref])
    assert summary["pods"][0]["containers"][0]["cpu"]["usageCoreNanoSeconds"] == 555


def test_cpuacct_stat_ticks_when_usage_is_missing(tmp_path: Path) -> None:
    host = Host(tmp_path, v2=False)
    host.container(101, APP_ID, f"/docker/{APP_ID}", cpu=1, memory=APP_MEMORY)
    cpu_dir = host.cgroup / f"cpu,cpuacct/docker/{APP_ID}"
    (cpu_dir / "cpuacct.usage").unlink()
    write(cpu_dir / "cpuacct.stat", "user 150\nsystem 50\n")
    ref = PodRef(
        "p", "default", "u", "2027-01-15T07:00:00Z", None, [ContainerRef("app", APP_ID, 101, "")], {}
    )
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([ref])
    assert summary["pods"][0]["containers"][0]["cpu"]["usageCoreNanoSeconds"] == 200 * 10**9 // USER_HZ
