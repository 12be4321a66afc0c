"""Machine-level node figures: busy CPU time, memory, boot time and the PID limit, from /proc.

The kubelet's ``node`` section comes from cAdvisor's root container ("/"), whose cgroup counters start
at boot (``pkg/kubelet/stats/provider.go``, ``GetCgroupStats("/")``); its ``rlimit`` from
``pkg/kubelet/stats/pidlimit/pidlimit_linux.go`` (``/proc/sys/kernel/pid_max`` and the number of
processes). Reading /proc/stat, /proc/meminfo and /proc/vmstat gives the same figures without depending
on a root cgroup that a container (or cgroup namespace) may hide. Not to be confused with
``pykubelet.machine``, the ``/spec/`` MachineInfo (what the machine has, not what it uses).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from pykubelet.stats.cgroups import Memory, Rates, Sample
from pykubelet.stats.files import NANOS, USER_HZ, read_int, read_kv, read_text


def boot_time(proc: str) -> int | None:
    """``btime`` of /proc/stat: when the root cgroup's counters started, in epoch seconds."""
    return read_kv(os.path.join(proc, "stat")).get("btime")


def node_cpu(proc: str, rates: Rates, now: float) -> Sample:
    """Busy time from /proc/stat's "cpu" line: user+nice+system+irq+softirq, ticks -> ns."""
    fields = (read_text(os.path.join(proc, "stat")) or "").split("\n", 1)[0].split()
    if len(fields) < 8 or fields[0] != "cpu":
        return Sample()
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    cpu_ns = (user + nice + system + irq + softirq) * NANOS // USER_HZ
    return Sample(cpu_ns=cpu_ns, nanocores=rates.nanocores("node", now, cpu_ns))


def node_memory(proc: str) -> Memory | None:
    """The machine's memory in the root cgroup's terms, from /proc/meminfo and /proc/vmstat.

    usage = MemTotal - MemFree; working set = usage - Inactive(file), the definition the kubelet's
    eviction documentation applies to the root cgroup; available = MemTotal - working set.
    """
    info = read_kv(os.path.join(proc, "meminfo"))
    if "MemTotal" not in info or "MemFree" not in info:
        return None
    vmstat = read_kv(os.path.join(proc, "vmstat"))
    usage = info["MemTotal"] - info["MemFree"]
    return Memory(
        usage=usage,
        working_set=max(usage - info.get("Inactive(file)", 0), 0),
        rss=info.get("AnonPages"),
        page_faults=vmstat.get("pgfault"),
        major_page_faults=vmstat.get("pgmajfault"),
        limit=info["MemTotal"],
    )


def rlimit_json(proc: str, stamp: str) -> dict[str, Any] | None:
    """The PID limit and how many processes exist: running out of PIDs is a node condition too."""
    rlimit: dict[str, Any] = {"time": stamp}
    maxpid = read_int(os.path.join(proc, "sys", "kernel", "pid_max"))
    if maxpid is not None:
        rlimit["maxpid"] = maxpid
    with contextlib.suppress(OSError):
        rlimit["curproc"] = sum(1 for name in os.listdir(proc) if name.isdigit())
    return rlimit if len(rlimit) > 1 else None
