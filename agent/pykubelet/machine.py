"""What ``/spec/`` serves: cAdvisor's ``info/v1.MachineInfo``, read from /proc, /sys and /etc.

The kubelet of the dockershim era answered ``/spec/`` with the MachineInfo its embedded cAdvisor
computed once at start (``machine/info.go``), and the same facts fed node capacity and the CPU
manager's topology. pykubelet has no cAdvisor, so this module reads the same kernel files cAdvisor
reads and lays them out under the same JSON keys, so tools written against a real kubelet's
``/spec/`` (the DataDog agent, old Heapster sinks) parse ours unchanged.

Everything here must survive a thin /sys: containers and VMs hide DMI, cpufreq, NUMA nodes and
sometimes CPU topology. A missing file yields cAdvisor's zero value, never an exception, because a
node agent that refuses to start over a missing ``product_uuid`` helps nobody. ``root`` prefixes every
path so tests can point the whole module at a fake tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# cAdvisor's sysinfo.GetBlockDeviceInfo skips these: they are not disks a user would size a node by.
IGNORED_DISK_PREFIXES = ("loop", "ram", "sr")
# cAdvisor's sysinfo.GetNetworkDevices skips loopback and the runtime's own virtual plumbing.
IGNORED_NET_PREFIXES = ("lo", "veth", "docker")
# Filesystems cAdvisor's fs.processMounts accepts as "real" (every ext* is accepted by prefix).
BLOCK_FS_TYPES = ("btrfs", "xfs", "zfs")
# A cache above L2 shared by every thread of a NUMA node is the node's; one shared by a subset is an
# "uncore" cache (an AMD CCX's L3), attached to each core that sees it (cAdvisor PR #2849).
PER_CORE_CACHE_MAX_LEVEL = 2

# cAdvisor's NVMInfo (Intel Optane capacities), filled only when built with libipmctl, which the kubelet's
# cAdvisor never was: every kubelet served these zeros. "app direct_mode_capacity" has a space in the
# key: that is cAdvisor's own JSON tag (a typo kept for compatibility), so it is what clients parse.
NO_NVM: dict[str, int] = {"memory_mode_capacity": 0, "app direct_mode_capacity": 0, "avg_power_budget": 0}

_CPU_DIR = re.compile(r"^cpu(\d+)$")
_NODE_DIR = re.compile(r"^node(\d+)$")
_HUGEPAGES_DIR = re.compile(r"^hugepages-(\d+)kB$")
_SCHEDULER = re.compile(r"\[(.*)\]")
_SIZE = re.compile(r"^(\d+)([KMG]?)$")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


class _Tree:
    """Reads files under ``root``; every failure is ``None`` or empty, never an exception."""

    def __init__(self, root: str) -> None:
        self.root = root

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel.lstrip("/"))

    def read(self, rel: str) -> str | None:
        try:
            with open(self.path(rel), encoding="utf-8", errors="replace") as fh:
                return fh.read().strip()
        except OSError:
            return None

    def read_int(self, rel: str) -> int | None:
        text = self.read(rel)
        try:
            return int(text.split()[0]) if text else None
        except ValueError:
            return None

    def listdir(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(rel)))
        except OSError:
            return []

    def first_of(self, rels: Iterable[str]) -> str:
        """The first readable, non-empty file of several (cAdvisor's comma-separated id file lists)."""
        for rel in rels:
            text = self.read(rel)
            if text:
                return text
        return ""


@dataclass(frozen=True)
class _Cpu:
    """One logical CPU and where it sits: the package (socket) and the physical core inside it."""

    id: int
    package: int
    core: int


@dataclass(frozen=True)
class _Cache:
    id: int
    size: int
    type: str
    level: int
    cpus: int  # how many logical CPUs share it: decides node, core or uncore cache

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "size": self.size, "type": self.type, "level": self.level}


