"""Validation of a container's ``env`` and ``envFrom`` as kubectl words it: names, ``fieldRef`` and
``resourceFieldRef``, and no API objects (ConfigMap, Secret) for a static pod."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifest_validate_support import (
    ENV_NAME,
    NO_API_SERVER,
    QUALIFIED_NAME,
    api_reference,
    container_errors,
)

LIST_UNDER_ENV = "list the variables under `env`"


# --- env ---------------------------------------------------------------------------------------------------


def field_ref(path: str) -> dict[str, Any]:
    return {"name": "X", "valueFrom": {"fieldRef": {"fieldPath": path}}}


@pytest.mark.parametrize(
    "path",
    [
        "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
        "metadata.labels['app']", "metadata.annotations['Example.com/Owner']", "spec.nodeName",
        "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
    ],
)  # fmt: skip
def test_supported_field_refs(path: str) -> None:
    assert container_errors(env=[field_ref(path)]) == []


ENV_SOURCES = "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ([{"value": "x"}], ["env[0].name: Required value"]),
        ([{"name": "1ST"}], [f'env[0].name: Invalid value: "1ST": {ENV_NAME}']),
        ([{"name": ".."}], ["env[0].name: Invalid value: \"..\": must not be '..'"]),
        ([{"name": "A", "value": 1}], ["env[0].value: Invalid value: 1: must be a string"]),
        ({"A": "b"}, ['env: Invalid value: {"A": "b"}: must be a list']),
        (
            [field_ref("spec.hostname")],
            [
                'env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": '
                'supported values: "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", '
                '"metadata.annotations", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
                '"status.hostIPs", "status.podIP", "status.podIPs"'
            ],
        ),
        (
            [field_ref("metadata.labels['bad key']")],
            [f'env[0].valueFrom.fieldRef.fieldPath: Invalid value: "bad key": name part {QUALIFIED_NAME}'],
        ),
        (
            [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v2"}}}],
            ['env[0].valueFrom.fieldRef.apiVersion: Unsupported value: "v2": supported values: "v1"'],
        ),
        (
            [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}],
            [
                "env[0].valueFrom.configMapKeyRef: Forbidden: a static pod may not reference API "
                f"objects (ConfigMap); {NO_API_SERVER}: set the variable with `value`"
            ],
        ),
        (
            [{"name": "X", "valueFrom": {"secretKeyRef": {}}}],
            [
                "env[0].valueFrom.secretKeyRef: Forbidden: a static pod may not reference API "
                f"objects (Secret); {NO_API_SERVER}: set the variable with `value`"
            ],
        ),
        (
            [{"name": "X", "valueFrom": {}}],
            [f'env[0].valueFrom: Invalid value: "": must specify one of: {ENV_SOURCES}'],
        ),
        (
            [
                {
                    "name": "X",
                    "valueFrom": {
                        "fieldRef": {"fieldPath": "metadata.name"},
                        "resourceFieldRef": {"resource": "limits.cpu"},
                    },
                }
            ],
            ['env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time'],
        ),
        (
            [{"name": "X", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            ['env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
        ),
        (
            [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}],
            [],
        ),
        (
            [
                {
                    "name": "MEM",
                    "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}},
                }
            ],
            [],
        ),
        (
            [
                {
                    "name": "CPU",
                    "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "10m"}},
                }
            ],
            [
                'env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.cpu": '
                "only divisor's values 1m, 1 are supported with the cpu resource"
            ],
        ),
        (
            [{"name": "GPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}],
            [
                'env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": '
                'supported values: "limits.cpu", "limits.memory", "limits.ephemeral-storage", '
                '"requests.cpu", '
                '"requests.memory", "requests.ephemeral-storage"'
            ],
        ),
    ],
)
def test_env(env: Any, expected: list[str]) -> None:
    assert container_errors(env=env) == expected


@pytest.mark.parametrize(
    ("env_from", "expected"),
    [
        (
            [{"configMapRef": {"name": "cfg"}}],
            [f"envFrom[0].configMapRef: Forbidden: {api_reference('ConfigMap', LIST_UNDER_ENV)}"],
        ),
        (
            [{"secretRef": {"name": "s"}, "prefix": "1X"}],
            [
                f'envFrom[0].prefix: Invalid value: "1X": {ENV_NAME}',
                f"envFrom[0].secretRef: Forbidden: {api_reference('Secret', LIST_UNDER_ENV)}",
            ],
        ),
        (
            [{"prefix": "X_"}],
            ['envFrom[0]: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
        ),
    ],
)
def test_env_from_names_api_objects(env_from: list[Any], expected: list[str]) -> None:
    assert container_errors(envFrom=env_from) == expected
