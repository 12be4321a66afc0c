"""The kubelet's Prometheus metrics (``pkg/kubelet/metrics``), with the kubelet's names and labels.

Counters and histograms are updated where things happen (a runtime call, a container start, a pod
sync); the gauges that describe the current state (running pods and containers, manifest errors) are
computed at scrape time from the agent's own state, so they can never drift from it.

What the kubelet's registry (``k8s.io/component-base/metrics``) does and prometheus_client does not by
default is matched here: no ``*_created`` series (``disable_created_metrics``: the kubelet never serves
them), every custom collector's ``describe()`` names what it yields so the registry refuses a clashing
name at registration (a gauge ``x`` and a counter ``x_total`` share the OpenMetrics name ``x``), and
the runtime-operation histogram has the kubelet's buckets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide, as the kubelet: no *_created series on any registry


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    """``prometheus.ExponentialBuckets``: multiplied step by step as Go does, so ``le`` prints the same."""
    buckets = []
    for _ in range(count):
        buckets.append(start)
        start *= factor
    return tuple(buckets)


# kubelet_runtime_operations_duration_seconds: prometheus.ExponentialBuckets(.005, 2.5, 14) (metrics.go)
RUNTIME_OPERATION_BUCKETS = exponential_buckets(0.005, 2.5, 14)

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

    def describe(self) -> Iterable[Metric]:
        """The families :meth:`collect` yields, without samples: the registry checks their names."""
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        return self._families(self._snapshot())

    @staticmethod
    def _families(state: dict[str, Any] | None) -> list[Metric]:
        """The gauges, with samples from ``state`` (none for ``describe``)."""
        pods = GaugeMetricFamily("kubelet_running_pods", "Number of pods that have a running pod sandbox")
        containers = GaugeMetricFamily(
            "kubelet_running_containers", "Number of containers currently running", labels=["container_state"]
        )
        desired = GaugeMetricFamily(
            "kubelet_desired_pods",
            "The number of pods the kubelet is being instructed to run",
            labels=["static"],
        )
        errors = GaugeMetricFamily(
            "pykubelet_manifest_errors",
            "1 for each manifest file that does not currently yield a pod, labelled with the file",
            labels=["file"],
        )
        runtime_up = GaugeMetricFamily("pykubelet_runtime_up", "1 when the container runtime answers")
        if state is not None:
            pods.add_metric([], state["running_pods"])
            for container_state, count in sorted(state["containers_by_state"].items()):
                containers.add_metric([container_state], count)
            desired.add_metric(["true"], state["desired_pods"])
            for path in sorted(state["manifest_errors"]):
                errors.add_metric([path], 1)
            runtime_up.add_metric([], 1 if state["runtime_up"] else 0)
        return [pods, containers, desired, errors, runtime_up]


class ExpositionCollector(Collector):
    """Families read back from a text exposition, so a registry (and prometheus_client's own HTTP
    handler: content negotiation, OpenMetrics, gzip) can serve what the agent renders as text."""

    def __init__(self, render: Callable[[], bytes]) -> None:
        self._render = render

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterable[Metric]:
        return list(text_string_to_metric_families(self._render().decode()))


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
            buckets=RUNTIME_OPERATION_BUCKETS,
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
        # Not pykubelet_manifest_errors_total: its OpenMetrics name would clash with the gauge above.
        self.manifest_rejections = Counter(
            "pykubelet_manifest_rejections_total",
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

    def manifest_rejected(self, path: str) -> None:
        """A manifest file newly failed (PodConfig's FailedValidation)."""
        self.manifest_rejections.labels(path).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