def machine_info(root: str = "/", now: datetime | None = None) -> dict[str, Any]:
    """The node's MachineInfo as cAdvisor's ``/spec/`` JSON; cheap enough to compute once at start."""
    tree = _Tree(root)
    cpuinfo = tree.read("proc/cpuinfo") or ""
    meminfo = _meminfo(tree.read("proc/meminfo") or "")
    cpus = _cpus(tree, cpuinfo)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "vendor_id": _cpuinfo_field(cpuinfo, "vendor_id"),
        "num_cores": len(cpus),
        "num_physical_cores": len({(cpu.package, cpu.core) for cpu in cpus}),
        "num_sockets": len({cpu.package for cpu in cpus}),
        "cpu_frequency_khz": _cpu_frequency_khz(tree, cpuinfo),
        "memory_capacity": meminfo.get("MemTotal", 0),
        "swap_capacity": meminfo.get("SwapTotal", 0),
        "memory_by_type": {},
        "nvm": NO_NVM.copy(),
        "hugepages": _hugepages(tree, "sys/kernel/mm/hugepages"),
        "machine_id": tree.first_of(["etc/machine-id", "var/lib/dbus/machine-id"]),
        "system_uuid": tree.read("sys/class/dmi/id/product_uuid") or "",
        "boot_id": tree.read("proc/sys/kernel/random/boot_id") or "",
        "filesystems": _filesystems(tree),
        "disk_map": _disk_map(tree),
        "network_devices": _network_devices(tree),
        "topology": _topology(tree, cpus),
        "cloud_provider": "Unknown",
        "instance_type": "Unknown",
        "instance_id": "None",
    }


# --- CPUs -------------------------------------------------------------------------------------------


def _cpus(tree: _Tree, cpuinfo: str) -> list[_Cpu]:
    """Online logical CPUs from sysfs topology; /proc/cpuinfo when sysfs hides them."""
    return _cpus_from_sysfs(tree) or _cpus_from_cpuinfo(cpuinfo)


def _cpus_from_sysfs(tree: _Tree) -> list[_Cpu]:
    base = "sys/devices/system/cpu"
    cpus = []
    for cpu_id in _numbered(tree.listdir(base), _CPU_DIR):
        here = f"{base}/cpu{cpu_id}"
        if tree.read(f"{here}/online") == "0":
            continue
        # No topology files: assume one thread per core in one package, as cAdvisor's AddThread does.
        package = tree.read_int(f"{here}/topology/physical_package_id")
        core = tree.read_int(f"{here}/topology/core_id")
        cpus.append(_Cpu(cpu_id, package if package is not None else 0, core if core is not None else cpu_id))
    return cpus


def _cpus_from_cpuinfo(cpuinfo: str) -> list[_Cpu]:
    cpus = []
    for block in cpuinfo.split("\n\n"):
        fields = _cpuinfo_fields(block)
        if "processor" not in fields or not fields["processor"].isdigit():
            continue
        cpu_id = int(fields["processor"])
        package = fields.get("physical id", "0")
        core = fields.get("core id", str(cpu_id))
        cpus.append(
            _Cpu(cpu_id, int(package) if package.isdigit() else 0, int(core) if core.isdigit() else cpu_id)
        )
    return cpus


def _cpuinfo_fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _cpuinfo_field(cpuinfo: str, name: str) -> str:
    return _cpuinfo_fields(cpuinfo.split("\n\n", 1)[0]).get(name, "")


