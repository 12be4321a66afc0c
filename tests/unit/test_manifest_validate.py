"""Validation errors read exactly like kubectl's, are all collected, and never come from a crash: whole pods,
metadata and the pod spec's own fields."""

from __future__ import annotations

from typing import Any

import pytest

from pykubelet.manifest.validate import validate_pod
from tests.unit.manifest_validate_support import (
    DNS_LABEL,
    DNS_SUBDOMAIN,
    LABEL_VALUE,
    LOGS,
    NOT_AN_IP,
    QUALIFIED_NAME,
    RESTART_POLICIES,
    api_reference,
    container,
    errors,
    pod,
)

# --- whole pods --------------------------------------------------------------------------------------------


def test_the_walkthrough_pod_is_valid() -> None:
    nginx = container(
        "nginx",
        ports=[{"name": "http", "containerPort": 80, "hostPort": 8080}],
        volumeMounts=[{"name": "logs", "mountPath": "/var/log/nginx"}],
        resources={"limits": {"cpu": "500m", "memory": "128Mi"}},
        readinessProbe={"httpGet": {"port": "http"}},
        livenessProbe={"tcpSocket": {"port": 80}, "initialDelaySeconds": 5},
        lifecycle={"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}},
    )
    truncator = container(
        "truncator",
        image="busybox",
        command=["sh", "-c", "while true; do : > /logs/access.log; sleep 60; done"],
        env=[{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        volumeMounts=[{"name": "logs", "mountPath": "/logs"}],
        securityContext={"runAsUser": 65534, "capabilities": {"drop": ["ALL"]}},
    )
    init = container("init", image="busybox", command=["true"])
    metadata = {
        "name": "nginx-truncator",
        "namespace": "kube-system",
        "labels": {"app": "nginx", "example.com/tier": "web"},
        "annotations": {"Example.com/Owner": "me"},
    }
    document = pod(nginx, truncator, initContainers=[init], volumes=[LOGS], metadata=metadata)
    assert errors(document) == []


def test_every_error_is_collected() -> None:
    document = pod(
        container("Web", image=""),
        container("web", ports=[{"containerPort": 0}]),
        metadata={"name": "Web_1"},
        restartPolicy="Sometimes",
    )
    assert errors(document) == [
        f'metadata.name: Invalid value: "Web_1": {DNS_SUBDOMAIN}',
        f'spec.restartPolicy: Unsupported value: "Sometimes": {RESTART_POLICIES}',
        f'spec.containers[0].name: Invalid value: "Web": {DNS_LABEL}',
        "spec.containers[0].image: Required value",
        "spec.containers[1].ports[0].containerPort: Required value",
    ]


def test_a_pod_that_is_not_an_object() -> None:
    not_a_pod: Any = "web"
    assert [str(e) for e in validate_pod(not_a_pod)] == ['Invalid value: "web": must be an object']


# --- metadata ----------------------------------------------------------------------------------------------

NAME_REQUIRED = (
    "metadata.name: Required value: name is required (generateName is not supported for static pods)"
)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, [NAME_REQUIRED]),
        ({"name": ""}, [NAME_REQUIRED]),
        ({"name": None}, [NAME_REQUIRED]),
        ({"name": "Web_1"}, [f'metadata.name: Invalid value: "Web_1": {DNS_SUBDOMAIN}']),
        (
            {"name": "a" * 254},
            [f'metadata.name: Invalid value: "{"a" * 254}": must be no more than 253 characters'],
        ),
        ({"name": 7}, ["metadata.name: Invalid value: 7: must be a string"]),
        (
            {"name": "web", "namespace": "kube.system"},
            [f'metadata.namespace: Invalid value: "kube.system": {DNS_LABEL}'],
        ),
        ({"name": "web", "uid": 5}, ["metadata.uid: Invalid value: 5: must be a string"]),
        ("web", ['metadata: Invalid value: "web": must be an object']),
    ],
)
def test_metadata_name_and_namespace(metadata: Any, expected: list[str]) -> None:
    document = pod(metadata=metadata)
    if metadata == {}:
        del document["metadata"]
    assert errors(document) == expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"app": "web", "example.com/tier": "front_end-1", "empty": ""}, []),
        ({"bad key": "x"}, [f'metadata.labels: Invalid value: "bad key": name part {QUALIFIED_NAME}']),
        ({"/app": "x"}, ['metadata.labels: Invalid value: "/app": prefix part must be non-empty']),
        (
            {"Example.com/app": "x"},
            [f'metadata.labels: Invalid value: "Example.com/app": prefix part {DNS_SUBDOMAIN}'],
        ),
        (
            {"a/b/c": "x"},
            [
                f'metadata.labels: Invalid value: "a/b/c": a qualified name {QUALIFIED_NAME} '
                "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (
            {"k" * 64: "x"},
            [f'metadata.labels: Invalid value: "{"k" * 64}": name part must be no more than 63 characters'],
        ),
        ({"app": "not ok"}, [f'metadata.labels: Invalid value: "not ok": {LABEL_VALUE}']),
        (
            {"app": "v" * 64},
            [f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters'],
        ),
        ({"version": 1.5}, ["metadata.labels[version]: Invalid value: 1.5: must be a string"]),
        ("app=web", ['metadata.labels: Invalid value: "app=web": must be an object']),
    ],
)
def test_labels(labels: Any, expected: list[str]) -> None:
    assert errors(pod(metadata={"name": "web", "labels": labels})) == expected


