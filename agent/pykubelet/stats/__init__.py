"""The kubelet's Summary API (``/stats/summary``): a package, its public names re-exported here."""

from pykubelet.stats.summary import USER_HZ, ContainerRef, PodRef, StatsProvider, disk_usage, only_cpu_and_memory

__all__ = ["USER_HZ", "ContainerRef", "PodRef", "StatsProvider", "disk_usage", "only_cpu_and_memory"]
