"""What the agent knows about the node it runs on: its name, its IP, its memory."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Node:
    name: str
    host_ip: str
    memory_capacity: int
    cpu_count: int
    can_lower_oom_score: bool = True


def default_route_ip() -> str:
    """The IPv4 address of the interface that holds the default route (the kubelet's node IP).

    Read from /proc/net/route and the interface table, so finding it sends no packet anywhere.
    """
    iface = ""
    try:
        with open("/proc/net/route") as routes:
            next(routes, None)
            for line in routes:
                fields = line.split()
                if len(fields) > 2 and fields[1] == "00000000":
                    iface = fields[0]
                    break
    except OSError:
        pass
    addresses = psutil.net_if_addrs()
    for name in [iface, *addresses]:
        for addr in addresses.get(name, []):
            if addr.family == socket.AF_INET and not addr.address.startswith("127."):
                return addr.address
    return "127.0.0.1"


CAP_SYS_RESOURCE = 24


def has_capability(bit: int) -> bool:
    """Whether this host's capability bounding set (which the engine's containers share) has ``bit``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapBnd:"):
                    return bool(int(line.split()[1], 16) >> bit & 1)
    except (OSError, ValueError):
        pass
    return True


def discover(name: str, node_ip: str = "") -> Node:
    return Node(
        name=name,
        host_ip=node_ip or default_route_ip(),
        memory_capacity=psutil.virtual_memory().total,
        cpu_count=psutil.cpu_count() or 1,
        can_lower_oom_score=has_capability(CAP_SYS_RESOURCE),
    )
