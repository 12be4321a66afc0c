"""The kubelet's Prometheus metrics (``pkg/kubelet/metrics``), with the kubelet's names and labels.

Counters and histograms are updated where things happen (a runtime call, a container start, a pod
sync); the gauges that describe the current state (running pods and containers, manifest errors) are
computed at scrape time from the agent's own state, so they can never drift from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# kubelet_pod_start_duration_seconds buckets (metrics.go)
POD_START_BUCKETS = (
    0.5,
    1,
    2,
    3,
    4,
    5,
    6,
    8,
    10,
    20,
    30,
    45,
    60,
    120,
    180,
    240,
    300,
    360,
    480,
    600,
    900,
    1200,
    1800,
    2700,
    3600,
)


class StateCollector(Collector):
    """Gauges read from the agent at scrape time."""

    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._snapshot = snapshot

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # nothing to check at registration; the state does not exist yet

    def collect(self) -> Iterable[GaugeMetricFamily]:
        state = self._snapshot()
        pods = GaugeMetricFamily("kubelet_running_pods", "Number of pods that have a running pod sandbox")
        pods.add_metric([], state["running_pods"])
        yield pods
        containers = GaugeMetricFamily(
            "kubelet_running_containers", "Number of containers currently running", labels=["container_state"]
        )
        for container_state, count in sorted(state["containers_by_state"].items()):
            containers.add_metric([container_state], count)
        yield containers
        desired = GaugeMetricFamily(
            "kubelet_desired_pods",
            "The number of pods the kubelet is being instructed to run",
            labels=["static"],
        )
        desired.add_metric(["true"], state["desired_pods"])
        yield desired
        errors = GaugeMetricFamily(
            "pykubelet_manifest_errors",
            "1 for each manifest file that does not currently yield a pod, labelled with the file",
            labels=["file"],
        )
        for path in sorted(state["manifest_errors"]):
            errors.add_metric([path], 1)
        yield errors
        runtime_up = GaugeMetricFamily("pykubelet_runtime_up", "1 when the container runtime answers")
        runtime_up.add_metric([], 1 if state["runtime_up"] else 0)
        yield runtime_up


class Metrics:
    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runtime_operations = Counter(
            "kubelet_runtime_operations_total",
            "Cumulative number of runtime operations by operation type.",
            ["operation_type"],
            registry=r,
        )
        self.runtime_errors = Counter(
            "kubelet_runtime_operations_errors_total",
            "Cumulative number of runtime operation errors by operation type.",
            ["operation_type"],
            registry=r,
        )
        self.runtime_duration = Histogram(
            "kubelet_runtime_operations_duration_seconds",
            "Duration in seconds of runtime operations.",
            ["operation_type"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.pod_start = Histogram(
            "kubelet_pod_start_duration_seconds",
            "Duration in seconds from the kubelet seeing a pod for the first time to the pod starting to run",
            registry=r,
            buckets=POD_START_BUCKETS,
        )
        self.pod_worker = Histogram(
            "kubelet_pod_worker_duration_seconds",
            "Duration in seconds to sync a single pod. Broken down by "
            "operation type: create, update, or sync",
            ["operation_type"],
            registry=r,
        )
        self.restarted_pods = Counter(
            "kubelet_restarted_pods_total",
            "Number of pods that have been restarted because they were deleted "
            "and recreated with the same UID while the kubelet was watching them (common for static pods)",
            ["static"],
            registry=r,
        )
        self.started_containers = Counter(
            "kubelet_started_containers_total",
            "Cumulative number of containers started",
            ["container_type"],
            registry=r,
        )
        self.started_container_errors = Counter(
            "kubelet_started_containers_errors_total",
            "Cumulative number of errors when starting containers",
            ["container_type", "code"],
            registry=r,
        )
        self.manifest_errors_total = Counter(
            "pykubelet_manifest_errors_total",
            "Manifest files that failed to parse or validate, counted per change",
            ["file"],
            registry=r,
        )
        r.register(StateCollector(snapshot))

    def runtime_operation(self, operation: str, seconds: float, ok: bool) -> None:
        self.runtime_operations.labels(operation).inc()
        self.runtime_duration.labels(operation).observe(seconds)
        if not ok:
            self.runtime_errors.labels(operation).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
