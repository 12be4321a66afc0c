"""The kubelet's Summary API (``/stats/summary``) read straight from cgroup and /proc files.

The real kubelet gets these numbers from cAdvisor, which reads the kernel's cgroup files on a 10-15 s
housekeeping loop. Asking Docker instead (``docker stats``) costs about a second per container, because
the engine waits for two CPU samples; reading the same files ourselves costs microseconds. So this
module finds each container's cgroup through ``/proc/<pid>/cgroup`` of its main process and reads the
counters there, in both cgroup v1 (``cpuacct``/``memory`` hierarchies) and v2 (one unified tree), under
either Docker cgroup driver (``/docker/<id>`` or ``.../docker-<id>.scope``).

The JSON follows ``k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go``. Where a number cannot be read
(a container that exited between listing and reading, a hidden file), its section is left out, as the
kubelet's ``omitempty`` pointers do, instead of reporting a zero that looks like a measurement.

Definitions follow cAdvisor and the kubelet: ``workingSetBytes`` = usage - inactive file cache (what
eviction acts on), ``availableBytes`` = limit - working set and only when there is a limit, and
``usageNanoCores`` = the CPU counter's rate between this collection and the previous one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger("pykubelet.stats")

# The kubelet's maxMemorySize: a cgroup v1 "no limit" is 2^63 rounded down to a page, so anything
# above 2^62 means unlimited.
UNLIMITED_MEMORY = 1 << 62
# The du-style walk of a volume stops here: a volume with millions of files must not stall collection.
DU_MAX_ENTRIES = 100_000
# How long a directory walk's result is reused, as the kubelet's --volume-stats-agg-period (1m) does.
DU_TTL_SECONDS = 60.0
# The interface whose counters fill NetworkStats' inline fields (the kubelet's network.DefaultInterfaceName).
DEFAULT_INTERFACE = "eth0"
# cAdvisor ignores these interfaces everywhere: loopback and the runtime's own virtual plumbing.
IGNORED_INTERFACE_PREFIXES = ("lo", "veth", "docker")
USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
NANOS = 1_000_000_000


@dataclass
class ContainerRef:
    """What the agent knows about one running container."""

    name: str  # the k8s container name ("POD" for the sandbox)
    container_id: str
    pid: int  # State.Pid from docker inspect; 0 if not running
    started_at: str  # RFC 3339


@dataclass
class PodRef:
    name: str
    namespace: str
    uid: str
    start_time: str  # RFC 3339
    sandbox: ContainerRef | None
    containers: list[ContainerRef]
    volumes: dict[str, str]  # emptyDir volume name -> host path


# --- raw samples ------------------------------------------------------------------------------------


@dataclass
class _Memory:
    usage: int
    working_set: int
    rss: int | None
    page_faults: int | None
    major_page_faults: int | None
    limit: int | None  # None: unlimited, so no availableBytes


@dataclass
class _Sample:
    """One cgroup's (or the sum of several cgroups') counters at one instant."""

    cpu_ns: int | None = None
    nanocores: int | None = None
    memory: _Memory | None = None
    processes: int | None = None

    @property
    def empty(self) -> bool:
        return self.cpu_ns is None and self.memory is None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:  # vanished cgroup, exited process, hidden file: all mean "no number"
        return None


def _read_int(path: str) -> int | None:
    text = _read(path)
    try:
        return int(text.split()[0]) if text and text.split() else None
    except ValueError:
        return None


def _read_kv(path: str) -> dict[str, int]:
    """``key value`` lines (memory.stat, cpu.stat, vmstat) and ``Key: value kB`` ones (meminfo)."""
    values = {}
    for line in (_read(path) or "").splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            values[parts[0]] = int(parts[1]) * (1024 if parts[2:3] == ["kB"] else 1)
    return values


def _count_lines(path: str) -> int | None:
    text = _read(path)
    return None if text is None else len(text.split())


# --- cgroups ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _MemoryFiles:
    """The names one cgroup version gives the same memory facts."""

    usage: str
    limit: str
    inactive_file: str
    rss: str
    page_faults: str
    major_page_faults: str


_V1_MEMORY = _MemoryFiles(
    usage="memory.usage_in_bytes",
    limit="memory.limit_in_bytes",
    inactive_file="total_inactive_file",
    rss="total_rss",
    page_faults="total_pgfault",
    major_page_faults="total_pgmajfault",
)
_V2_MEMORY = _MemoryFiles(
    usage="memory.current",
    limit="memory.max",
    inactive_file="inactive_file",
    rss="anon",
    page_faults="pgfault",
    major_page_faults="pgmajfault",
)


class _Cgroups:
    """Finds a process's cgroup directories and reads a container's counters from them."""

    def __init__(self, proc: str, root: str) -> None:
        self.proc = proc
        self.root = root
        self.v2 = os.path.exists(os.path.join(root, "cgroup.controllers"))

    def sample(self, pid: int, container_id: str) -> _Sample | None:
        dirs = self._locate(pid, container_id)
        if dirs is None:
            return None
        cpu_dir, memory_dir, pids_dir = dirs
        sample = _Sample(
            cpu_ns=self._cpu_ns(cpu_dir) if cpu_dir else None,
            memory=self._memory(memory_dir) if memory_dir else None,
            processes=_count_lines(os.path.join(pids_dir, "cgroup.procs")) if pids_dir else None,
        )
        return None if sample.empty else sample

    def _locate(self, pid: int, container_id: str) -> tuple[str | None, str | None, str | None] | None:
        """(cpu, memory, pids) directories of ``pid``'s cgroups, or None if the process is gone."""
        text = _read(os.path.join(self.proc, str(pid), "cgroup"))
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
            usec = _read_kv(os.path.join(cgroup, "cpu.stat")).get("usage_usec")
            return None if usec is None else usec * 1000
        usage = _read_int(os.path.join(cgroup, "cpuacct.usage"))
        if usage is not None:
            return usage
        # Without cpuacct.usage the tick counters are still there, at USER_HZ resolution.
        ticks = _read_kv(os.path.join(cgroup, "cpuacct.stat"))
        if "user" not in ticks or "system" not in ticks:
            return None
        return (ticks["user"] + ticks["system"]) * NANOS // USER_HZ

    def _memory(self, cgroup: str) -> _Memory | None:
        files = _V2_MEMORY if self.v2 else _V1_MEMORY
        usage = _read_int(os.path.join(cgroup, files.usage))
        stat = _read_kv(os.path.join(cgroup, "memory.stat"))
        if usage is None or not stat:
            return None
        limit = _read_int(os.path.join(cgroup, files.limit))  # v2's "max" parses as None: unlimited
        return _Memory(
            usage=usage,
            working_set=max(usage - stat.get(files.inactive_file, 0), 0),
            rss=stat.get(files.rss),
            page_faults=stat.get(files.page_faults),
            major_page_faults=stat.get(files.major_page_faults),
            limit=limit if limit is not None and 0 < limit <= UNLIMITED_MEMORY else None,
        )


