"""Mutation fuzzing of the manifest parser and validator (``pykubelet.manifest.load_pod``).

Stronger than the unit test's single-value mutations: several structural mutations in a row (delete,
replace with any type, insert known field names with wrong values, duplicate list entries, re-type,
tweak strings) of every example manifest and of a pod that uses most fields pykubelet supports, plus
byte-level mutations of their YAML text. The property has two halves:

- anything wrong is a :class:`ManifestError` naming the file, and when the document is still a v1 Pod
  every error carries a field path (``spec.containers[0].image: ...``), never a bare message;
- anything accepted is a pod the rest of the agent can use: its Docker config, port bindings, labels,
  QoS, status and ``/pods`` JSON are built without an exception, and its subPaths stay in their volumes.
"""

from __future__ import annotations

import atexit
import copy
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pykubelet import status as pod_status
from pykubelet.manifest import ManifestError, StaticPod, load_pod
from pykubelet.node import Node
from pykubelet.qos import pod_qos
from pykubelet.runtime import configs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container, ContainerConfig, Mount
from pykubelet.runtime.configs import Settings
from pykubelet.runtime.containers import PodRuntimeState
from pykubelet.runtime.docker import convert

REPO = Path(__file__).resolve().parents[2]
SOURCE = "/etc/kubernetes/manifests/fuzz.yaml"
NODE = "fuzz-node"

RICH = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "rich", "namespace": "lab", "labels": {"app": "rich"}, "annotations": {"a": "b"}},
    "spec": {
        "hostname": "rich-host",
        "restartPolicy": "OnFailure",
        "terminationGracePeriodSeconds": 5,
        "shareProcessNamespace": True,
        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "supplementalGroups": [5, 6]},
        "dnsConfig": {"nameservers": ["10.0.0.10"], "searches": ["lab.local"]},
        "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db", "db.lab"]}],
        "initContainers": [{"name": "init", "image": "busybox:1.35", "command": ["true"]}],
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.22",
                "imagePullPolicy": "IfNotPresent",
                "args": ["$(GREETING)", "x"],
                "workingDir": "/srv",
                "ports": [{"name": "http", "containerPort": 80, "hostPort": 8080, "protocol": "TCP"}],
                "env": [
                    {"name": "GREETING", "value": "hello"},
                    {"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {
                        "name": "MEM",
                        "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
                    },
                    {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
                ],
                "resources": {
                    "requests": {"cpu": "250m", "memory": "64Mi"},
                    "limits": {"cpu": "1", "memory": "128Mi"},
                },
                "securityContext": {
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                },
                "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "sleep 1"]}}},
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                "readinessProbe": {"tcpSocket": {"port": 80}},
                "volumeMounts": [
                    {"name": "cache", "mountPath": "/cache"},
                    {"name": "cache", "mountPath": "/sub", "subPath": "a/b"},
                    {"name": "host", "mountPath": "/host", "readOnly": True},
                ],
                "terminationMessagePolicy": "FallbackToLogsOnError",
            },
            {
                "name": "side",
                "image": "busybox:1.35",
                "command": ["sleep", "3600"],
                "tty": True,
                "stdin": True,
            },
        ],
        "volumes": [
            {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
        ],
    },
}


def _seeds() -> list[dict[str, Any]]:
    seeds = [RICH]
    for path in sorted([*REPO.glob("manifests/*.yaml"), *REPO.glob("manifests/more/*.yaml")]):
        try:
            load_pod(path.read_bytes(), SOURCE, NODE)
        except ManifestError:
            continue  # the broken example is there on purpose
        seeds.append(yaml.safe_load(path.read_text()))
    return seeds


SEEDS = _seeds()
SEED_TEXTS = [yaml.safe_dump(s).encode() for s in SEEDS] + [json.dumps(s, indent=1).encode() for s in SEEDS]

