"""``/metrics/resource`` and ``/metrics/cadvisor``: the stats summary as the kubelet exposes it to Prometheus.

Both read the summary the stats housekeeping already collected (never the kernel or the runtime per
scrape), as the kubelet's collectors read its summary provider and cAdvisor's cache:

- :class:`ResourceMetricsCollector` is ``pkg/kubelet/metrics/collectors/resource_metrics.go``: the same
  names, help texts, labels (``container``, ``pod``, ``namespace``), sample timestamps (the stats'
  ``time``) and the ``scrape_error`` / ``resource_scrape_error`` gauges.
- :class:`CadvisorCollector` is the part of cAdvisor's Prometheus collector (the v0.38 of kubelet 1.20)
  that the summary can feed: per-container CPU, memory and start time with cAdvisor's labels (``container``,
  ``id``, ``image``, ``name``, ``namespace``, ``pod``; ``cpu="total"`` as the kubelet turns per-CPU
  usage off), the root cgroup ``id="/"`` for the node, and the machine gauges. pykubelet makes no
  ``kubepods`` cgroups, so there are no pod-level rows; see docs/fidelity.md for what differs.

Both ``describe()`` exactly the families they ``collect()``, so the registry checks their names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("pykubelet.stats")

Summary = Mapping[str, Any]
NANOS = 1e9
CADVISOR_LABELS = ["container", "id", "image", "name", "namespace", "pod"]
_G = GaugeMetricFamily
# cAdvisor's families in collect()'s order: the CPU counter, then eight gauges.
_CadvisorFamilies = tuple[CounterMetricFamily, _G, _G, _G, _G, _G, _G, _G, _G]


def _seconds(stamp: str | None) -> float | None:
    """RFC 3339 (as the summary writes it) -> seconds since the epoch; None when absent or unreadable."""
    if not stamp:
        return None
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _cpu(stats: Mapping[str, Any]) -> tuple[float, float | None] | None:
    """(core-seconds, timestamp) of a stats block's ``cpu``, if it has a cumulative counter."""
    cpu = stats.get("cpu") or {}
    if cpu.get("usageCoreNanoSeconds") is None:
        return None
    return cpu["usageCoreNanoSeconds"] / NANOS, _seconds(cpu.get("time"))


def _memory(stats: Mapping[str, Any], key: str = "workingSetBytes") -> tuple[float, float | None] | None:
    memory = stats.get("memory") or {}
    if memory.get(key) is None:
        return None
    return float(memory[key]), _seconds(memory.get("time"))


class ResourceMetricsCollector(Collector):
    """``NewResourceMetricsCollector``: node, pod and container CPU and memory from the summary."""

    def __init__(self, summary: Callable[[], Summary]) -> None:
        self._summary = summary

    def describe(self) -> Iterable[Metric]:
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        try:
            summary: Summary | None = self._summary()
        except Exception as exc:  # the kubelet: log, report scrape_error 1, serve nothing else
            log.error("Error getting summary for resourceMetric prometheus endpoint: %s", exc)
            summary = None
        return self._families(summary, failed=summary is None)

    @staticmethod
    def _families(summary: Summary | None, failed: bool = False) -> list[Metric]:
        pod_labels, container_labels = ["pod", "namespace"], ["container", "pod", "namespace"]
        node_cpu = CounterMetricFamily(
            "node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds"
        )
        node_memory = GaugeMetricFamily(
            "node_memory_working_set_bytes", "Current working set of the node in bytes"
        )
        start = GaugeMetricFamily(
            "container_start_time_seconds",
            "Start time of the container since unix epoch in seconds",
            labels=container_labels,
        )
        container_cpu = CounterMetricFamily(
            "container_cpu_usage_seconds_total",
            "Cumulative cpu time consumed by the container in core-seconds",
            labels=container_labels,
        )
        container_memory = GaugeMetricFamily(
            "container_memory_working_set_bytes",
            "Current working set of the container in bytes",
            labels=container_labels,
        )
        pod_cpu = CounterMetricFamily(
            "pod_cpu_usage_seconds_total",
            "Cumulative cpu time consumed by the pod in core-seconds",
            labels=pod_labels,
        )
        pod_memory = GaugeMetricFamily(
            "pod_memory_working_set_bytes", "Current working set of the pod in bytes", labels=pod_labels
        )
        help_error = "1 if there was an error while getting container metrics, 0 otherwise"
        scrape_error = GaugeMetricFamily("scrape_error", help_error)
        resource_scrape_error = GaugeMetricFamily("resource_scrape_error", help_error)
        families: list[Metric] = [
            node_cpu,
            node_memory,
            start,
            container_cpu,
            container_memory,
            pod_cpu,
            pod_memory,
            scrape_error,
            resource_scrape_error,
        ]
        if summary is None and not failed:
            return families  # describe(): the families without samples
        for family in (scrape_error, resource_scrape_error):
            family.add_metric([], 1 if failed else 0)
        if summary is None:
            return families
        node = summary.get("node") or {}
        if (value := _cpu(node)) is not None:
            node_cpu.add_metric([], value[0], timestamp=value[1])
        if (value := _memory(node)) is not None:
            node_memory.add_metric([], value[0], timestamp=value[1])
        for pod in summary.get("pods", []):
            ref = pod.get("podRef") or {}
            name, namespace = ref.get("name", ""), ref.get("namespace", "")
            for container in pod.get("containers", []):
                labels = [container.get("name", ""), name, namespace]
                started = _seconds(container.get("startTime"))
                if started is not None and started > 0:
                    start.add_metric(labels, started)
                if (value := _cpu(container)) is not None:
                    container_cpu.add_metric(labels, value[0], timestamp=value[1])
                if (value := _memory(container)) is not None:
                    container_memory.add_metric(labels, value[0], timestamp=value[1])
            if (value := _cpu(pod)) is not None:
                pod_cpu.add_metric([name, namespace], value[0], timestamp=value[1])
            if (value := _memory(pod)) is not None:
                pod_memory.add_metric([name, namespace], value[0], timestamp=value[1])
        return families


