"""Validation of probes, lifecycle hooks and the container ``restartPolicy`` as kubectl words it: handlers,
thresholds, and what plain init containers and sidecars may have."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifest_validate_support import container, container_errors, errors, pod

# --- probes and lifecycle ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ({"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5}, []),
        (
            {
                "httpGet": {
                    "port": "http",
                    "path": "/healthz",
                    "scheme": "HTTPS",
                    "httpHeaders": [{"name": "X", "value": "y"}],
                }
            },
            [],
        ),
        ({"grpc": {"port": 9000}}, []),
        ({"periodSeconds": 5}, ["livenessProbe: Required value: must specify a handler type"]),
        (
            {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}},
            ["livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"],
        ),
        ({"exec": {}}, ["livenessProbe.exec.command: Required value"]),
        ({"exec": ["true"]}, ['livenessProbe.exec: Invalid value: ["true"]: must be an object']),
        ({"httpGet": {"path": "/"}}, ["livenessProbe.httpGet.port: Required value"]),
        (
            {"httpGet": {"port": 0}},
            ["livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"],
        ),
        (
            {"tcpSocket": {"port": "8080"}},
            ['livenessProbe.tcpSocket.port: Invalid value: "8080": must contain at least one letter (a-z)'],
        ),
        (
            {"tcpSocket": {"port": [80]}},
            ["livenessProbe.tcpSocket.port: Invalid value: [80]: must be an integer or a string"],
        ),
        (
            {"httpGet": {"port": 80, "scheme": "FTP"}},
            ['livenessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"'],
        ),
        (
            {"exec": {"command": ["true"]}, "periodSeconds": -1},
            ["livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"exec": {"command": ["true"]}, "timeoutSeconds": "1s"},
            ['livenessProbe.timeoutSeconds: Invalid value: "1s": must be an integer'],
        ),
        (
            {"exec": {"command": ["true"]}, "successThreshold": 2},
            ["livenessProbe.successThreshold: Invalid value: 2: must be 1"],
        ),
    ],
)
def test_liveness_probe(probe: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(livenessProbe=probe) == expected


def test_only_readiness_may_need_several_successes() -> None:
    probe = {"exec": {"command": ["true"]}, "successThreshold": 3}
    assert container_errors(readinessProbe=probe) == []
    assert container_errors(startupProbe=probe) == [
        "startupProbe.successThreshold: Invalid value: 3: must be 1"
    ]


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ({"preStop": {"sleep": {"seconds": 5}}, "postStart": {"httpGet": {"port": 80}}}, []),
        (
            {"preStop": {"grpc": {"port": 80}}},
            ["lifecycle.preStop: Required value: must specify a handler type"],
        ),
        (
            {"preStop": {"sleep": {"seconds": -1}}},
            ["lifecycle.preStop.sleep.seconds: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"postStart": {"exec": {"command": ["a"]}, "sleep": {"seconds": 1}}},
            ["lifecycle.postStart.sleep: Forbidden: may not specify more than 1 handler type"],
        ),
        (
            {"preStop": "nginx -s quit"},
            ['lifecycle.preStop: Invalid value: "nginx -s quit": must be an object'],
        ),
    ],
)
def test_lifecycle_hooks(lifecycle: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(lifecycle=lifecycle) == expected


INIT_ONLY = "may not be set for init containers without restartPolicy=Always"


def test_plain_init_containers_may_not_have_probes_or_hooks_but_sidecars_may() -> None:
    probe = {"exec": {"command": ["true"]}}
    plain = container("init", livenessProbe=probe, lifecycle={"preStop": {"sleep": {"seconds": 1}}})
    sidecar = container("sidecar", restartPolicy="Always", startupProbe=probe)
    assert errors(pod(initContainers=[plain, sidecar])) == [
        f"spec.initContainers[0].lifecycle: Forbidden: {INIT_ONLY}",
        f"spec.initContainers[0].livenessProbe: Forbidden: {INIT_ONLY}",
        'spec.initContainers[1].restartPolicy: Unsupported value: "Always": pykubelet does not run sidecar '
        "(restartPolicy: Always) init containers yet; make it a regular container",
    ]


def test_container_restart_policy_is_for_sidecars_only() -> None:
    document = pod(container(restartPolicy="Always"), initContainers=[container("i", restartPolicy="Never")])
    assert errors(document) == [
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]
