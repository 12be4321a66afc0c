"""The Summary API from fake /proc and cgroup trees: exact numbers, both cgroup versions and layouts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pykubelet.runtime.docker.stats import WritableLayers
from pykubelet.stats import (
    USER_HZ,
    ContainerRef,
    PodRef,
    StatsProvider,
    disk,
    disk_usage,
    only_cpu_and_memory,
)

SANDBOX_ID = "a" * 64
APP_ID = "b" * 64
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
STAMP0 = "2027-01-15T08:00:00Z"
STAMP1 = "2027-01-15T08:00:10Z"
MiB = 1 << 20


class Clock:
    """Epoch seconds that only move when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def net_dev(*rows: tuple[str, int, int, int, int]) -> str:
    """A /proc/net/dev with (name, rx bytes, rx errs, tx bytes, tx errs) rows; other columns zero."""
    lines = [
        "Inter-|   Receive                                                |  Transmit",
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo"
        " colls carrier compressed",
    ]
    for name, rx, rx_err, tx, tx_err in rows:
        lines.append(f"{name:>6}: {rx} 7 {rx_err} 0 0 0 0 0 {tx} 5 {tx_err} 0 0 0 0 0")
    return "\n".join(lines) + "\n"


class Host:
    """A fake /proc plus cgroup tree; each container is a PID whose cgroup file names its directory."""

    def __init__(self, base: Path, v2: bool) -> None:
        self.proc = base / "proc"
        self.cgroup = base / "cgroup"
        self.docker = base / "docker"
        self.v2 = v2
        self.cgroup.mkdir(parents=True)
        if v2:
            write(self.cgroup / "cgroup.controllers", "cpu memory pids\n")
        write(
            self.proc / "stat",
            "cpu  1000 200 300 5000 100 50 50 7 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\nbtime 1700000000\n",
        )
        write(
            self.proc / "meminfo",
            "MemTotal:        8000000 kB\nMemFree:         2000000 kB\nMemAvailable:    4000000 kB\n"
            "AnonPages:        500000 kB\nInactive(file):  1000000 kB\n",
        )
        write(self.proc / "vmstat", "nr_free_pages 1\npgfault 12345\npgmajfault 67\n")
        write(self.proc / "sys/kernel/pid_max", "4194304\n")
        write(
            self.proc / "1/net/dev",
            net_dev(
                ("lo", 9, 0, 9, 0),
                ("ens3", 1000, 1, 2000, 2),
                ("docker0", 5, 0, 5, 0),
                ("veth1a", 3, 0, 3, 0),
            ),
        )
        write(self.proc / "1/net/route", "Iface\tDestination\tGateway\nens3\t00000000\t0102A8C0\n")

    def container(
        self, pid: int, cid: str, rel: str, *, cpu: int, memory: dict[str, int], procs: int = 1
    ) -> None:
        """Place a container's counters at cgroup path ``rel`` and point /proc/<pid>/cgroup at it."""
        if self.v2:
            write(self.proc / f"{pid}/cgroup", f"0::{rel}\n")
            d = self.cgroup / rel.lstrip("/")
            write(d / "cpu.stat", f"usage_usec {cpu // 1000}\nuser_usec 1\nsystem_usec 1\n")
            write(d / "memory.current", f"{memory['usage']}\n")
            write(d / "memory.max", f"{memory.get('limit', 'max')}\n")
            stat = {
                "anon": memory["rss"],
                "inactive_file": memory["inactive"],
                "pgfault": 40,
                "pgmajfault": 4,
            }
            write(d / "memory.stat", "".join(f"{k} {v}\n" for k, v in stat.items()))
            write(d / "cgroup.procs", "".join(f"{pid + i}\n" for i in range(procs)))
        else:
            lines = [f"9:pids:{rel}", f"4:memory:{rel}", f"2:cpu,cpuacct:{rel}", f"0::{rel}"]
            write(self.proc / f"{pid}/cgroup", "\n".join(lines) + "\n")
            write(self.cgroup / "cpu,cpuacct" / rel.lstrip("/") / "cpuacct.usage", f"{cpu}\n")
            mem = self.cgroup / "memory" / rel.lstrip("/")
            write(mem / "memory.usage_in_bytes", f"{memory['usage']}\n")
            write(mem / "memory.limit_in_bytes", f"{memory.get('limit', 9223372036854771712)}\n")
            stat = {
                "rss": 1,  # the non-hierarchical keys must not be the ones read
                "inactive_file": 1,
                "total_rss": memory["rss"],
                "total_inactive_file": memory["inactive"],
                "total_pgfault": 40,
                "total_pgmajfault": 4,
            }
            write(mem / "memory.stat", "".join(f"{k} {v}\n" for k, v in stat.items()))
            write(
                self.cgroup / "pids" / rel.lstrip("/") / "cgroup.procs",
                "".join(f"{pid + i}\n" for i in range(procs)),
            )
        write(self.proc / f"{pid}/net/dev", net_dev(("lo", 1, 0, 1, 0), ("eth0", 300, 0, 400, 1)))

    def set_cpu(self, rel: str, cpu: int) -> None:
        if self.v2:
            write(self.cgroup / rel.lstrip("/") / "cpu.stat", f"usage_usec {cpu // 1000}\n")
        else:
            write(self.cgroup / "cpu,cpuacct" / rel.lstrip("/") / "cpuacct.usage", f"{cpu}\n")

    def provider(self, root_dir: Path, clock: Clock) -> StatsProvider:
        return StatsProvider(
            "node-1",
            str(root_dir),
            str(self.proc),
            str(self.cgroup),
            image_fs=str(self.docker),
            clock=clock,
        )