# --- rates and disk usage ---------------------------------------------------------------------------


class _Rates:
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


def disk_usage(path: str, max_entries: int = DU_MAX_ENTRIES) -> tuple[int, int] | None:
    """``du -sx -B1`` and an inode count of ``path``: (bytes, inodes), or None if it is gone.

    Bytes are allocated blocks, like du, so sparse files count what they occupy. Hard links count
    once and other filesystems mounted below are not entered. After ``max_entries`` entries the walk
    stops and returns what it counted so far: an undercount beats a collection that never finishes.
    """
    try:
        top = os.lstat(path)
    except OSError:
        return None
    used, inodes, entries = top.st_blocks * 512, 1, 1
    linked: set[int] = set()
    stack = [path]
    while stack and entries < max_entries:
        try:
            listing = os.scandir(stack.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                entries += 1
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if st.st_dev != top.st_dev:  # another filesystem mounted here: not ours to count
                    continue
                if not is_dir and st.st_nlink > 1:
                    if st.st_ino in linked:
                        continue
                    linked.add(st.st_ino)
                used += st.st_blocks * 512
                inodes += 1
                if is_dir:
                    stack.append(entry.path)
                if entries >= max_entries:
                    log.debug("stopped measuring %s after %d entries", path, entries)
                    break
    return used, inodes


class _DiskUsageCache:
    """Reuses a directory walk for ``ttl`` seconds: walks are the only slow part of a collection."""

    def __init__(self, clock: Callable[[], float], ttl: float) -> None:
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[float, tuple[int, int] | None]] = {}

    def measure(self, path: str) -> tuple[int, int] | None:
        now = self._clock()
        hit = self._cache.get(path)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        result = disk_usage(path)
        self._cache[path] = (now, result)
        return result

    def expire(self) -> None:
        now = self._clock()
        self._cache = {p: hit for p, hit in self._cache.items() if now - hit[0] < self._ttl}