def _cpu_frequency_khz(tree: _Tree, cpuinfo: str) -> int:
    """The maximum from cpufreq (what cAdvisor prefers), else the current "cpu MHz" of /proc/cpuinfo."""
    max_freq = tree.read_int("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if max_freq is not None:
        return max_freq
    try:
        return int(float(_cpuinfo_field(cpuinfo, "cpu MHz")) * 1000)
    except ValueError:
        return 0


# --- memory -----------------------------------------------------------------------------------------


def _meminfo(text: str) -> dict[str, int]:
    """``Key:   123 kB`` lines -> bytes; a NUMA node's copy prefixes each key with ``Node <n>``."""
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key.split() and parts and parts[0].isdigit():
            values[key.split()[-1]] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return values


def _hugepages(tree: _Tree, base: str) -> list[dict[str, int]]:
    pages = []
    for name in tree.listdir(base):
        match = _HUGEPAGES_DIR.match(name)
        if match:
            count = tree.read_int(f"{base}/{name}/nr_hugepages")
            pages.append({"page_size": int(match.group(1)), "num_pages": count or 0})
    return sorted(pages, key=lambda page: page["page_size"])


# --- storage and network ----------------------------------------------------------------------------


def _filesystems(tree: _Tree) -> list[dict[str, Any]]:
    """Block-device filesystems from the mount table, one per device (bind mounts repeat a source)."""
    seen: set[str] = set()
    filesystems = []
    for line in (tree.read("proc/self/mounts") or "").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        source, mountpoint, fstype = (_unescape(field) for field in fields[:3])
        if source in seen or not _is_block_fs(source, fstype):
            continue
        try:
            st = os.statvfs(tree.path(mountpoint))
        except OSError:
            continue
        seen.add(source)
        filesystems.append(
            {
                "device": source,
                "capacity": st.f_blocks * st.f_frsize,
                # cAdvisor's own FsType names: plain block filesystems are all "vfs".
                "type": "zfs" if fstype == "zfs" else "vfs",
                "inodes": st.f_files,
                "has_inodes": True,
            }
        )
    return filesystems


def _is_block_fs(source: str, fstype: str) -> bool:
    if fstype == "zfs":  # a zfs source is a dataset name, not a /dev node
        return True
    return source.startswith("/dev/") and (fstype.startswith("ext") or fstype in BLOCK_FS_TYPES)


def _unescape(field: str) -> str:
    """The mount table escapes space, tab, newline and backslash as octal (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _disk_map(tree: _Tree) -> dict[str, dict[str, Any]]:
    disks = {}
    for name in tree.listdir("sys/block"):
        if name.startswith(IGNORED_DISK_PREFIXES):
            continue
        major, _, minor = (tree.read(f"sys/block/{name}/dev") or "").partition(":")
        if not (major.isdigit() and minor.isdigit()):
            continue
        sectors = tree.read_int(f"sys/block/{name}/size") or 0
        scheduler = _SCHEDULER.search(tree.read(f"sys/block/{name}/queue/scheduler") or "")
        disks[f"{major}:{minor}"] = {
            "name": name,
            "major": int(major),
            "minor": int(minor),
            "size": sectors * 512,  # sysfs counts 512-byte sectors whatever the device's block size
            "scheduler": scheduler.group(1) if scheduler else "none",
        }
    return disks


def _network_devices(tree: _Tree) -> list[dict[str, Any]]:
    devices = []
    for name in tree.listdir("sys/class/net"):
        if name.startswith(IGNORED_NET_PREFIXES) or not os.path.isdir(tree.path(f"sys/class/net/{name}")):
            continue
        devices.append(
            {
                "name": name,
                "mac_address": tree.read(f"sys/class/net/{name}/address") or "",
                # Virtual NICs report -1 or fail the read; cAdvisor keeps whatever number it parses.
                "speed": tree.read_int(f"sys/class/net/{name}/speed") or 0,
                "mtu": tree.read_int(f"sys/class/net/{name}/mtu") or 0,
            }
        )
    return devices


# --- topology ---------------------------------------------------------------------------------------


def _topology(tree: _Tree, cpus: list[_Cpu]) -> list[dict[str, Any]]:
    """NUMA nodes with their cores, threads and caches; sockets stand in for nodes without NUMA info."""
    by_id = {cpu.id: cpu for cpu in cpus}
    node_ids = _numbered(tree.listdir("sys/devices/system/node"), _NODE_DIR)
    if not node_ids:
        packages = sorted({cpu.package for cpu in cpus})
        return [_node(tree, package, [c for c in cpus if c.package == package], None) for package in packages]
    nodes = []
    for node_id in node_ids:
        base = f"sys/devices/system/node/node{node_id}"
        members = [by_id[i] for i in _numbered(tree.listdir(base), _CPU_DIR) if i in by_id]
        nodes.append(_node(tree, node_id, members, base))
    return nodes


def _node(tree: _Tree, node_id: int, cpus: list[_Cpu], base: str | None) -> dict[str, Any]:
    cores: dict[tuple[int, int], list[int]] = {}
    for cpu in sorted(cpus, key=lambda c: c.id):
        cores.setdefault((cpu.package, cpu.core), []).append(cpu.id)
    node: dict[str, Any] = {
        "node_id": node_id,
        "memory": _meminfo(tree.read(f"{base}/meminfo") or "").get("MemTotal", 0) if base else 0,
        "hugepages": _hugepages(tree, f"{base}/hugepages") if base else [],
        "cores": [],
        "caches": [],
        "distances": [int(d) for d in (tree.read(f"{base}/distance") or "").split() if d.isdigit()]
        if base
        else [],
    }
    threads_in_node = len(cpus)
    for (package, core_id), threads in cores.items():
        core = {
            "core_id": core_id,
            "thread_ids": threads,
            "caches": [],
            "uncore_caches": [],
            "socket_id": package,
        }
        for cache in _caches(tree, threads[0]):
            _place_cache(node, core, cache, len(threads), threads_in_node)
        node["cores"].append(core)
    return node


def _place_cache(
    node: dict[str, Any], core: dict[str, Any], cache: _Cache, threads_in_core: int, threads_in_node: int
) -> None:
    """Attach a cache where cAdvisor's ``addCacheInfo`` would: the node, the core, or the core's uncore."""
    entry = cache.as_json()
    if cache.level > PER_CORE_CACHE_MAX_LEVEL and cache.cpus == threads_in_node:
        if entry not in node["caches"]:
            node["caches"].append(entry)
    elif cache.cpus == threads_in_core:
        core["caches"].append(entry)
    elif cache.level > PER_CORE_CACHE_MAX_LEVEL and entry not in core["uncore_caches"]:
        core["uncore_caches"].append(entry)


def _caches(tree: _Tree, cpu_id: int) -> list[_Cache]:
    base = f"sys/devices/system/cpu/cpu{cpu_id}/cache"
    caches = []
    for index in tree.listdir(base):
        if not index.startswith("index"):
            continue
        here = f"{base}/{index}"
        size = _SIZE.match(tree.read(f"{here}/size") or "")
        level = tree.read_int(f"{here}/level")
        if size is None or level is None:
            continue
        caches.append(
            _Cache(
                id=tree.read_int(f"{here}/id") or 0,
                size=int(size.group(1)) * _UNITS[size.group(2)],
                type=tree.read(f"{here}/type") or "",
                level=level,
                cpus=_shared_cpus(tree, here),
            )
        )
    return caches


def _shared_cpus(tree: _Tree, cache_dir: str) -> int:
    """How many CPUs share a cache: bits set in ``shared_cpu_map`` (comma-separated 32-bit hex words)."""
    mask = (tree.read(f"{cache_dir}/shared_cpu_map") or "").replace(",", "")
    try:
        return bin(int(mask, 16)).count("1") if mask else 1
    except ValueError:
        return 1


def _numbered(names: Iterable[str], pattern: re.Pattern[str]) -> list[int]:
    """``cpu12``-style names -> their numbers, numerically sorted (a glob would put cpu10 before cpu2)."""
    return sorted(int(m.group(1)) for m in map(pattern.match, names) if m)
