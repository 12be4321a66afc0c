"""Every metrics endpoint of the read-only port, parsed by both of prometheus_client's parsers.

``/metrics``, ``/metrics/probes``, ``/metrics/resource`` and ``/metrics/cadvisor`` are served through
prometheus_client's aiohttp handler: the text format by default, OpenMetrics when asked for, gzip when
accepted; the kubelet's names, labels and buckets; no ``*_created`` series; no clashing names.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from pykubelet.metrics import RUNTIME_OPERATION_BUCKETS, Metrics, StateCollector
from pykubelet.server.routes import build_app

ENDPOINTS = ("/metrics", "/metrics/probes", "/metrics/resource", "/metrics/cadvisor")
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
UID = "a" * 32
STAMP = "2026-12-02T01:00:00Z"

SUMMARY: dict[str, Any] = {
    "node": {
        "nodeName": "node1",
        "cpu": {"time": STAMP, "usageNanoCores": 5, "usageCoreNanoSeconds": 7_000_000_000},
        "memory": {"time": STAMP, "usageBytes": 900, "workingSetBytes": 800},
    },
    "pods": [
        {
            "podRef": {"name": "web-node1", "namespace": "default", "uid": UID},
            "startTime": STAMP,
            "cpu": {"time": STAMP, "usageCoreNanoSeconds": 3_000_000_000},
            "memory": {"time": STAMP, "usageBytes": 300, "workingSetBytes": 200},
            "containers": [
                {
                    "name": "nginx",
                    "startTime": STAMP,
                    "cpu": {"time": STAMP, "usageCoreNanoSeconds": 2_500_000_000},
                    "memory": {"time": STAMP, "usageBytes": 250, "workingSetBytes": 150, "rssBytes": 100},
                }
            ],
        }
    ],
}
POD_LIST = {
    "items": [
        {
            "metadata": {"name": "web-node1", "namespace": "default", "uid": UID},
            "status": {
                "containerStatuses": [
                    {
                        "name": "nginx",
                        "containerID": "docker://" + "c" * 64,
                        "image": "nginx:1.22",
                        "restartCount": 2,
                    }
                ]
            },
        }
    ]
}


class FakeHost:
    """What the metrics endpoints read of the agent."""

    def __init__(self) -> None:
        self.metrics = Metrics(
            lambda: {
                "running_pods": 1,
                "containers_by_state": {"running": 1},
                "desired_pods": 1,
                "manifest_errors": ["/m/bad.yaml"],
                "runtime_up": True,
            }
        )
        self.metrics.runtime_operation("create_container", 0.02, ok=True)
        self.metrics.manifest_rejected("/m/bad.yaml")
        self.metrics.pod_start.observe(1.5)
        probes = CollectorRegistry()
        Counter(
            "prober_probe_total",
            "Cumulative number of a liveness, readiness or startup probe.",
            registry=probes,
        )
        self._probes = probes
        self.summary_error = False

    def metrics_text(self) -> bytes:
        return self.metrics.render()

    def probe_metrics_text(self) -> bytes:
        return generate_latest(self._probes)

    def stats_summary_json(self, only_cpu_and_memory: bool = False) -> bytes:
        if self.summary_error:
            return b"not json"
        return json.dumps(SUMMARY).encode()

    def pod_list(self) -> dict[str, Any]:
        return POD_LIST

    def cadvisor_names(self) -> dict[tuple[str, str], tuple[str, str]]:
        return {(UID, "nginx"): ("/docker/" + "c" * 64, f"k8s_nginx_web-node1_default_{UID}_2")}

    def machine_info(self) -> dict[str, Any]:
        return {
            "num_cores": 2,
            "memory_capacity": 4096,
            "boot_id": "b",
            "machine_id": "m",
            "system_uuid": "s",
        }


@pytest.fixture
async def client() -> AsyncIterator[tuple[TestClient[Any, Any], FakeHost]]:
    host = FakeHost()
    async with TestClient(TestServer(build_app(host))) as test_client:  # type: ignore[arg-type]
        yield test_client, host


async def fetch(client: TestClient[Any, Any], path: str, accept: str = "") -> tuple[str, str]:
    headers = {"Accept": accept} if accept else {}
    response = await client.get(path, headers=headers)
    assert response.status == 200, path
    return response.headers["Content-Type"], await response.text()


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_every_endpoint_parses_with_both_parsers(
    client: tuple[TestClient[Any, Any], FakeHost], path: str
) -> None:
    test_client, _ = client
    content_type, text = await fetch(test_client, path)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    text_families = {f.name for f in parse_text(text)}
    assert text_families
    assert "_created" not in text
    content_type, om_text = await fetch(test_client, path, OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    assert om_text.endswith("# EOF\n")
    om_families = parse_openmetrics(om_text)  # type: ignore[no-untyped-call]
    assert {f.name for f in om_families} == text_families  # no "Clashing name"


async def test_gzip_when_accepted(client: tuple[TestClient[Any, Any], FakeHost]) -> None:
    test_client, _ = client
    response = await test_client.get("/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"kubelet_running_pods" in gzip.decompress(await response.read())


async def test_metrics_names_and_buckets(client: tuple[TestClient[Any, Any], FakeHost]) -> None:
    _, text = await fetch(client[0], "/metrics")
    families = {f.name: f for f in parse_text(text)}
    assert families["pykubelet_manifest_errors"].type == "gauge"
    assert families["pykubelet_manifest_rejections"].type == "counter"
    buckets = [
        float(s.labels["le"])
        for s in families["kubelet_runtime_operations_duration_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["le"] != "+Inf"
    ]
    assert buckets == list(RUNTIME_OPERATION_BUCKETS)
    assert 'le="7.62939453125"' in text  # printed as Go prints ExponentialBuckets(.005, 2.5, 14)


def test_the_state_collector_describes_what_it_collects() -> None:
    collector = StateCollector(lambda: {})
    assert [f.name for f in collector.describe()] == [
        "kubelet_running_pods",
        "kubelet_running_containers",
        "kubelet_desired_pods",
        "pykubelet_manifest_errors",
        "pykubelet_runtime_up",
    ]
    registry = CollectorRegistry()
    registry.register(collector)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter("pykubelet_manifest_errors", "a clash the registry must catch", registry=registry)


async def test_resource_metrics_as_the_kubelet_names_them(
    client: tuple[TestClient[Any, Any], FakeHost],
) -> None:
    _, text = await fetch(client[0], "/metrics/resource")
    families = {f.name: f for f in parse_text(text)}
    sample = families["container_cpu_usage_seconds"].samples[0]
    assert families["container_cpu_usage_seconds"].type == "counter"
    assert sample.labels == {"container": "nginx", "pod": "web-node1", "namespace": "default"}
    assert sample.value == 2.5
    assert sample.timestamp is not None  # the stats' own time, as NewLazyMetricWithTimestamp
    assert families["pod_memory_working_set_bytes"].samples[0].value == 200
    assert families["node_cpu_usage_seconds"].samples[0].value == 7
    assert families["node_memory_working_set_bytes"].samples[0].value == 800
    assert families["container_start_time_seconds"].samples[0].value > 0
    assert families["scrape_error"].samples[0].value == 0
    assert families["resource_scrape_error"].samples[0].value == 0
    assert "# HELP container_memory_working_set_bytes Current working set of the container in bytes" in text


async def test_resource_scrape_error_when_the_summary_cannot_be_read(
    client: tuple[TestClient[Any, Any], FakeHost],
) -> None:
    test_client, host = client
    host.summary_error = True
    _, text = await fetch(test_client, "/metrics/resource")
    families = {f.name: f for f in parse_text(text)}
    assert families["resource_scrape_error"].samples[0].value == 1
    assert not families["container_cpu_usage_seconds"].samples


async def test_cadvisor_metrics_with_cadvisors_labels(client: tuple[TestClient[Any, Any], FakeHost]) -> None:
    _, text = await fetch(client[0], "/metrics/cadvisor")
    families = {f.name: f for f in parse_text(text)}
    cpu = {s.labels["id"]: s for s in families["container_cpu_usage_seconds"].samples}
    assert cpu["/"].value == 7 and cpu["/"].labels["container"] == ""
    nginx = cpu["/docker/" + "c" * 64]
    assert nginx.labels == {
        "container": "nginx",
        "cpu": "total",
        "id": "/docker/" + "c" * 64,
        "image": "nginx:1.22",
        "name": f"k8s_nginx_web-node1_default_{UID}_2",
        "namespace": "default",
        "pod": "web-node1",
    }
    working = {s.labels["container"]: s.value for s in families["container_memory_working_set_bytes"].samples}
    assert working == {"": 800, "nginx": 150}
    assert families["machine_cpu_cores"].samples[0].value == 2
    assert families["container_scrape_error"].samples[0].value == 0