# --- JSON pieces ------------------------------------------------------------------------------------


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cpu_json(stamp: str, sample: _Sample) -> dict[str, Any] | None:
    if sample.cpu_ns is None:
        return None
    cpu: dict[str, Any] = {"time": stamp}
    if sample.nanocores is not None:
        cpu["usageNanoCores"] = sample.nanocores
    cpu["usageCoreNanoSeconds"] = sample.cpu_ns
    return cpu


def _memory_json(stamp: str, memory: _Memory | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    out: dict[str, Any] = {"time": stamp}
    if memory.limit is not None:
        out["availableBytes"] = max(memory.limit - memory.working_set, 0)
    out["usageBytes"] = memory.usage
    out["workingSetBytes"] = memory.working_set
    for key, value in (
        ("rssBytes", memory.rss),
        ("pageFaults", memory.page_faults),
        ("majorPageFaults", memory.major_page_faults),
    ):
        if value is not None:
            out[key] = value
    return out


def _fs_json(path: str, stamp: str, usage: tuple[int, int] | None = None) -> dict[str, Any] | None:
    """FsStats of the filesystem holding ``path``; ``usage`` overrides the whole-filesystem usage."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    used, inodes_used = usage or ((st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree)
    return {
        "time": stamp,
        "availableBytes": st.f_bavail * st.f_frsize,
        "capacityBytes": st.f_blocks * st.f_frsize,
        "usedBytes": used,
        "inodesFree": st.f_ffree,
        "inodes": st.f_files,
        "inodesUsed": inodes_used,
    }


def _network_json(proc_pid: str, stamp: str) -> dict[str, Any] | None:
    """NetworkStats of the namespace ``<proc>/<pid>`` lives in, from its ``net/dev``."""
    text = _read(os.path.join(proc_pid, "net", "dev"))
    if text is None:
        return None
    interfaces = []
    for line in text.splitlines()[2:]:  # two header lines
        name, sep, counters = line.partition(":")
        fields = counters.split()
        name = name.strip()
        if not sep or len(fields) < 11 or name.startswith(IGNORED_INTERFACE_PREFIXES):
            continue
        # Receive: bytes packets errs ...; transmit starts at the ninth field.
        rx, rx_err, tx, tx_err = (int(fields[i]) for i in (0, 2, 8, 10))
        interfaces.append(
            {"name": name, "rxBytes": rx, "rxErrors": rx_err, "txBytes": tx, "txErrors": tx_err}
        )
    if not interfaces:
        return None
    default = _default_interface(proc_pid, [i["name"] for i in interfaces])
    network: dict[str, Any] = {"time": stamp}
    network.update(next((i for i in interfaces if i["name"] == default), {}))
    network["interfaces"] = interfaces
    return network


def _default_interface(proc_pid: str, names: list[str]) -> str | None:
    """eth0 as the kubelet assumes; else the default route's interface (a host's ens3, say)."""
    if DEFAULT_INTERFACE in names:
        return DEFAULT_INTERFACE
    for line in (_read(os.path.join(proc_pid, "net", "route")) or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 1 and fields[1] == "00000000" and fields[0] in names:
            return fields[0]
    return None


def _sum(samples: Iterable[_Sample]) -> _Sample:
    """A pod's (or all pods') counters as the sum of its containers' cgroups."""
    samples = list(samples)
    with_cpu = [s for s in samples if s.cpu_ns is not None]
    rates = [s.nanocores for s in with_cpu if s.nanocores is not None]
    memories = [s.memory for s in samples if s.memory is not None]
    processes = [s.processes for s in samples if s.processes is not None]
    return _Sample(
        cpu_ns=sum(s.cpu_ns or 0 for s in with_cpu) if with_cpu else None,
        nanocores=sum(rates) if rates else None,
        memory=_sum_memory(memories) if memories else None,
        processes=sum(processes) if processes else None,
    )


