"""NetworkStats of one network namespace, from ``/proc/<pid>/net/dev``.

Mirrors cAdvisor's ``container/libcontainer/handler.go`` (``networkStatsFromProc``/``scanInterfaceStats``:
the counters of every interface of the namespace a process lives in, loopback and the runtime's virtual
plumbing left out) and the kubelet's ``pkg/kubelet/stats/helper.go`` (``cadvisorInfoToNetworkStats``: the
default interface's counters inline, every interface in ``interfaces``). The node reads PID 1's namespace,
a pod its sandbox's.
"""

from __future__ import annotations

import os
from typing import Any

from pykubelet.stats.files import read_text

# The interface whose counters fill NetworkStats' inline fields (the kubelet's network.DefaultInterfaceName).
DEFAULT_INTERFACE = "eth0"
# cAdvisor ignores these interfaces everywhere: loopback and the runtime's own virtual plumbing.
IGNORED_INTERFACE_PREFIXES = ("lo", "veth", "docker")


def network_json(proc_pid: str, stamp: str) -> dict[str, Any] | None:
    """NetworkStats of the namespace ``<proc>/<pid>`` lives in, from its ``net/dev``."""
    text = read_text(os.path.join(proc_pid, "net", "dev"))
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
    default = _default_interface(proc_pid, [str(i["name"]) for i in interfaces])
    network: dict[str, Any] = {"time": stamp}
    network.update(next((i for i in interfaces if i["name"] == default), {}))
    network["interfaces"] = interfaces
    return network


def _default_interface(proc_pid: str, names: list[str]) -> str | None:
    """eth0 as the kubelet assumes; else the default route's interface (a host's ens3, say)."""
    if DEFAULT_INTERFACE in names:
        return DEFAULT_INTERFACE
    for line in (read_text(os.path.join(proc_pid, "net", "route")) or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 1 and fields[1] == "00000000" and fields[0] in names:
            return fields[0]
    return None
