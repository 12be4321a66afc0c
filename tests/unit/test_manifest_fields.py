"""The v1 Pod schema check (unknown fields, types) and the field table (honoured / ignored / refused).

The table in manifest/fields.py must name every field of the shipped schema, every non-honoured rule
must do what it says when its example value is set; docs/pod-fields.md's table is generated from it
(tests/unit/test_docs_generated.py): so the documentation, the code and the schema cannot drift apart.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from pykubelet.config.file import FileSource, log_warnings
from pykubelet.manifest import ManifestError, StaticPod, load_pod
from pykubelet.manifest.errors import IGNORED_FIELD, UNKNOWN_FIELD, UNSUPPORTED_FIELD
from pykubelet.manifest.fields import RULES, Rule, Support, classify, locations
from pykubelet.manifest.schema import SCHEMA_VERSION, check_structure, pod_schema

REPO = Path(__file__).resolve().parents[2]
SOURCE = "/etc/kubernetes/manifests/web.yaml"
BASE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {
        "containers": [{"name": "app", "image": "busybox:1.35", "command": ["sleep", "3600"]}],
        "volumes": [{"name": "data", "emptyDir": {}}],
    },
}


def load(document: dict[str, Any], *, strict: bool = False) -> StaticPod:
    return load_pod(json.dumps(document).encode(), SOURCE, "node1", strict=strict)


def pod_with(**spec: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["spec"].update(spec)
    return document


def container_with(**fields: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["spec"]["containers"][0].update(fields)
    return document


# --- the schema ------------------------------------------------------------------------------------------


def test_the_shipped_schema_is_the_declared_release_and_strict() -> None:
    schema = pod_schema()
    assert schema["x-pykubelet"]["kubernetesVersion"] == SCHEMA_VERSION
    assert "kubernetes-validate" in schema["x-pykubelet"]["source"]
    assert schema["additionalProperties"] is False
    spec = schema["$defs"]["io.k8s.api.core.v1.PodSpec"]
    assert spec["additionalProperties"] is False
    assert {"containers", "affinity", "tolerations", "ephemeralContainers"} <= set(spec["properties"])
    short_names = [name.rsplit(".", 1)[-1] for name in schema["$defs"]]
    assert len(short_names) == len(set(short_names)), "the field table keys definitions by short name"


def test_the_schema_ships_as_package_data() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"manifest/schema/*.json"' in pyproject
    assert '"jsonschema' in pyproject
    assert (REPO / "agent/pykubelet/manifest/schema/pod-v1.json").is_file()


def test_unknown_fields_anywhere_are_reported_with_kubectl_paths() -> None:
    document = container_with(imagePullPolice="Always", livenessProbe={"exec": {"command": ["true"], "x": 1}})
    document["metadata"]["lables"] = {"app": "web"}
    document["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1.35", "comand": ["true"]}]
    document["spec"]["volumes"][0]["emptyDir"] = {"medim": "Memory"}
    document["stauts"] = {}
    found = [str(e) for e in check_structure(document).unknown]
    assert found == [
        'unknown field "metadata.lables"',
        'unknown field "spec.containers[0].imagePullPolice"',
        'unknown field "spec.containers[0].livenessProbe.exec.x"',
        'unknown field "spec.initContainers[0].comand"',
        'unknown field "spec.volumes[0].emptyDir.medim"',
        'unknown field "stauts"',
    ]


def test_an_unknown_field_is_a_warning_by_default_and_an_error_when_strict() -> None:
    document = container_with(imagePullPolice="Always")
    pod = load(document)
    assert [(w.kind, str(w)) for w in pod.warnings] == [
        (UNKNOWN_FIELD, 'unknown field "spec.containers[0].imagePullPolice"')
    ]
    with pytest.raises(ManifestError) as caught:
        load(document, strict=True)
    assert caught.value.reason == 'unknown field "spec.containers[0].imagePullPolice"'


def test_wrong_types_are_refused_at_their_path_once() -> None:
    """validate.py and the schema both see ``ports: "80"``; it is reported once, in the same words."""
    with pytest.raises(ManifestError) as caught:
        load(container_with(ports="80"))
    assert caught.value.reason == 'spec.containers[0].ports: Invalid value: "80": must be a list'
    with pytest.raises(ManifestError) as caught:
        load(pod_with(affinity="anywhere", topologySpreadConstraints={"maxSkew": 1}))
    assert caught.value.reason == (
        'spec.affinity: Invalid value: "anywhere": must be an object; '
        'spec.topologySpreadConstraints: Invalid value: {"maxSkew": 1}: must be a list'
    )
    with pytest.raises(ManifestError) as caught:
        load(container_with(resources={"limits": {"cpu": [1]}}, livenessProbe={"httpGet": {"port": 1.5}}))
    assert (
        "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 1.5: must be an integer or a string"
        in (caught.value.reason)
    )


def test_a_misspelt_volume_type_is_validate_pys_error_not_also_an_unknown_field() -> None:
    document = pod_with(volumes=[{"name": "data", "hostpath": {"path": "/tmp"}}])
    for strict in (False, True):
        with pytest.raises(ManifestError) as caught:
            load(document, strict=strict)
        assert [e.path for e in caught.value.errors] == ["spec.volumes[0].hostpath"]
        assert caught.value.warnings == ()


def test_explicit_nulls_and_empty_values_ask_for_nothing() -> None:
    document = container_with(ports=None, livenessProbe={"httpGet": {"port": 80, "host": None}})
    document["metadata"]["creationTimestamp"] = None
    document["spec"].update(affinity={}, tolerations=[], nodeName="", priority=None)
    document["status"] = {}
    assert load(document).warnings == ()


# --- the field table -------------------------------------------------------------------------------------


def _definitions() -> dict[str, dict[str, Any]]:
    schema = pod_schema()
    found = {name.rsplit(".", 1)[-1]: node for name, node in schema["$defs"].items()}
    found["Pod"] = schema
    return found


def test_every_field_of_every_reached_object_has_a_rule_and_no_rule_is_stale() -> None:
    definitions = _definitions()
    reached = locations()
    assert set(RULES) == set(reached)
    for name in reached:
        fields = set(definitions[name].get("properties") or {})
        assert set(RULES[name]) == fields, name


def _rule_cases() -> list[tuple[str, str, Rule]]:
    return [
        (name, key, rule)
        for name, rules in RULES.items()
        for key, rule in rules.items()
        if rule.support is not Support.HONOURED
    ]


# Objects the example needs around it to be valid (a probe's httpGet needs its port, and so on).
_CONTEXT: dict[str, dict[str, Any]] = {
    "containers": {"name": "app", "image": "busybox:1.35"},
    "env": {"name": "A"},
    "volumeMounts": {"name": "data", "mountPath": "/data"},
    "httpGet": {"port": 80},
    "grpc": {"port": 9000},
}


def _with_example(location: str, key: str, value: Any) -> tuple[dict[str, Any], str]:
    """BASE with ``value`` set at ``location.key``; and the concrete path (``[*]`` is ``[0]``)."""
    document = copy.deepcopy(BASE)
    obj: dict[str, Any] = document
    for segment in location.split(".") if location else []:
        name = segment.removesuffix("[*]")
        if segment.endswith("[*]"):
            items = obj.setdefault(name, [])
            if not items:
                items.append(copy.deepcopy(_CONTEXT.get(name, {})))
            obj = items[0]
        else:
            obj = obj.setdefault(name, copy.deepcopy(_CONTEXT.get(name, {})))
    obj[key] = copy.deepcopy(value)
    concrete = location.replace("[*]", "[0]")
    return document, f"{concrete}.{key}" if concrete else key


@pytest.mark.parametrize(
    ("name", "key", "rule"), _rule_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_rule_does_what_the_table_says(name: str, key: str, rule: Rule) -> None:
    assert rule.example is not None, "every rule that is not simply honoured needs an example value"
    document, path = _with_example(locations()[name][0], key, rule.example)
    if rule.support is Support.REFUSED:
        with pytest.raises(ManifestError) as caught:
            load(document)
        paths = [e.path for e in caught.value.errors]
        if rule.by_validation:
            parent = path.rsplit(".", 1)[0] if "." in path else path
            assert any(p.startswith(parent) for p in paths), paths
        else:
            assert path in paths, paths
        return
    pod = load(document)
    kinds = {w.path: w.kind for w in pod.warnings}
    expected = IGNORED_FIELD if rule.support is Support.IGNORED else UNSUPPORTED_FIELD
    assert kinds.get(path) == expected, [str(w) for w in pod.warnings]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (
            pod_with(schedulerName="default-scheduler", priority=0, preemptionPolicy="PreemptLowerPriority"),
            None,
        ),
        (pod_with(nodeName="node1"), None),
        (pod_with(securityContext={"seccompProfile": {"type": "RuntimeDefault"}}), None),
        (pod_with(securityContext={"runAsNonRoot": True, "runAsUser": 1000}), None),
        (pod_with(hostUsers=True, os={"name": "linux"}), None),
        (container_with(securityContext={"allowPrivilegeEscalation": True, "procMount": "Default"}), None),
        (container_with(resources={"limits": {"cpu": "1", "memory": "64Mi"}}), None),
        (pod_with(volumes=[{"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}]), None),
        (
            container_with(
                volumeMounts=[{"name": "data", "mountPath": "/d", "recursiveReadOnly": "IfPossible"}]
            ),
            None,
        ),
        (container_with(terminationMessagePolicy="File"), None),
        (pod_with(schedulerName="custom"), "spec.schedulerName"),
        (pod_with(volumes=[{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}]), None),
    ],
)
def test_values_that_ask_for_nothing_more_are_not_reported(
    document: dict[str, Any], path: str | None
) -> None:
    assert [w.path for w in load(document).warnings] == ([path] if path else [])


def test_run_as_non_root_is_honoured_at_start_not_refused_at_validation() -> None:
    """The kubelet checks the image's user when it creates the container (CreateContainerConfigError)."""
    document = pod_with(securityContext={"runAsNonRoot": True})
    document["spec"]["containers"].append({"name": "other", "image": "busybox:1.35"})
    assert load(document).warnings == ()


