"""Validation of container ports as kubectl words it: port numbers, names, protocols and host IPs, and host
ports unique per pod and protocol (``hostNetwork`` included)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifest_validate_support import NOT_AN_IP, container, container_errors, errors, pod

# --- ports -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        (
            [
                {
                    "name": "http",
                    "containerPort": 80,
                    "hostPort": 8080,
                    "protocol": "UDP",
                    "hostIP": "127.0.0.1",
                }
            ],
            [],
        ),
        ([{"name": "http"}], ["ports[0].containerPort: Required value"]),
        ([{"containerPort": 0}], ["ports[0].containerPort: Required value"]),
        (
            [{"containerPort": 70000}],
            ["ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"],
        ),
        ([{"containerPort": "80"}], ['ports[0].containerPort: Invalid value: "80": must be an integer']),
        (
            [{"containerPort": 80, "hostPort": -1}],
            ["ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive"],
        ),
        (
            [{"containerPort": 80, "protocol": "ICMP"}],
            ['ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
        ),
        (
            [{"containerPort": 80, "hostIP": "localhost"}],
            [f'ports[0].hostIP: Invalid value: "localhost": {NOT_AN_IP}'],
        ),
        (
            [{"containerPort": 80, "name": "metrics-endpoint"}],
            ['ports[0].name: Invalid value: "metrics-endpoint": must be no more than 15 characters'],
        ),
        (
            [{"containerPort": 80, "name": "-HTTP--"}],
            [
                'ports[0].name: Invalid value: "-HTTP--": '
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                'ports[0].name: Invalid value: "-HTTP--": must contain at least one letter (a-z)',
                'ports[0].name: Invalid value: "-HTTP--": must not contain consecutive hyphens',
                'ports[0].name: Invalid value: "-HTTP--": must not begin or end with a hyphen',
            ],
        ),
        (
            [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}],
            ['ports[1].name: Duplicate value: "http"'],
        ),
        (
            [{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 80, "protocol": "UDP"}],
            [],
        ),
    ],
)
def test_ports(ports: list[Any], expected: list[str]) -> None:
    assert container_errors(ports=ports) == expected


def test_host_ports_are_unique_per_pod_and_protocol() -> None:
    def on_host_port(name: str, port: int) -> dict[str, Any]:
        return container(name, ports=[{"containerPort": port, "hostPort": 8080}])

    document = pod(on_host_port("a", 80), on_host_port("b", 81), initContainers=[on_host_port("init", 82)])
    assert errors(document) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']


def test_host_network_defaults_host_ports_and_then_requires_them_equal() -> None:
    ports = [{"containerPort": 80}, {"containerPort": 443, "hostPort": 8443}]
    assert errors(pod(container(ports=ports), hostNetwork=True)) == [
        "spec.containers[0].ports[1].hostPort: Invalid value: 8443: "
        "must match `containerPort` when `hostNetwork` is true"
    ]


def test_host_network_containers_collide_on_their_container_ports() -> None:
    port_80 = [{"containerPort": 80}]
    document = pod(container("a", ports=port_80), container("b", ports=port_80), hostNetwork=True)
    assert errors(document) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"']