FIELD_NAMES = [
    "name", "image", "command", "args", "env", "value", "valueFrom", "fieldRef", "fieldPath", "ports",
    "containerPort", "hostPort", "hostIP", "protocol", "volumeMounts", "mountPath", "subPath", "readOnly",
    "volumes", "emptyDir", "hostPath", "path", "type", "medium", "sizeLimit", "resources", "limits",
    "requests", "cpu", "memory", "restartPolicy", "hostNetwork", "hostPID", "hostIPC", "initContainers",
    "containers", "securityContext", "runAsUser", "capabilities", "lifecycle", "preStop", "exec",
    "terminationGracePeriodSeconds", "imagePullPolicy", "namespace", "labels", "annotations", "uid",
    "nodeName", "dnsConfig", "hostAliases", "configMap", "secret", "persistentVolumeClaim", "status",
    "resourceFieldRef", "divisor", "workingDir", "tty", "stdin", "shareProcessNamespace", "hostname",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**66), max_value=2**66),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from([
        "", " ", "0", "-1", "1e308", "0.5", "1Gi", "1.5Gi", "100m", "0.1m", "1e3", "1Ei", "9999999Ei", "-1Mi",
        "Always", "Never", "OnFailure", "IfNotPresent", "TCP", "UDP", "SCTP", "http", "80", "65536", "/",
        "/x",
        "../x", "x/../..", "..", "a/../../b", "Memory", "Directory", "DirectoryOrCreate", "Socket",
        "metadata.name", "status.podIP", "metadata.labels['x']", "limits.cpu", "requests.memory",
        "limits.ephemeral-storage", "k8s_x", "UPPER", "a" * 300, "x:y", "busybox:1.35",
        "nginx@sha256:" + "0" * 64,
        "$(X)", "$$(X)", "\u00e9", "\x00", "\n", "NET_ADMIN", "default", "kube-system",
    ]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), inner, max_size=3),
    ),
    max_leaves=6,
)
MUTATIONS = st.sampled_from(["replace", "delete", "insert", "duplicate", "retype", "tweak"])
TOP_LEVEL = {"apiVersion", "kind", "metadata", "spec", "status"}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found += _paths(item, (*prefix, key))
    return found


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def _mutate(document: dict[str, Any], data: st.DataObject) -> None:
    paths = _paths(document)
    path = data.draw(st.sampled_from(paths[1:] or [()]))
    kind = data.draw(MUTATIONS)
    parent = _get(document, path[:-1]) if path else None
    target = _get(document, path)
    if kind == "replace" and path:
        parent[path[-1]] = data.draw(VALUES)
    elif kind == "delete" and path:
        del parent[path[-1]]
    elif kind == "insert":
        if isinstance(target, dict):
            target[data.draw(st.sampled_from(FIELD_NAMES))] = data.draw(VALUES)
        elif isinstance(target, list):
            target.insert(data.draw(st.integers(0, len(target))), data.draw(VALUES))
    elif kind == "duplicate" and isinstance(target, list) and target:
        target.append(copy.deepcopy(data.draw(st.sampled_from(target))))
    elif kind == "retype" and path:
        parent[path[-1]] = data.draw(
            st.sampled_from([[target], {"value": target}, str(target), json.dumps(target), None])
        )
    elif kind == "tweak" and path and isinstance(target, str):
        parent[path[-1]] = data.draw(
            st.sampled_from([
                target.upper(), f" {target}", f"{target} ", target + target, target[:-1], "", target + "-",
                "-" + target, target.replace("-", "_"), target + "\u00e9", target * 20, target + "/..",
            ])
        )  # fmt: skip


# -- using a pod the way the agent does ------------------------------------------------------------


_WORK = Path(tempfile.mkdtemp(prefix="pykubelet-fuzz-"))
atexit.register(shutil.rmtree, _WORK, True)
_NODE = Node(name=NODE, host_ip="192.0.2.10", memory_capacity=8 << 30, cpu_count=2)
_SETTINGS = Settings(str(_WORK / "root"), str(_WORK / "logs"), "registry.k8s.io/pause:3.10")
_SANDBOX = Container(
    id="0" * 64, name="POD", pod_uid="u", pod_name="p", namespace="default", kind="sandbox", attempt=0,
    state="running", labels={}, ip="10.213.0.9",
)  # fmt: skip


def _container_config(
    pod: StaticPod, spec: dict[str, Any], kind: str, mounts: tuple[Mount, ...]
) -> ContainerConfig:
    return configs.container_config(
        pod, spec, kind=kind, restart_count=0, node=_NODE, sandbox=_SANDBOX, mounts=mounts, log_path=""
    )