SANDBOX_MEMORY = {"usage": 1 * MiB, "rss": 100_000, "inactive": 200_000}
APP_MEMORY = {"usage": 64 * MiB, "rss": 30 * MiB, "inactive": 4 * MiB, "limit": 128 * MiB}
APP_PATH = f"/system.slice/docker-{APP_ID}.scope"  # the systemd driver's layout
SANDBOX_PATH = f"/docker/{SANDBOX_ID}"  # the cgroupfs driver's layout


def pod(volumes: dict[str, str] | None = None, app_pid: int = 101) -> PodRef:
    return PodRef(
        name="web-node-1",
        namespace="default",
        uid="u" * 32,
        start_time="2027-01-15T07:00:00Z",
        sandbox=ContainerRef("POD", SANDBOX_ID, 100, "2027-01-15T07:00:01Z"),
        containers=[ContainerRef("app", APP_ID, app_pid, "2027-01-15T07:00:02Z")],
        volumes=volumes or {},
    )


@pytest.fixture(params=["v1", "v2"])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Host:
    h = Host(tmp_path, v2=request.param == "v2")
    h.container(100, SANDBOX_ID, SANDBOX_PATH, cpu=10_000_000, memory=SANDBOX_MEMORY)
    h.container(101, APP_ID, APP_PATH, cpu=1_000_000_000, memory=APP_MEMORY, procs=3)
    return h


def collect_twice(host: Host, tmp_path: Path, refs: list[PodRef]) -> tuple[dict[str, Any], dict[str, Any]]:
    clock = Clock(T0)
    provider = host.provider(tmp_path / "kubelet", clock)
    first = provider.collect(refs)
    clock.now += 10
    host.set_cpu(APP_PATH, 6_000_000_000)  # 5 s of CPU in 10 s: half a core
    host.set_cpu(SANDBOX_PATH, 10_000_000 + 20_000_000)
    write(host.proc / "stat", "cpu  1300 200 400 9000 100 90 60 7 0 0\nbtime 1700000000\n")
    return first, provider.collect(refs)


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


def test_emptydir_volume_usage_counts_blocks_and_inodes_once(host: Host, tmp_path: Path) -> None:
    volume = tmp_path / "kubelet/pods/u/volumes/kubernetes.io~empty-dir/cache"
    write(volume / "a", "x" * 5000)
    write(volume / "sub/b", "0123456789")
    os.link(volume / "a", volume / "sub/a-again")  # a hard link is one inode, counted once
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([pod({"cache": str(volume)})])
    (stats,) = summary["pods"][0]["volume"]
    counted = [volume, volume / "a", volume / "sub", volume / "sub/b"]
    assert stats["name"] == "cache"
    assert stats["time"] == STAMP0
    assert stats["usedBytes"] == sum(os.lstat(p).st_blocks * 512 for p in counted)
    assert stats["inodesUsed"] == 4
    assert stats["capacityBytes"] == os.statvfs(volume).f_blocks * os.statvfs(volume).f_frsize
    assert stats["inodes"] == os.statvfs(volume).f_files


