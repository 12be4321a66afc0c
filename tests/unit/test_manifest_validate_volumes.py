"""Validation of volumes and volume mounts as kubectl words it: only emptyDir and hostPath, no API objects,
unique names, and mounts that name a volume at a unique absolute path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.manifest_validate_support import (
    DNS_LABEL,
    FORMAT_WRONG,
    LOCAL_ONLY,
    LOGS,
    api_reference,
    container,
    container_errors,
    errors,
    pod,
)

# --- volumes -----------------------------------------------------------------------------------------------


def api_volume(kind: str) -> str:
    return api_reference(kind, "use hostPath or emptyDir")


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        ({"name": "v", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}, []),
        ({"name": "v", "hostPath": {"path": "/var/log", "type": "DirectoryOrCreate"}}, []),
        ({"name": "v"}, []),  # defaulted to an emptyDir
        ({"emptyDir": {}}, ["spec.volumes[0].name: Required value"]),
        ({"name": "Logs", "emptyDir": {}}, [f'spec.volumes[0].name: Invalid value: "Logs": {DNS_LABEL}']),
        (
            {"name": "v", "configMap": {"name": "cfg"}},
            [f"spec.volumes[0].configMap: Forbidden: {api_volume('ConfigMap')}"],
        ),
        (
            {"name": "v", "secret": {"secretName": "s"}},
            [f"spec.volumes[0].secret: Forbidden: {api_volume('Secret')}"],
        ),
        (
            {"name": "v", "persistentVolumeClaim": {"claimName": "c"}},
            [f"spec.volumes[0].persistentVolumeClaim: Forbidden: {api_volume('PersistentVolumeClaim')}"],
        ),
        (
            {"name": "v", "projected": {"sources": []}},
            [
                "spec.volumes[0].projected: Forbidden: "
                + api_volume("ConfigMap, Secret, ServiceAccount token")
            ],
        ),
        (
            {"name": "v", "ephemeral": {}},
            [f"spec.volumes[0].ephemeral: Forbidden: {api_volume('PersistentVolumeClaim')}"],
        ),
        (
            {"name": "v", "nfs": {"server": "nas", "path": "/x"}},
            [f'spec.volumes[0]: Unsupported value: "nfs": {LOCAL_ONLY}'],
        ),
        (
            {"name": "v", "downwardAPI": {"items": []}},
            [f'spec.volumes[0]: Unsupported value: "downwardAPI": {LOCAL_ONLY}'],
        ),
        (
            {"name": "v", "image": {"reference": "x"}},
            [f'spec.volumes[0]: Unsupported value: "image": {LOCAL_ONLY}'],
        ),
        (
            {"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}},
            ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            {"name": "v", "hostpath": {"path": "/x"}},
            [
                'spec.volumes[0].hostpath: Unsupported value: "hostpath": '
                f"unknown volume type (names are case-sensitive): {LOCAL_ONLY}"
            ],
        ),
        ({"name": "v", "hostPath": {}}, ["spec.volumes[0].hostPath.path: Required value"]),
        (
            {"name": "v", "hostPath": {"path": "var/log"}},
            ['spec.volumes[0].hostPath.path: Invalid value: "var/log": must be an absolute path'],
        ),
        (
            {"name": "v", "hostPath": {"path": "/var/../etc"}},
            ["spec.volumes[0].hostPath.path: Invalid value: \"/var/../etc\": must not contain '..'"],
        ),
        (
            {"name": "v", "hostPath": {"path": "/x", "type": "Dir"}},
            [
                'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", '
                '"BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", '
                '"Socket"'
            ],
        ),
        (
            {"name": "v", "hostPath": "/var/log"},
            ['spec.volumes[0].hostPath: Invalid value: "/var/log": must be an object'],
        ),
        (
            {"name": "v", "emptyDir": {"medium": "HugePages"}},
            [
                'spec.volumes[0].emptyDir.medium: Unsupported value: "HugePages": '
                'supported values: "", "Memory"'
            ],
        ),
        (
            {"name": "v", "emptyDir": {"sizeLimit": "-1Gi"}},
            ['spec.volumes[0].emptyDir.sizeLimit: Invalid value: "-1Gi": must be greater than or equal to 0'],
        ),
        (
            {"name": "v", "emptyDir": {"sizeLimit": "lots"}},
            [f'spec.volumes[0].emptyDir.sizeLimit: Invalid value: "lots": {FORMAT_WRONG}'],
        ),
        ("logs", ['spec.volumes[0]: Invalid value: "logs": must be an object']),
    ],
)
def test_volumes(volume: Any, expected: list[str]) -> None:
    assert errors(pod(volumes=[volume])) == expected


def test_volume_names_are_unique() -> None:
    assert errors(pod(volumes=[LOGS, {"name": "logs", "hostPath": {"path": "/var/log"}}])) == [
        'spec.volumes[1].name: Duplicate value: "logs"'
    ]


def test_volumes_must_be_a_list() -> None:
    assert errors(pod(volumes={"logs": {}})) == ['spec.volumes: Invalid value: {"logs": {}}: must be a list']


# --- volume mounts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mounts", "expected"),
    [
        ([{"name": "logs", "mountPath": "/logs", "subPath": "nginx", "readOnly": True}], []),
        ([{"name": "data", "mountPath": "/data"}], ['volumeMounts[0].name: Not found: "data"']),
        ([{"mountPath": "/logs"}], ["volumeMounts[0].name: Required value"]),
        ([{"name": "logs"}], ["volumeMounts[0].mountPath: Required value"]),
        (
            [{"name": "logs", "mountPath": "logs"}],
            ['volumeMounts[0].mountPath: Invalid value: "logs": must be an absolute path'],
        ),
        (
            [{"name": "logs", "mountPath": "/logs"}, {"name": "logs", "mountPath": "/logs"}],
            ['volumeMounts[1].mountPath: Invalid value: "/logs": must be unique'],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "subPath": "/abs"}],
            ['volumeMounts[0].subPath: Invalid value: "/abs": must be a relative path'],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "subPath": "a/../../etc"}],
            ["volumeMounts[0].subPath: Invalid value: \"a/../../etc\": must not contain '..'"],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "readOnly": "yes"}],
            ['volumeMounts[0].readOnly: Invalid value: "yes": must be a boolean'],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "mountPropagation": "Shared"}],
            [
                'volumeMounts[0].mountPropagation: Unsupported value: "Shared": '
                'supported values: "Bidirectional", "HostToContainer", "None"'
            ],
        ),
    ],
)
def test_volume_mounts(mounts: list[Any], expected: list[str]) -> None:
    assert container_errors(volumeMounts=mounts) == expected


def test_the_same_mount_path_in_two_containers_is_fine() -> None:
    mount = [{"name": "logs", "mountPath": "/logs"}]
    assert (
        errors(pod(container("a", volumeMounts=mount), container("b", volumeMounts=mount), volumes=[LOGS]))
        == []
    )
