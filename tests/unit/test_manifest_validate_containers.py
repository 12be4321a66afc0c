"""Container validation as kubectl words it: the container list, names, images and scalar fields,
resources, the security context, and wrong types anywhere (errors at their path, never crashes)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifest_validate_support import (
    DNS_LABEL,
    FORMAT_WRONG,
    api_reference,
    container,
    container_errors,
    errors,
    pod,
)

# --- containers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        (None, ["spec.containers: Required value"]),
        ([], ["spec.containers: Required value"]),
        ("nginx", ['spec.containers: Invalid value: "nginx": must be a list']),
        (["nginx"], ['spec.containers[0]: Invalid value: "nginx": must be an object']),
        ([{"image": "nginx"}], ["spec.containers[0].name: Required value"]),
        ([{"name": "web"}], ["spec.containers[0].image: Required value"]),
        (
            [container(image=" nginx")],
            [
                'spec.containers[0].image: Invalid value: " nginx": '
                "must not have leading or trailing whitespace"
            ],
        ),
        ([container(), container()], ['spec.containers[1].name: Duplicate value: "web"']),
        ([container("web_1")], [f'spec.containers[0].name: Invalid value: "web_1": {DNS_LABEL}']),
    ],
)
def test_container_list_names_and_images(containers: Any, expected: list[str]) -> None:
    document = pod()
    document["spec"]["containers"] = containers
    assert errors(document) == expected


def test_names_are_unique_across_init_and_app_containers() -> None:
    document = pod(
        container("web"), initContainers=[container("setup"), container("web"), container("setup")]
    )
    assert errors(document) == [
        'spec.initContainers[1].name: Duplicate value: "web"',
        'spec.initContainers[2].name: Duplicate value: "setup"',
    ]


def test_init_containers_get_the_same_checks() -> None:
    document = pod(initContainers=[container("init", image="", imagePullPolicy="Sometimes", tty="yes")])
    assert errors(document) == [
        "spec.initContainers[0].image: Required value",
        'spec.initContainers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"IfNotPresent", "Never"',
        'spec.initContainers[0].tty: Invalid value: "yes": must be a boolean',
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"command": "nginx -g daemon off"},
            ['command: Invalid value: "nginx -g daemon off": must be a list'],
        ),
        ({"args": ["-c", 5]}, ["args[1]: Invalid value: 5: must be a string"]),
        ({"workingDir": 1}, ["workingDir: Invalid value: 1: must be a string"]),
        ({"stdin": "true"}, ['stdin: Invalid value: "true": must be a boolean']),
        (
            {"terminationMessagePolicy": "Always"},
            [
                'terminationMessagePolicy: Unsupported value: "Always": '
                'supported values: "File", "FallbackToLogsOnError"'
            ],
        ),
        ({"imagePullPolicy": "Never", "stdinOnce": False, "tty": True}, []),
    ],
)
def test_container_scalars(fields: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(**fields) == expected


# --- resources ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"limits": {"cpu": 1, "memory": "128Mi"}, "requests": {"cpu": 0.5, "memory": "64Mi"}}, []),
        (
            {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}},
            ['resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
        ),
        (
            {"limits": {"memory": "1Gi"}, "requests": {"memory": "1.5Gi"}},
            [
                'resources.requests: Invalid value: "1536Mi": '
                "must be less than or equal to memory limit of 1Gi"
            ],
        ),
        ({"limits": {"cpu": "1000m"}, "requests": {"cpu": "1"}}, []),
        (
            {"limits": {"memory": "1GB"}},
            [
                f'resources.limits[memory]: Invalid value: "1GB": {FORMAT_WRONG}',
                f'resources.requests[memory]: Invalid value: "1GB": {FORMAT_WRONG}',
            ],
        ),
        (
            {"requests": {"memory": "1K"}},
            [
                "resources.requests[memory]: Invalid value: \"1K\": unable to parse quantity's suffix 'K': "
                "suffixes are case-sensitive (n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, "
                "or an exponent such as e3)"
            ],
        ),
        (
            {"requests": {"cpu": "-100m"}},
            ['resources.requests[cpu]: Invalid value: "-100m": must be greater than or equal to 0'],
        ),
        (
            {"requests": {"cpu": "10E"}},
            [
                'resources.requests[cpu]: Invalid value: "10E": '
                "the quantity is too large: it must fit in a 64-bit integer"
            ],
        ),
        (
            {"requests": {"gpu": "1"}},
            ['resources.requests: Invalid value: "gpu": must be a standard resource for containers'],
        ),
        (
            {"requests": {"memory": True}},
            [
                "resources.requests[memory]: Invalid value: true: "
                "a quantity must be a string or a number, not bool"
            ],
        ),
        (
            {"limits": {"example.com/fpga": "2"}, "requests": {"example.com/fpga": "1"}},
            ['resources.requests: Invalid value: "1": must be equal to example.com/fpga limit of 2'],
        ),
        ({"limits": ["cpu"]}, ['resources.limits: Invalid value: ["cpu"]: must be an object']),
        (
            {"claims": [{"name": "gpu"}]},
            [f"resources.claims: Forbidden: {api_reference('ResourceClaim')}"],
        ),
        ("1 cpu", ['resources: Invalid value: "1 cpu": must be an object']),
    ],
)
def test_resources(resources: Any, expected: list[str]) -> None:
    assert container_errors(resources=resources) == expected


# --- security context --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {
                "runAsUser": 0,
                "runAsGroup": 0,
                "runAsNonRoot": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            },
            [],
        ),
        (
            {"runAsUser": -1},
            ["securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"],
        ),
        ({"runAsGroup": "root"}, ['securityContext.runAsGroup: Invalid value: "root": must be an integer']),
        ({"privileged": "true"}, ['securityContext.privileged: Invalid value: "true": must be a boolean']),
        (
            {"capabilities": {"add": "NET_ADMIN"}},
            ['securityContext.capabilities.add: Invalid value: "NET_ADMIN": must be a list'],
        ),
        (
            {"capabilities": {"drop": [1]}},
            ["securityContext.capabilities.drop[0]: Invalid value: 1: must be a string"],
        ),
        (
            {"privileged": True, "allowPrivilegeEscalation": False},
            [
                'securityContext: Invalid value: {"allowPrivilegeEscalation": false, "privileged": true}: '
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            ],
        ),
    ],
)
def test_container_security_context(context: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(securityContext=context) == expected


# --- wrong types anywhere are errors, not crashes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ports": "80"}, ['ports: Invalid value: "80": must be a list']),
        ({"ports": [80]}, ["ports[0]: Invalid value: 80: must be an object"]),
        ({"env": ["A=b"]}, ['env[0]: Invalid value: "A=b": must be an object']),
        (
            {"env": [{"name": "A", "valueFrom": "x"}]},
            ['env[0].valueFrom: Invalid value: "x": must be an object'],
        ),
        (
            {"env": [{"name": "A", "valueFrom": {"fieldRef": "metadata.name"}}]},
            ['env[0].valueFrom.fieldRef: Invalid value: "metadata.name": must be an object'],
        ),
        (
            {"volumeMounts": {"logs": "/logs"}},
            ['volumeMounts: Invalid value: {"logs": "/logs"}: must be a list'],
        ),
        (
            {"volumeMounts": [{"name": 1, "mountPath": 2}]},
            [
                "volumeMounts[0].name: Invalid value: 1: must be a string",
                "volumeMounts[0].mountPath: Invalid value: 2: must be a string",
            ],
        ),
        (
            {"securityContext": "privileged"},
            ['securityContext: Invalid value: "privileged": must be an object'],
        ),
        (
            {"livenessProbe": "curl localhost"},
            ['livenessProbe: Invalid value: "curl localhost": must be an object'],
        ),
        ({"lifecycle": ["preStop"]}, ['lifecycle: Invalid value: ["preStop"]: must be an object']),
        ({"name": ["web"]}, ['name: Invalid value: ["web"]: must be a string']),
        ({"image": {"name": "nginx"}}, ['image: Invalid value: {"name": "nginx"}: must be a string']),
        ({"imagePullPolicy": 1}, ["imagePullPolicy: Invalid value: 1: must be a string"]),
        ({"command": [["sh"]]}, ['command[0]: Invalid value: ["sh"]: must be a string']),
    ],
)
def test_wrong_types_are_reported_at_their_path(fields: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(**fields) == expected
