"""A container's CPU, memory and process counters, read from its cgroup (v1 or v2), and CPU rates.

Mirrors cAdvisor's ``container/libcontainer/handler.go`` (``setCPUStats``, ``setMemoryStats``: the
cgroup files behind ``ContainerStats``) and its housekeeping rate (``info/v2/conversion.go``,
``instCpuStats``), which the kubelet's ``pkg/kubelet/stats/cadvisor_stats_provider.go`` reports as
``usageNanoCores``. Asking Docker instead (``docker stats``) costs about a second per container, because
the engine waits for two CPU samples; reading the same files costs microseconds.

A container's cgroup is found through ``/proc/<pid>/cgroup`` of its main process, in cgroup v1
(``cpuacct``/``memory``/``pids`` hierarchies) and v2 (one unified tree), under either Docker cgroup
driver (``/docker/<id>`` or ``.../docker-<id>.scope``). ``workingSetBytes`` = usage - inactive file cache
(what eviction acts on), as cAdvisor defines it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from pykubelet.stats.files import NANOS, USER_HZ, count_lines, read_int, read_kv, read_text

# The kubelet's maxMemorySize: a cgroup v1 "no limit" is 2^63 rounded down to a page, so anything
# above 2^62 means unlimited.
UNLIMITED_MEMORY = 1 << 62


@dataclass
class Memory:
    """One cgroup's (or the machine's) memory figures, in bytes and fault counts."""

    usage: int
    working_set: int
    rss: int | None
    page_faults: int | None
    major_page_faults: int | None
    limit: int | None  # None: unlimited, so no availableBytes


@dataclass
class Sample:
    """One cgroup's (or the sum of several cgroups') counters at one instant."""

    cpu_ns: int | None = None
    nanocores: int | None = None
    memory: Memory | None = None
    processes: int | None = None
    cgroup: str = ""  # the cgroup's path below the hierarchy's root (cAdvisor's container name, "id")

    @property
    def empty(self) -> bool:
        return self.cpu_ns is None and self.memory is None


@dataclass(frozen=True)
class _MemoryFiles:
    """The names one cgroup version gives the same memory facts."""

    usage: str
    limit: str
    inactive_file: str
    rss: str
    page_faults: str
    major_page_faults: str


# Each memory fact under its cgroup v1 and v2 names, side by side, in _MemoryFiles' field order.
_V1_MEMORY, _V2_MEMORY = (
    _MemoryFiles(*names)
    for names in zip(
        ("memory.usage_in_bytes", "memory.current"),
        ("memory.limit_in_bytes", "memory.max"),
        ("total_inactive_file", "inactive_file"),
        ("total_rss", "anon"),
        ("total_pgfault", "pgfault"),
        ("total_pgmajfault", "pgmajfault"),
        strict=True,
    )
)


class Cgroups:
    """Finds a process's cgroup directories and reads a container's counters from them."""

    def __init__(self, proc: str, root: str) -> None:
        self.proc = proc
        self.root = root
        self.v2 = os.path.exists(os.path.join(root, "cgroup.controllers"))

    def sample(self, pid: int, container_id: str) -> Sample | None:
        dirs = self._locate(pid, container_id)
        if dirs is None:
            return None
        cpu_dir, memory_dir, pids_dir = dirs
        sample = Sample(
            cpu_ns=self._cpu_ns(cpu_dir) if cpu_dir else None,
            memory=self._memory(memory_dir) if memory_dir else None,
            processes=count_lines(os.path.join(pids_dir, "cgroup.procs")) if pids_dir else None,
            cgroup=self._name(memory_dir or cpu_dir or ""),
        )
        return None if sample.empty else sample

    def _name(self, directory: str) -> str:
        """``/sys/fs/cgroup[/memory]/a/b`` -> ``/a/b``: the same name under cgroup v1 and v2."""
        if not directory:
            return ""
        parts = os.path.relpath(directory, self.root).split(os.sep)
        return "/" + "/".join(parts if self.v2 else parts[1:])

    def _locate(self, pid: int, container_id: str) -> tuple[str | None, str | None, str | None] | None:
        """(cpu, memory, pids) directories of ``pid``'s cgroups, or None if the process is gone."""
        text = read_text(os.path.join(self.proc, str(pid), "cgroup"))
        if text is None:
            return None
        # "hierarchy-id:controller,list:/path"; cgroup v2's single line has an empty controller list.
        paths: dict[str, tuple[str, str]] = {}
        for line in text.splitlines():
            _, controllers, path = [*line.split(":", 2), "", ""][:3]
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = (controllers, path)
        if self.v2:
            unified = self._find([self.root], paths.get(""), container_id)
            return unified, unified, unified
        cpu, memory, pids = (self._v1(c, paths, container_id) for c in ("cpuacct", "memory", "pids"))
        return cpu, memory, pids

    def _v1(self, controller: str, paths: dict[str, tuple[str, str]], container_id: str) -> str | None:
        # A co-mounted hierarchy is usually at "cpu,cpuacct" with "cpuacct" as a symlink, but some hosts
        # mount each controller on its own and leave an empty "cpu,cpuacct" directory: try both.
        entry = paths.get(controller)
        mounts = [os.path.join(self.root, entry[0]) if entry else "", os.path.join(self.root, controller)]
        return self._find([m for m in mounts if m], entry, container_id)

    @staticmethod
    def _find(mounts: list[str], entry: tuple[str, str] | None, container_id: str) -> str | None:
        """The container's directory under one of ``mounts``.

        The path from /proc is right when the agent shares the host's cgroup namespace. Inside a private
        namespace it reads "/", and a recycled PID points at someone else's cgroup, so a path must name
        the container, and the two Docker layouts are tried by id when it does not.
        """
        cid = container_id.removeprefix("docker://")
        candidates = [entry[1]] if entry else []
        if cid:
            candidates += [f"/docker/{cid}", f"/system.slice/docker-{cid}.scope"]
        for mount in mounts:
            for rel in candidates:
                if cid and cid not in rel:
                    continue
                here = os.path.join(mount, rel.lstrip("/"))
                if os.path.isdir(here):
                    return here
        return None

    def _cpu_ns(self, cgroup: str) -> int | None:
        if self.v2:
            usec = read_kv(os.path.join(cgroup, "cpu.stat")).get("usage_usec")
            return None if usec is None else usec * 1000
        usage = read_int(os.path.join(cgroup, "cpuacct.usage"))
        if usage is not None:
            return usage
        # Without cpuacct.usage the tick counters are still there, at USER_HZ resolution.
        ticks = read_kv(os.path.join(cgroup, "cpuacct.stat"))
        if "user" not in ticks or "system" not in ticks:
            return None
        return (ticks["user"] + ticks["system"]) * NANOS // USER_HZ

    def _memory(self, cgroup: str) -> Memory | None:
        files = _V2_MEMORY if self.v2 else _V1_MEMORY
        usage = read_int(os.path.join(cgroup, files.usage))
        stat = read_kv(os.path.join(cgroup, "memory.stat"))
        if usage is None or not stat:
            return None
        limit = read_int(os.path.join(cgroup, files.limit))  # v2's "max" parses as None: unlimited
        return Memory(
            usage=usage,
            working_set=max(usage - stat.get(files.inactive_file, 0), 0),
            rss=stat.get(files.rss),
            page_faults=stat.get(files.page_faults),
            major_page_faults=stat.get(files.major_page_faults),
            limit=limit if limit is not None and 0 < limit <= UNLIMITED_MEMORY else None,
        )


