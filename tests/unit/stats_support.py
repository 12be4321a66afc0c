"""Shared pieces of the Summary API tests (``test_stats*.py``): a fake /proc and cgroup tree (v1 or v2)
with a sandbox and an app container, and a :class:`StatsProvider` on a clock the test moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pykubelet.stats import ContainerRef, PodRef, StatsProvider

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


@pytest.fixture(name="host", params=["v1", "v2"])
def host_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Host:
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