def test_warnings_carry_the_reason_and_are_not_part_of_the_pods_identity() -> None:
    pod = load(pod_with(priorityClassName="system-node-critical", activeDeadlineSeconds=60))
    assert [str(w) for w in pod.warnings] == [  # in the order of the manifest
        "spec.priorityClassName: Ignored field: only a scheduler acts on it: "
        "a static pod is bound to the node that reads it",
        "spec.activeDeadlineSeconds: Unsupported field: 60: "
        "no deadline is enforced yet: the pod runs until it ends by itself",
    ]
    assert dataclasses.replace(pod, warnings=()) == pod
    legacy = StaticPod(pod.uid, pod.name, pod.namespace, pod.source, pod.obj)  # positional, as before
    assert legacy.warnings == () and legacy == pod


def test_classify_is_total_on_wrong_types() -> None:
    document = pod_with(securityContext="root", containers=[{"securityContext": ["x"], "resources": 1}], os=3)
    classified = classify(document, "node1")
    assert [e.path for e in classified.errors] == ["spec.os"]


# --- the file source's log --------------------------------------------------------------------------------


def test_log_warnings_groups_the_ignored_fields_on_one_line(caplog: pytest.LogCaptureFixture) -> None:
    pod = load(pod_with(priority=1, tolerations=[{"operator": "Exists"}], activeDeadlineSeconds=5))
    logger = logging.getLogger("test.fields")
    with caplog.at_level(logging.WARNING, logger="test.fields"):
        log_warnings(logger, SOURCE, pod.warnings)
    lines = [(r.getMessage(), r.__dict__.get("file"), r.__dict__.get("field")) for r in caplog.records]
    assert lines == [
        (
            "Manifest fields accepted and ignored: spec.priority, spec.tolerations: "
            "only a scheduler acts on it: a static pod is bound to the node that reads it",
            SOURCE,
            "spec.priority, spec.tolerations",
        ),
        (
            "Manifest warning: spec.activeDeadlineSeconds: Unsupported field: 5: "
            "no deadline is enforced yet: the pod runs until it ends by itself",
            SOURCE,
            "spec.activeDeadlineSeconds",
        ),
    ]