def _assert_usable(pod: StaticPod) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", pod.uid), pod.uid
    assert pod.name.endswith(f"-{NODE}") and pod.spec["nodeName"] == NODE
    json.dumps(pod.obj, allow_nan=False)
    volume_paths = {}
    for index, volume in enumerate(pod.spec.get("volumes") or []):
        volume_paths[volume["name"]] = str(_WORK / "volumes" / pod.uid / str(index))
    for spec in [*(pod.spec.get("initContainers") or []), *pod.spec["containers"]]:
        for mount in spec.get("volumeMounts") or []:
            assert mount["name"] in volume_paths, f"mount of an unknown volume accepted: {mount}"
            sub = mount.get("subPath") or ""
            base = volume_paths[mount["name"]]
            resolved = os.path.normpath(os.path.join(base, sub))
            assert resolved == base or resolved.startswith(base + "/"), f"subPath escapes its volume: {sub!r}"
    for kind, specs in (
        ("init", pod.spec.get("initContainers") or []),
        ("container", pod.spec["containers"]),
    ):
        for spec in specs:
            L.container_hash(spec)
            mounts = tuple(
                Mount(volume_paths[m["name"]], m["mountPath"]) for m in spec.get("volumeMounts") or []
            )
            _, create = convert.container_create(_SANDBOX, _container_config(pod, spec, kind, mounts))
            json.dumps(create["labels"], allow_nan=False)
            assert all(isinstance(v, str) for v in create["environment"].values())
    sandbox = configs.sandbox_config(pod, node=_NODE, settings=_SETTINGS, attempt=0, log_directory="")
    convert.sandbox_create(sandbox)
    pod_qos(pod.spec)
    status = pod_status.generate(
        pod,
        [],
        PodRuntimeState(),
        None,
        host_ip="192.0.2.10",
        termination=lambda *_: "",
        images=lambda _: None,
    )
    json.dumps(status, allow_nan=False)


def _check(data: bytes, pod_shaped: bool, top_level: set[str] | frozenset[str] = frozenset()) -> None:
    try:
        pod = load_pod(data, SOURCE, NODE)
    except ManifestError as exc:
        error = exc
    else:
        event("accepted")
        _assert_usable(pod)
        return
    event("refused")
    assert error.errors, "a ManifestError without a reason"
    assert str(error).startswith(f"{SOURCE}: ")
    if pod_shaped:
        for field in error.errors:
            # a path starts at a field of the document ("spec.volumes[1].emptyDir"); later segments may be
            # any key the file holds, as written
            first = re.split(r"[.\[]", field.path, maxsplit=1)[0]
            assert field.path and first in TOP_LEVEL | top_level, f"an error without a field path: {field}"
            assert field.kind, f"an error without a kind: {field}"


@settings(
    max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.sampled_from(range(len(SEEDS))), st.integers(1, 5), st.data())
def test_structural_mutations_give_a_field_error_or_a_usable_pod(
    seed: int, count: int, data: st.DataObject
) -> None:
    document = copy.deepcopy(SEEDS[seed])
    for _ in range(count):
        _mutate(document, data)
    pod_shaped = document.get("apiVersion") == "v1" and document.get("kind") == "Pod"
    _check(json.dumps(document).encode(), pod_shaped, set(document))
    _check(yaml.safe_dump(document, allow_unicode=True).encode(), pod_shaped, set(document))


_BYTE_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "insert", "replace"]),
        st.floats(0, 1),
        st.integers(1, 8),
        st.sampled_from([
            b":", b"-", b" ", b"\n", b"\t", b"{", b"[", b"'", b'"', b"&a", b"*a", b"!!", b"#", b"0", b"x",
            b"\xff", b"\x00", b"  - ", b"---\n", b"\xc3\xa9",
        ]),
    ),
    min_size=1, max_size=6,
)  # fmt: skip


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEED_TEXTS), _BYTE_EDITS)
def test_byte_mutations_of_manifest_text_never_escape(
    text: bytes, edits: list[tuple[str, float, int, bytes]]
) -> None:
    data = bytearray(text)
    for kind, where, length, chunk in edits:
        at = int(where * len(data))
        if kind == "delete":
            del data[at : at + length]
        elif kind == "insert":
            data[at:at] = chunk
        else:
            data[at : at + len(chunk)] = chunk
    # A broken text is refused by the parser with a line and column rather than a field path, so only
    # "a ManifestError naming the file, or a usable pod" is checked here.
    _check(bytes(data), pod_shaped=False)


def test_every_seed_is_a_usable_pod() -> None:
    assert len(SEEDS) >= 5
    for seed in SEEDS:
        _assert_usable(load_pod(json.dumps(seed).encode(), SOURCE, NODE))


def test_env_value_from_null_is_a_plain_empty_value() -> None:
    text = (
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n"
        b"    image: busybox:1.35\n    env:\n    - name: X\n      valueFrom:\n"
    )
    pod = load_pod(text, SOURCE, NODE)  # accepted, as the API server accepts a null pointer field
    config = _container_config(pod, pod.spec["containers"][0], "container", ())
    assert dict(config.env) == {"X": ""}
