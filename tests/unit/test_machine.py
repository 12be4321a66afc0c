"""cAdvisor's MachineInfo from a fake /proc + /sys tree, and a sanity check on this machine."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pykubelet.machine import machine_info

NOW = datetime(2027, 1, 15, 8, 0, 0, 123456, tzinfo=timezone.utc)

# One socket, two cores with two hyperthreads each: cpu0/cpu2 share core 0, cpu1/cpu3 share core 1.
CORE_OF = {0: 0, 1: 1, 2: 0, 3: 1}
THREAD_MASK = {0: "5", 1: "a"}  # shared_cpu_map of a per-core cache: cpus {0,2} and {1,3}

CPUINFO = "".join(
    f"processor\t: {cpu}\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2400.500\n"
    f"physical id\t: 0\ncore id\t\t: {core}\n\n"
    for cpu, core in CORE_OF.items()
)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path / "proc/cpuinfo", CPUINFO)
    write(tmp_path / "proc/meminfo", "MemTotal:  8000000 kB\nMemFree:  100 kB\nSwapTotal:  1048576 kB\n")
    write(tmp_path / "proc/sys/kernel/random/boot_id", "0c8b2f7e-1111-2222-3333-444455556666\n")
    write(tmp_path / "etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n")
    write(tmp_path / "sys/class/dmi/id/product_uuid", "EC2A1B2C-0000-1111-2222-333344445555\n")
    cpus = tmp_path / "sys/devices/system/cpu"
    for cpu, core in CORE_OF.items():
        write(cpus / f"cpu{cpu}/topology/core_id", f"{core}\n")
        write(cpus / f"cpu{cpu}/topology/physical_package_id", "0\n")
        caches = [(1, "Data", "48K", THREAD_MASK[core]), (2, "Unified", "1280K", THREAD_MASK[core])]
        caches.append((3, "Unified", "30720K", "f"))
        for index, (level, kind, size, mask) in enumerate(caches):
            write(cpus / f"cpu{cpu}/cache/index{index}/level", f"{level}\n")
            write(cpus / f"cpu{cpu}/cache/index{index}/type", f"{kind}\n")
            write(cpus / f"cpu{cpu}/cache/index{index}/size", f"{size}\n")
            write(cpus / f"cpu{cpu}/cache/index{index}/shared_cpu_map", f"{mask}\n")
            write(cpus / f"cpu{cpu}/cache/index{index}/id", f"{core if level < 3 else 0}\n")
        (tmp_path / f"sys/devices/system/node/node0/cpu{cpu}").mkdir(parents=True)
    write(cpus / "cpu3/online", "1\n")
    write(cpus / "cpu4/online", "0\n")  # offline: not counted anywhere
    write(cpus / "cpu4/topology/core_id", "2\n")
    node = tmp_path / "sys/devices/system/node/node0"
    write(node / "meminfo", "Node 0 MemTotal:       7999000 kB\nNode 0 MemFree:   1 kB\n")
    write(node / "distance", "10\n")
    write(node / "hugepages/hugepages-2048kB/nr_hugepages", "4\n")
    hugepages = tmp_path / "sys/kernel/mm/hugepages"
    write(hugepages / "hugepages-2048kB/nr_hugepages", "4\n")
    write(hugepages / "hugepages-1048576kB/nr_hugepages", "0\n")
    write(tmp_path / "sys/block/sda/dev", "8:0\n")
    write(tmp_path / "sys/block/sda/size", "2000\n")
    write(tmp_path / "sys/block/sda/queue/scheduler", "none [mq-deadline] kyber\n")
    write(tmp_path / "sys/block/nvme0n1/dev", "259:0\n")
    write(tmp_path / "sys/block/nvme0n1/size", "10\n")  # no scheduler file: "none"
    write(tmp_path / "sys/block/loop0/dev", "7:0\n")
    for name, mac, mtu, speed in [
        ("eth0", "02:42:ac:11:00:02", "1500", "10000"),
        ("ens4", "42:01:0a:80:00:02", "1460", None),  # virtio: no speed file
        ("lo", "00:00:00:00:00:00", "65536", None),
        ("docker0", "02:42:00:00:00:01", "1500", None),
        ("vethabc", "16:00:00:00:00:01", "1500", "10000"),
    ]:
        write(tmp_path / f"sys/class/net/{name}/address", f"{mac}\n")
        write(tmp_path / f"sys/class/net/{name}/mtu", f"{mtu}\n")
        if speed:
            write(tmp_path / f"sys/class/net/{name}/speed", f"{speed}\n")
    (tmp_path / "data dir").mkdir()
    write(
        tmp_path / "proc/self/mounts",
        "proc /proc proc rw 0 0\n"
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        "tmpfs /run tmpfs rw 0 0\n"
        "/dev/sda1 /var/lib/docker ext4 rw 0 0\n"  # a bind mount of the same device: reported once
        "/dev/sdb1 /data\\040dir xfs rw 0 0\n"  # octal-escaped space in the mount point
        "/dev/sdc1 /not-mounted-here ext4 rw 0 0\n",  # cannot be measured: left out
    )
    return tmp_path


def test_cpu_memory_and_identity(root: Path) -> None:
    info = machine_info(str(root), now=NOW)
    assert info["timestamp"] == "2027-01-15T08:00:00.123456Z"
    assert info["vendor_id"] == "GenuineIntel"
    assert info["num_cores"] == 4
    assert info["num_physical_cores"] == 2
    assert info["num_sockets"] == 1
    assert info["cpu_frequency_khz"] == 2_400_500  # no cpufreq: "cpu MHz" * 1000
    assert info["memory_capacity"] == 8_000_000 * 1024
    assert info["swap_capacity"] == 1_048_576 * 1024
    assert info["memory_by_type"] == {}
    assert info["hugepages"] == [{"page_size": 2048, "num_pages": 4}, {"page_size": 1048576, "num_pages": 0}]
    assert info["machine_id"] == "3d1219c7c4c5404aaa1f6d2a48adfda4"
    assert info["system_uuid"] == "EC2A1B2C-0000-1111-2222-333344445555"
    assert info["boot_id"] == "0c8b2f7e-1111-2222-3333-444455556666"
    assert (info["cloud_provider"], info["instance_type"], info["instance_id"]) == (
        "Unknown",
        "Unknown",
        "None",
    )


def test_max_frequency_from_cpufreq_wins(root: Path) -> None:
    write(root / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3500000\n")
    assert machine_info(str(root))["cpu_frequency_khz"] == 3_500_000


def test_topology_places_caches_like_cadvisor(root: Path) -> None:
    def core(core_id: int, threads: list[int]) -> dict[str, object]:
        return {
            "core_id": core_id,
            "thread_ids": threads,
            "caches": [
                {"id": core_id, "size": 48 * 1024, "type": "Data", "level": 1},
                {"id": core_id, "size": 1280 * 1024, "type": "Unified", "level": 2},
            ],
            "uncore_caches": [],
            "socket_id": 0,
        }

    assert machine_info(str(root))["topology"] == [
        {
            "node_id": 0,
            "memory": 7_999_000 * 1024,
            "hugepages": [{"page_size": 2048, "num_pages": 4}],
            "cores": [core(0, [0, 2]), core(1, [1, 3])],
            # The L3 every thread of the node shares is the node's, listed once.
            "caches": [{"id": 0, "size": 30720 * 1024, "type": "Unified", "level": 3}],
            "distances": [10],
        }
    ]


def test_an_l3_shared_by_some_cores_is_an_uncore_cache(tmp_path: Path) -> None:
    # Four single-thread cores in two L3 groups (an AMD CCX layout): {0,1} and {2,3}.
    cpus = tmp_path / "sys/devices/system/cpu"
    for cpu in range(4):
        write(cpus / f"cpu{cpu}/topology/core_id", f"{cpu}\n")
        write(cpus / f"cpu{cpu}/topology/physical_package_id", "0\n")
        for index, (level, mask, cache_id) in enumerate(
            [(1, f"{1 << cpu:x}", cpu), (3, "3" if cpu < 2 else "c", cpu // 2)]
        ):
            here = cpus / f"cpu{cpu}/cache/index{index}"
            write(here / "level", f"{level}\n")
            write(here / "type", "Unified\n")
            write(here / "size", "16384K\n" if level == 3 else "32K\n")
            write(here / "shared_cpu_map", f"00000000,{mask}\n")  # comma-separated 32-bit words
            write(here / "id", f"{cache_id}\n")
        (tmp_path / f"sys/devices/system/node/node0/cpu{cpu}").mkdir(parents=True)
    (node,) = machine_info(str(tmp_path))["topology"]
    assert node["caches"] == []
    for core in node["cores"]:
        assert core["caches"] == [{"id": core["core_id"], "size": 32 * 1024, "type": "Unified", "level": 1}]
        group = core["core_id"] // 2
        assert core["uncore_caches"] == [
            {"id": group, "size": 16 * 1024 * 1024, "type": "Unified", "level": 3}
        ]


def test_storage_and_network(root: Path) -> None:
    info = machine_info(str(root))
    assert info["disk_map"] == {
        "8:0": {"name": "sda", "major": 8, "minor": 0, "size": 2000 * 512, "scheduler": "mq-deadline"},
        "259:0": {"name": "nvme0n1", "major": 259, "minor": 0, "size": 10 * 512, "scheduler": "none"},
    }
    assert info["network_devices"] == [
        {"name": "ens4", "mac_address": "42:01:0a:80:00:02", "speed": 0, "mtu": 1460},
        {"name": "eth0", "mac_address": "02:42:ac:11:00:02", "speed": 10000, "mtu": 1500},
    ]
    root_fs, data_fs = os.statvfs(root), os.statvfs(root / "data dir")
    assert info["filesystems"] == [
        {
            "device": "/dev/sda1",
            "capacity": root_fs.f_blocks * root_fs.f_frsize,
            "type": "vfs",
            "inodes": root_fs.f_files,
            "has_inodes": True,
        },
        {
            "device": "/dev/sdb1",
            "capacity": data_fs.f_blocks * data_fs.f_frsize,
            "type": "vfs",
            "inodes": data_fs.f_files,
            "has_inodes": True,
        },
    ]


def test_cpuinfo_stands_in_for_hidden_sysfs_topology(root: Path) -> None:
    for cpu in range(5):
        for name in ("core_id", "physical_package_id"):
            (root / f"sys/devices/system/cpu/cpu{cpu}/topology/{name}").unlink(missing_ok=True)
    info = machine_info(str(root))
    # sysfs still lists the CPUs, without topology: one core per thread, as cAdvisor assumes.
    assert (info["num_cores"], info["num_physical_cores"], info["num_sockets"]) == (4, 4, 1)
    shutil.rmtree(root / "sys/devices/system/cpu")
    info = machine_info(str(root))
    assert (info["num_cores"], info["num_physical_cores"], info["num_sockets"]) == (4, 2, 1)


def test_an_empty_tree_gives_zero_values(tmp_path: Path) -> None:
    info = machine_info(str(tmp_path), now=NOW)
    assert info == {
        "timestamp": "2027-01-15T08:00:00.123456Z",
        "vendor_id": "",
        "num_cores": 0,
        "num_physical_cores": 0,
        "num_sockets": 0,
        "cpu_frequency_khz": 0,
        "memory_capacity": 0,
        "swap_capacity": 0,
        "memory_by_type": {},
        "nvm": {"memory_mode_capacity": 0, "app direct_mode_capacity": 0, "avg_power_budget": 0},
        "hugepages": [],
        "machine_id": "",
        "system_uuid": "",
        "boot_id": "",
        "filesystems": [],
        "disk_map": {},
        "network_devices": [],
        "topology": [],
        "cloud_provider": "Unknown",
        "instance_type": "Unknown",
        "instance_id": "None",
    }


def test_nvm_follows_memory_by_type_with_cadvisors_keys_and_zeros() -> None:
    """cAdvisor's MachineInfo order and NVMInfo tags, space included ("app direct_mode_capacity")."""
    info = machine_info()
    keys = list(info)
    assert keys[keys.index("memory_by_type") + 1 : keys.index("hugepages")] == ["nvm"]
    assert info["nvm"] == {
        "memory_mode_capacity": 0,
        "app direct_mode_capacity": 0,
        "avg_power_budget": 0,
    }


def test_this_machine() -> None:
    info = machine_info()
    assert info["num_cores"] == os.cpu_count()
    assert info["memory_capacity"] > 0
    assert info["num_sockets"] >= 1
    assert (
        sum(len(core["thread_ids"]) for node in info["topology"] for core in node["cores"]) == os.cpu_count()
    )