def test_rootfs_logs_and_ephemeral_storage(host: Host, tmp_path: Path) -> None:
    # The Docker runtime measures the writable layer: overlay2's diff, found through the layer database.
    write(host.docker / f"image/overlay2/layerdb/mounts/{APP_ID}/mount-id", "m0unt\n")
    write(host.docker / "overlay2/m0unt/diff/tmp/scratch", "y" * 3000)
    (layer,) = WritableLayers().measure(str(host.docker), [APP_ID, "0" * 64]).values()
    logs = host.docker / "containers" / APP_ID
    write(logs / f"{APP_ID}-json.log", "z" * 100)
    write(logs / f"{APP_ID}-json.log.1", "z" * 9000)
    write(logs / "config.v2.json", "{}")  # not a log
    # The kubelet's link to the log, as the agent makes it on a Docker node: the file behind it counts.
    link = tmp_path / "pods" / "default_web_u" / "app" / "0.log"
    link.parent.mkdir(parents=True)
    link.symlink_to(logs / f"{APP_ID}-json.log")
    volume = tmp_path / "vol"
    write(volume / "f", "v")
    ref = pod({"v": str(volume)})
    ref.containers[0].rootfs = (layer.writable_layer_bytes, layer.writable_layer_inodes)
    ref.containers[0].log_path = str(link)
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([ref])
    stats = summary["pods"][0]
    (app,) = stats["containers"]
    diff = host.docker / "overlay2/m0unt/diff"
    rootfs_used = sum(os.lstat(p).st_blocks * 512 for p in (diff, diff / "tmp", diff / "tmp/scratch"))
    logs_used = sum(os.lstat(p).st_blocks * 512 for p in logs.glob(f"{APP_ID}-json.log*"))
    assert (app["rootfs"]["usedBytes"], app["rootfs"]["inodesUsed"]) == (rootfs_used, 3)
    assert (app["logs"]["usedBytes"], app["logs"]["inodesUsed"]) == (logs_used, 2)
    volume_used = stats["volume"][0]["usedBytes"]
    assert stats["ephemeral-storage"]["usedBytes"] == rootfs_used + logs_used + volume_used
    assert stats["ephemeral-storage"]["inodesUsed"] == 3 + 2 + 2


def test_sections_that_cannot_be_read_are_left_out(host: Host, tmp_path: Path) -> None:
    summary = host.provider(tmp_path / "kubelet", Clock(T0)).collect([pod()])
    (app,) = summary["pods"][0]["containers"]
    assert "rootfs" not in app  # the runtime measured no writable layer
    assert "logs" not in app
    assert "ephemeral-storage" not in summary["pods"][0]
    assert "volume" not in summary["pods"][0]


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


def test_disk_usage_stops_after_the_entry_limit(tmp_path: Path) -> None:
    for i in range(50):
        write(tmp_path / f"d/f{i}", "x")
    used, inodes = disk_usage(str(tmp_path / "d"), max_entries=10) or (0, 0)
    assert inodes <= 10
    assert used > 0
    assert disk_usage(str(tmp_path / "missing")) is None


def test_cri_logs_count_the_whole_container_log_directory_docker_logs_only_their_file(tmp_path: Path) -> None:
    """The kubelet's CRI stats provider measures ``/var/log/pods/<pod>/<container>/``, so the previous
    instance's log counts too; a Docker container's directory also holds its config, which does not."""
    cri = tmp_path / "default_web_uid" / "nginx"
    cri.mkdir(parents=True)
    for name in ("0.log", "1.log", "1.log.20261202-070000"):
        (cri / name).write_bytes(b"x" * 4096)
    docker = tmp_path / "containers" / "abc"
    docker.mkdir(parents=True)
    for name in ("abc-json.log", "abc-json.log.1", "config.v2.json", "hostconfig.json"):
        (docker / name).write_bytes(b"x" * 4096)

    assert disk.logs_json(str(cri / "1.log"), "now")["inodesUsed"] == 3  # type: ignore[index]
    assert disk.logs_json(str(docker / "abc-json.log"), "now")["inodesUsed"] == 2  # type: ignore[index]