def test_the_file_source_logs_warnings_once_per_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = tmp_path / "web.json"
    manifest.write_text(json.dumps(container_with(imagePullPolice="Never")))
    source = FileSource(str(tmp_path), "node1", 20.0, lambda snapshot: None)

    def warned() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "pykubelet.config.file"]

    with caplog.at_level(logging.WARNING, logger="pykubelet.config.file"):
        first = source._scan(periodic=True)
        source._scan(periodic=True)
        source._scan(periodic=False)
        assert warned() == ['Manifest warning: unknown field "spec.containers[0].imagePullPolice"']
        manifest.write_text(json.dumps(container_with(imagePullPolice="Never", workingDir="/tmp")))
        source._scan(periodic=True)
        assert len(warned()) == 2
    assert first[str(manifest)].pod is not None


def test_the_file_source_refuses_unknown_fields_when_strict(tmp_path: Path) -> None:
    (tmp_path / "web.json").write_text(json.dumps(container_with(imagePullPolice="Never")))
    snapshot = FileSource(str(tmp_path), "node1", 20.0, lambda snapshot: None, strict=True)._scan(
        periodic=True
    )
    result = snapshot[str(tmp_path / "web.json")]
    assert result.pod is None
    assert result.error is not None
    assert result.error.reason == 'unknown field "spec.containers[0].imagePullPolice"'