class CadvisorCollector(Collector):
    """The summary's containers and node under cAdvisor's metric names and labels."""

    def __init__(
        self,
        summary: Callable[[], Summary],
        pod_list: Callable[[], Mapping[str, Any]],
        machine: Callable[[], Mapping[str, Any]],
        names: Callable[[], Mapping[tuple[str, str], tuple[str, str]]] = dict,
    ) -> None:
        """``names``: (pod uid, container name) -> (cgroup, the runtime's name), the ``id`` and ``name``
        labels (Docker's ``/docker/<id>`` and ``k8s_...``; under containerd its own cgroup and the id)."""
        self._summary = summary
        self._pod_list = pod_list
        self._machine = machine
        self._names = names

    def describe(self) -> Iterable[Metric]:
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        families = self._families()
        cpu, working_set, usage, rss, start, last_seen, scrape_error, cores, memory = families
        try:
            summary, statuses, machine = self._summary(), _statuses(self._pod_list()), self._machine()
            names = self._names()
        except Exception as exc:
            log.error("Error getting container stats for the cadvisor metrics endpoint: %s", exc)
            scrape_error.add_metric([], 1)
            return list(families)
        scrape_error.add_metric([], 0)
        rows = [(["", "/", "", "", "", ""], summary.get("node") or {})]
        for pod in summary.get("pods", []):
            ref = pod.get("podRef") or {}
            for container in pod.get("containers", []):
                which = (ref.get("uid", ""), container.get("name", ""))
                cgroup, runtime_name = names.get(which, ("", ""))
                image = str((statuses.get(which) or {}).get("image", ""))
                row = [container.get("name", ""), cgroup, image, runtime_name]
                rows.append(([*row, ref.get("namespace", ""), ref.get("name", "")], container))
        for labels, stats in rows:
            if (value := _cpu(stats)) is not None:
                cpu.add_metric([*labels[:1], "total", *labels[1:]], value[0], timestamp=value[1])
                last_seen.add_metric(labels, value[1] or 0)
            for family, key in ((working_set, "workingSetBytes"), (usage, "usageBytes"), (rss, "rssBytes")):
                if (value := _memory(stats, key)) is not None:
                    family.add_metric(labels, value[0], timestamp=value[1])
            started = _seconds(stats.get("startTime"))
            if started is not None and labels[1] != "/":
                start.add_metric(labels, started)
        machine_labels = [str(machine.get(k, "")) for k in ("boot_id", "machine_id", "system_uuid")]
        cores.add_metric(machine_labels, machine.get("num_cores", 0))
        memory.add_metric(machine_labels, machine.get("memory_capacity", 0))
        return list(families)

    @staticmethod
    def _families() -> _CadvisorFamilies:
        """cAdvisor's families, empty: the CPU counter, then the gauges, in :meth:`collect`'s order."""
        machine_labels = ["boot_id", "machine_id", "system_uuid"]
        return (
            CounterMetricFamily(
                "container_cpu_usage_seconds_total",
                "Cumulative cpu time consumed in seconds.",
                labels=["container", "cpu", *CADVISOR_LABELS[1:]],
            ),
            GaugeMetricFamily(
                "container_memory_working_set_bytes", "Current working set in bytes.", labels=CADVISOR_LABELS
            ),
            GaugeMetricFamily(
                "container_memory_usage_bytes",
                "Current memory usage in bytes, including all memory regardless of when it was accessed",
                labels=CADVISOR_LABELS,
            ),
            GaugeMetricFamily("container_memory_rss", "Size of RSS in bytes.", labels=CADVISOR_LABELS),
            GaugeMetricFamily(
                "container_start_time_seconds",
                "Start time of the container since unix epoch in seconds.",
                labels=CADVISOR_LABELS,
            ),
            GaugeMetricFamily(
                "container_last_seen",
                "Last time a container was seen by the exporter",
                labels=CADVISOR_LABELS,
            ),
            GaugeMetricFamily(
                "container_scrape_error",
                "1 if there was an error while getting container metrics, 0 otherwise",
            ),
            GaugeMetricFamily("machine_cpu_cores", "Number of logical CPU cores.", labels=machine_labels),
            GaugeMetricFamily(
                "machine_memory_bytes", "Amount of memory installed on the machine.", labels=machine_labels
            ),
        )


def _statuses(pod_list: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(pod uid, container name) -> that container's status in ``/pods``."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in pod_list.get("items", []):
        uid = item.get("metadata", {}).get("uid", "")
        for status in (item.get("status") or {}).get("containerStatuses", []):
            found[(uid, status.get("name", ""))] = status
    return found