class Rates:
    """Turns cumulative CPU counters into ``usageNanoCores``, as cAdvisor's housekeeping does.

    The first sample of a key has no rate; a counter that went backwards (a restarted container reusing
    a key) restarts the series. Keys not seen in a collection are forgotten, so the table does not
    grow with every container that ever ran.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, int, int | None]] = {}
        self._seen: set[str] = set()

    def nanocores(self, key: str, now: float, cumulative: int) -> int | None:
        self._seen.add(key)
        previous = self._last.get(key)
        if previous is not None and now <= previous[0]:
            return previous[2]  # called again within the same instant: keep the last answer
        rate = None
        if previous is not None and cumulative >= previous[1]:
            rate = int((cumulative - previous[1]) / (now - previous[0]))
        self._last[key] = (now, cumulative, rate)
        return rate

    def forget_unseen(self) -> None:
        for key in set(self._last) - self._seen:
            del self._last[key]
        self._seen = set()


def sum_samples(samples: Iterable[Sample]) -> Sample:
    """A pod's (or all pods') counters as the sum of its containers' cgroups."""
    samples = list(samples)
    with_cpu = [s for s in samples if s.cpu_ns is not None]
    rates = [s.nanocores for s in with_cpu if s.nanocores is not None]
    memories = [s.memory for s in samples if s.memory is not None]
    processes = [s.processes for s in samples if s.processes is not None]
    return Sample(
        cpu_ns=sum(s.cpu_ns or 0 for s in with_cpu) if with_cpu else None,
        nanocores=sum(rates) if rates else None,
        memory=_sum_memory(memories) if memories else None,
        processes=sum(processes) if processes else None,
    )


def _sum_memory(memories: list[Memory]) -> Memory:
    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    return Memory(
        usage=sum(m.usage for m in memories),
        working_set=sum(m.working_set for m in memories),
        rss=total([m.rss for m in memories]),
        page_faults=total([m.page_faults for m in memories]),
        major_page_faults=total([m.major_page_faults for m in memories]),
        limit=total([m.limit for m in memories]),  # the pod is bounded only if every member is
    )