def test_annotations_need_string_values_qualified_keys_and_a_size_limit() -> None:
    assert errors(pod(metadata={"name": "web", "annotations": {"Team.Example.com/Owner": "me"}})) == []
    assert errors(pod(metadata={"name": "web", "annotations": {"replicas": 3, "bad key": "x"}})) == [
        "metadata.annotations[replicas]: Invalid value: 3: must be a string",
        f'metadata.annotations: Invalid value: "bad key": name part {QUALIFIED_NAME}',
    ]
    huge = {"a": "x" * 200_000, "b": "y" * 70_000}
    assert errors(pod(metadata={"name": "web", "annotations": huge})) == [
        "metadata.annotations: Too long: must have at most 262144 bytes"
    ]


# --- pod spec ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {
                "restartPolicy": "OnFailure",
                "terminationGracePeriodSeconds": 0,
                "hostPID": True,
                "nodeSelector": {"disk": "ssd"},
            },
            [],
        ),
        (
            {"restartPolicy": "Sometimes"},
            [f'spec.restartPolicy: Unsupported value: "Sometimes": {RESTART_POLICIES}'],
        ),
        (
            {"terminationGracePeriodSeconds": -1},
            ["spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"terminationGracePeriodSeconds": "30s"},
            ['spec.terminationGracePeriodSeconds: Invalid value: "30s": must be an integer'],
        ),
        (
            {"activeDeadlineSeconds": 0},
            ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"],
        ),
        (
            {"dnsPolicy": "Host"},
            [
                'spec.dnsPolicy: Unsupported value: "Host": '
                'supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"'
            ],
        ),
        (
            {"dnsPolicy": "None"},
            ["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"],
        ),
        (
            {"dnsPolicy": "None", "dnsConfig": {"searches": ["a"]}},
            [
                "spec.dnsConfig.nameservers: Required value: "
                "must provide at least one DNS nameserver when `dnsPolicy` is None"
            ],
        ),
        (
            {
                "dnsPolicy": "None",
                "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
            },
            [],
        ),
        (
            {"dnsConfig": {"nameservers": ["dns.local"]}},
            [f'spec.dnsConfig.nameservers[0]: Invalid value: "dns.local": {NOT_AN_IP}'],
        ),
        ({"hostNetwork": "true"}, ['spec.hostNetwork: Invalid value: "true": must be a boolean']),
        ({"hostIPC": 1}, ["spec.hostIPC: Invalid value: 1: must be a boolean"]),
        ({"hostname": "Web_1"}, [f'spec.hostname: Invalid value: "Web_1": {DNS_LABEL}']),
        ({"nodeSelector": {"disk": 5}}, ["spec.nodeSelector[disk]: Invalid value: 5: must be a string"]),
        (
            {"nodeSelector": ["disk=ssd"]},
            ['spec.nodeSelector: Invalid value: ["disk=ssd"]: must be an object'],
        ),
        (
            {"securityContext": {"fsGroup": -1, "supplementalGroups": [1, "wheel"]}},
            [
                "spec.securityContext.fsGroup: Invalid value: -1: "
                "must be between 0 and 2147483647, inclusive",
                'spec.securityContext.supplementalGroups[1]: Invalid value: "wheel": must be an integer',
            ],
        ),
        ({"tolerations": "all"}, ['spec.tolerations: Invalid value: "all": must be a list']),
        ({"serviceAccountName": "default"}, []),
        ({"imagePullSecrets": []}, []),
        (
            {"imagePullSecrets": [{"name": "regcred"}]},
            [
                "spec.imagePullSecrets: Forbidden: "
                + api_reference("Secret", "log the node's Docker engine in to the registry instead")
            ],
        ),
    ],
)
def test_pod_spec_fields(spec: dict[str, Any], expected: list[str]) -> None:
    assert errors(pod(**spec)) == expected


def test_spec_must_be_an_object() -> None:
    document = pod()
    document["spec"] = ["nginx"]
    assert errors(document) == ['spec: Invalid value: ["nginx"]: must be an object']
