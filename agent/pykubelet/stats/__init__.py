"""The kubelet's Summary API (``/stats/summary``) read straight from cgroup and /proc files.

The real kubelet gets these numbers from cAdvisor, which reads the kernel's cgroup files on a 10-15 s
housekeeping loop; this package reads the same files itself, in microseconds, cut as cAdvisor and the
kubelet's stats provider are:

- :mod:`.files`: the kernel's text files, where a missing file means "no number";
- :mod:`.cgroups`: a container's CPU, memory and process counters (cgroup v1 and v2) and CPU rates;
- :mod:`.disk`: du-style walks (volumes, writable layers, logs) and statfs totals;
- :mod:`.network`: a network namespace's interface counters;
- :mod:`.machine`: the node's own figures (CPU, memory, boot time, PID limit);
- :mod:`.summary`: the ``/stats/summary`` document and :class:`StatsProvider`, which builds it.

The names below are the package's public interface; import them from ``pykubelet.stats``.
"""

from pykubelet.stats.cgroups import UNLIMITED_MEMORY
from pykubelet.stats.disk import DU_MAX_ENTRIES, DU_TTL_SECONDS, disk_usage
from pykubelet.stats.files import NANOS, USER_HZ
from pykubelet.stats.network import DEFAULT_INTERFACE, IGNORED_INTERFACE_PREFIXES
from pykubelet.stats.summary import ContainerRef, PodRef, StatsProvider, only_cpu_and_memory

__all__ = [
    "DEFAULT_INTERFACE",
    "DU_MAX_ENTRIES",
    "DU_TTL_SECONDS",
    "IGNORED_INTERFACE_PREFIXES",
    "NANOS",
    "UNLIMITED_MEMORY",
    "USER_HZ",
    "ContainerRef",
    "PodRef",
    "StatsProvider",
    "disk_usage",
    "only_cpu_and_memory",
]