def _sum_memory(memories: list[_Memory]) -> _Memory:
    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    return _Memory(
        usage=sum(m.usage for m in memories),
        working_set=sum(m.working_set for m in memories),
        rss=total([m.rss for m in memories]),
        page_faults=total([m.page_faults for m in memories]),
        major_page_faults=total([m.major_page_faults for m in memories]),
        limit=total([m.limit for m in memories]),  # the pod is bounded only if every member is
    )


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is something to report (the kubelet's omitempty)."""
    if value is not None:
        target[key] = value


# --- the provider -----------------------------------------------------------------------------------


class StatsProvider:
    """Builds the Summary from the kernel's files; keeps the previous CPU samples to compute rates.

    ``collect`` blocks (it walks volumes), so the agent runs it in a thread every ~10 s and serves the
    last result; concurrent calls are serialised so two collections never interleave their rate samples.
    ``docker_root`` locates the container's writable layer and JSON log for ``rootfs``/``logs``; with
    another storage or log driver those sections are left out. ``clock`` returns epoch seconds.
    """

    def __init__(
        self,
        node_name: str,
        root_dir: str,
        proc: str = "/proc",
        cgroup_root: str = "/sys/fs/cgroup",
        *,
        docker_root: str = "/var/lib/docker",
        clock: Callable[[], float] = time.time,
        du_ttl: float = DU_TTL_SECONDS,
    ) -> None:
        self.node_name = node_name
        self.root_dir = root_dir
        self.proc = proc
        self.docker_root = docker_root
        self._clock = clock
        self._cgroups = _Cgroups(proc, cgroup_root)
        self._rates = _Rates()
        self._du = _DiskUsageCache(clock, du_ttl)
        self._lock = threading.Lock()
        self._started = clock()

    def collect(self, pods: list[PodRef]) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            stamp = _rfc3339(now)
            pod_stats, pod_samples = [], []
            for pod in pods:
                try:
                    entry, total = self._pod(pod, now, stamp)
                except Exception:  # one odd pod must not cost the whole summary
                    log.warning(
                        "could not collect stats for pod %s/%s", pod.namespace, pod.name, exc_info=True
                    )
                    continue
                pod_stats.append(entry)
                pod_samples.append(total)
            node = self._node(now, stamp, pods, pod_samples)
            self._rates.forget_unseen()
            self._du.expire()
            return {"node": node, "pods": pod_stats}

    # --- node ---

    def _node(self, now: float, stamp: str, pods: list[PodRef], pod_samples: list[_Sample]) -> dict[str, Any]:
        proc_stat = _read_kv(os.path.join(self.proc, "stat"))
        node: dict[str, Any] = {"nodeName": self.node_name, "systemContainers": []}
        if pods:
            node["systemContainers"].append(self._pods_container(stamp, pods, pod_samples))
        # The root cgroup's stats start at boot; without btime, when this provider began collecting.
        node["startTime"] = _rfc3339(proc_stat.get("btime", self._started))
        _put(node, "cpu", _cpu_json(stamp, self._node_cpu(now)))
        _put(node, "memory", _memory_json(stamp, self._node_memory()))
        _put(node, "network", _network_json(os.path.join(self.proc, "1"), stamp))
        _put(node, "fs", _fs_json(_existing(self.root_dir), stamp))
        image_fs = _fs_json(self.docker_root, stamp)
        if image_fs is not None:
            # What the images themselves take needs the engine (``docker system df``); only the
            # filesystem's totals are read here.
            del image_fs["usedBytes"], image_fs["inodesUsed"]
            node["runtime"] = {"imageFs": image_fs}
        _put(node, "rlimit", self._rlimit(stamp))
        return node

    def _pods_container(self, stamp: str, pods: list[PodRef], samples: list[_Sample]) -> dict[str, Any]:
        """The "pods" system container: what the kubelet reads from the kubepods cgroup, summed here."""
        total = _sum(samples)
        entry: dict[str, Any] = {"name": "pods", "startTime": min(_pod_start(pod, stamp) for pod in pods)}
        _put(entry, "cpu", _cpu_json(stamp, total))
        _put(entry, "memory", _memory_json(stamp, total.memory))
        return entry

    def _node_cpu(self, now: float) -> _Sample:
        """Busy time from /proc/stat's "cpu" line: user+nice+system+irq+softirq, ticks -> ns."""
        fields = (_read(os.path.join(self.proc, "stat")) or "").split("\n", 1)[0].split()
        if len(fields) < 8 or fields[0] != "cpu":
            return _Sample()
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
        cpu_ns = (user + nice + system + irq + softirq) * NANOS // USER_HZ
        return _Sample(cpu_ns=cpu_ns, nanocores=self._rates.nanocores("node", now, cpu_ns))

    def _node_memory(self) -> _Memory | None:
        """The machine's memory in the root cgroup's terms, from /proc/meminfo and /proc/vmstat.

        usage = MemTotal - MemFree; working set = usage - Inactive(file), the definition the kubelet's
        eviction documentation applies to the root cgroup; available = MemTotal - working set.
        """
        info = _read_kv(os.path.join(self.proc, "meminfo"))
        if "MemTotal" not in info or "MemFree" not in info:
            return None
        vmstat = _read_kv(os.path.join(self.proc, "vmstat"))
        usage = info["MemTotal"] - info["MemFree"]
        return _Memory(
            usage=usage,
            working_set=max(usage - info.get("Inactive(file)", 0), 0),
            rss=info.get("AnonPages"),
            page_faults=vmstat.get("pgfault"),
            major_page_faults=vmstat.get("pgmajfault"),
            limit=info["MemTotal"],
        )

    def _rlimit(self, stamp: str) -> dict[str, Any] | None:
        """The PID limit and how many processes exist: running out of PIDs is a node condition too."""
        rlimit: dict[str, Any] = {"time": stamp}
        _put(rlimit, "maxpid", _read_int(os.path.join(self.proc, "sys", "kernel", "pid_max")))
        with contextlib.suppress(OSError):
            rlimit["curproc"] = sum(1 for name in os.listdir(self.proc) if name.isdigit())
        return rlimit if len(rlimit) > 1 else None

    # --- pods ---

    def _pod(self, pod: PodRef, now: float, stamp: str) -> tuple[dict[str, Any], _Sample]:
        sandbox = self._sample(pod.sandbox, now) if pod.sandbox else None
        measured = [(ref, s) for ref in pod.containers if (s := self._sample(ref, now)) is not None]
        containers = [self._container(ref, sample, stamp) for ref, sample in measured]
        # The pod cgroup would hold the sandbox too, so its share counts toward the pod's totals.
        total = _sum([s for _, s in measured] + ([sandbox] if sandbox else []))
        volumes = self._volumes(pod, stamp)
        entry: dict[str, Any] = {
            "podRef": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
            "startTime": _pod_start(pod, stamp),
            "containers": containers,
        }
        _put(entry, "cpu", _cpu_json(stamp, total))
        _put(entry, "memory", _memory_json(stamp, total.memory))
        _put(entry, "network", self._pod_network(pod, stamp))
        if volumes:
            entry["volume"] = volumes
        _put(entry, "ephemeral-storage", self._ephemeral(stamp, containers, volumes))
        if total.processes is not None:
            entry["process_stats"] = {"process_count": total.processes}
        return entry, total

    def _sample(self, ref: ContainerRef, now: float) -> _Sample | None:
        if ref.pid <= 0:
            return None
        sample = self._cgroups.sample(ref.pid, ref.container_id)
        if sample is None:
            log.debug("no cgroup stats for container %s (%s): exited?", ref.name, ref.container_id)
            return None
        if sample.cpu_ns is not None:
            sample.nanocores = self._rates.nanocores(ref.container_id, now, sample.cpu_ns)
        return sample

    def _container(self, ref: ContainerRef, sample: _Sample, stamp: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": ref.name, "startTime": ref.started_at or stamp}
        _put(entry, "cpu", _cpu_json(stamp, sample))
        _put(entry, "memory", _memory_json(stamp, sample.memory))
        _put(entry, "rootfs", self._rootfs(ref.container_id, stamp))
        _put(entry, "logs", self._logs(ref.container_id, stamp))
        return entry

    def _pod_network(self, pod: PodRef, stamp: str) -> dict[str, Any] | None:
        """The pod's namespace is the sandbox's; its containers join it, so any of them will do."""
        refs = ([pod.sandbox] if pod.sandbox else []) + pod.containers
        for ref in refs:
            if ref.pid > 0:
                network = _network_json(os.path.join(self.proc, str(ref.pid)), stamp)
                if network is not None:
                    return network
        return None

    def _volumes(self, pod: PodRef, stamp: str) -> list[dict[str, Any]]:
        volumes = []
        for name, path in sorted(pod.volumes.items()):
            usage = self._du.measure(path)
            fs = _fs_json(path, stamp, usage) if usage is not None else None
            if fs is not None:
                volumes.append({**fs, "name": name})
        return volumes

    def _rootfs(self, container_id: str, stamp: str) -> dict[str, Any] | None:
        """The container's writable layer (overlay2's ``diff``) on the image filesystem."""
        cid = container_id.removeprefix("docker://")
        layerdb = os.path.join(self.docker_root, "image", "overlay2", "layerdb", "mounts", cid, "mount-id")
        mount_id = (_read(layerdb) or "").strip()
        if not cid or not mount_id:
            return None
        usage = self._du.measure(os.path.join(self.docker_root, "overlay2", mount_id, "diff"))
        return _fs_json(self.docker_root, stamp, usage) if usage is not None else None

    def _logs(self, container_id: str, stamp: str) -> dict[str, Any] | None:
        """The json-file driver's log and its rotations (``<id>-json.log``, ``<id>-json.log.1``...)."""
        cid = container_id.removeprefix("docker://")
        directory = os.path.join(self.docker_root, "containers", cid)
        used = inodes = 0
        try:
            names = [n for n in os.listdir(directory) if cid and n.startswith(f"{cid}-json.log")]
            for name in names:
                used += os.lstat(os.path.join(directory, name)).st_blocks * 512
                inodes += 1
        except OSError:
            return None
        return _fs_json(directory, stamp, (used, inodes)) if names else None

    def _ephemeral(
        self, stamp: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Writable layers + logs + emptyDirs, only when every part could be measured."""
        parts = [c.get(key) for c in containers for key in ("rootfs", "logs")] + volumes
        if not containers or any(part is None for part in parts):
            return None
        fs = _fs_json(_existing(self.root_dir), stamp)
        if fs is None:
            return None
        fs["usedBytes"] = sum(part["usedBytes"] for part in parts)
        fs["inodesUsed"] = sum(part["inodesUsed"] for part in parts)
        return fs


def _pod_start(pod: PodRef, stamp: str) -> str:
    """A pod's start time, never empty: Go clients (metrics-server) reject "" as a metav1.Time.

    Before the status manager has a startTime, the earliest container start stands in, then now.
    """
    if pod.start_time:
        return pod.start_time
    refs = ([pod.sandbox] if pod.sandbox else []) + pod.containers
    return min((ref.started_at for ref in refs if ref.started_at), default=stamp)


def _existing(path: str) -> str:
    """``path`` or its nearest existing parent: the root dir may not be created yet."""
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


_CPU_MEMORY_CONTAINER_KEYS = ("name", "startTime", "cpu", "memory")


def _pick(source: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {key: source[key] for key in keys if key in source}


def only_cpu_and_memory(summary: dict[str, Any]) -> dict[str, Any]:
    """The ``?only_cpu_and_memory=true`` view: the kubelet's ``GetCPUAndMemoryStats`` shape.

    metrics-server asks for this one; it keeps identities, start times and cpu/memory, nothing else.
    """
    node = summary["node"]
    slim_node = _pick(node, ("nodeName", "startTime", "cpu", "memory"))
    slim_node["systemContainers"] = [
        _pick(c, _CPU_MEMORY_CONTAINER_KEYS) for c in node.get("systemContainers", [])
    ]
    pods = [
        {
            **_pick(pod, ("podRef", "startTime", "cpu", "memory")),
            "containers": [_pick(c, _CPU_MEMORY_CONTAINER_KEYS) for c in pod.get("containers", [])],
        }
        for pod in summary["pods"]
    ]
    return {"node": slim_node, "pods": pods}


__all__ = ["ContainerRef", "PodRef", "StatsProvider", "disk_usage", "only_cpu_and_memory"]
