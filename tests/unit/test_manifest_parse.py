"""Decoding one manifest file: what is accepted, every way a file can be wrong gets its own reason, and
``load_pod`` end to end."""

from __future__ import annotations

import json
import re

import pytest

from pykubelet.manifest import ManifestError, StaticPod, load_pod
from pykubelet.manifest.parse import MAX_DEPTH, MAX_VALUES, load_document
from tests.unit.manifest_parse_support import MINIMAL, SOURCE, WALKTHROUGH, reason

# --- what is accepted -----------------------------------------------------------------------------------


def test_yaml_pod_decodes_to_plain_data() -> None:
    assert load_document(MINIMAL, SOURCE) == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}


def test_json_pod_decodes_even_when_indented_with_tabs() -> None:
    data = b'{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"metadata": {"name": "web"}\n}\n'
    assert load_document(data, SOURCE)["metadata"] == {"name": "web"}


def test_yaml_flow_mapping_that_starts_like_json_still_decodes() -> None:
    assert load_document(b"{apiVersion: v1, kind: Pod}", SOURCE) == {"apiVersion": "v1", "kind": "Pod"}


def test_a_trailing_document_separator_is_not_a_second_pod() -> None:
    assert load_document(b"---\n" + MINIMAL + b"---\n", SOURCE)["kind"] == "Pod"


def test_utf8_byte_order_mark_is_ignored() -> None:
    assert load_document(b"\xef\xbb\xbf" + MINIMAL, SOURCE)["kind"] == "Pod"


def test_dates_stay_the_strings_they_were_written_as() -> None:
    data = MINIMAL + b"  annotations:\n    released: 2024-01-01\n"
    assert load_document(data, SOURCE)["metadata"]["annotations"] == {"released": "2024-01-01"}


def test_merge_keys_and_aliases_are_expanded_into_independent_copies() -> None:
    data = MINIMAL + b"spec:\n  a: &base {x: 1}\n  b:\n    <<: *base\n    y: 2\n  c: *base\n"
    spec = load_document(data, SOURCE)["spec"]
    assert spec == {"a": {"x": 1}, "b": {"x": 1, "y": 2}, "c": {"x": 1}}
    spec["a"]["x"] = 99
    assert spec["c"] == {"x": 1}


# --- what is refused, and how it is said -----------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"  \n\t\n", b"# only\n# comments\n", b"---\n", b"---\n...\n"])
def test_an_empty_file_says_so(data: bytes) -> None:
    assert reason(data) == "the file is empty: a manifest must hold one Pod"


def test_binary_files_are_not_text() -> None:
    assert reason(b"\x7fELF\x02\x01\x00\x00") == "not a text file: it contains NUL bytes"
    assert reason(b"name: caf\xe9\n") == "not a text file: byte 0xe9 at offset 9 is not valid UTF-8"


def test_yaml_syntax_errors_give_line_and_column() -> None:
    data = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n   labels: x\n"
    # libyaml says "in this context", the pure-Python loader says "here"
    assert reason(data).startswith("invalid YAML at line 5, column 10: mapping values are not allowed")


def test_unclosed_flow_mapping_names_where_it_went_wrong() -> None:
    assert reason(b"apiVersion: v1\nkind: Pod\nmetadata: {name: web\n") == (
        "invalid YAML at line 4, column 1: did not find expected ',' or '}' (while parsing a flow mapping)"
    )


def test_tab_indentation_gets_a_hint() -> None:
    assert reason(b"apiVersion: v1\nkind: Pod\nmetadata:\n\tname: web\n") == (
        "invalid YAML at line 4, column 1: found character that cannot start any token "
        "(while scanning for the next token); YAML does not allow tabs for indentation: use spaces"
    )


def test_broken_json_reports_the_json_error() -> None:
    assert reason(b'{\n  "apiVersion": "v1"\n  "kind": "Pod"\n}') == (
        "invalid JSON at line 3, column 3: Expecting ',' delimiter"
    )


def test_control_characters_are_located() -> None:
    assert reason(b"apiVersion: v1\nkind: Pod\nx: a\x07b\n") == (
        "invalid YAML at line 3, column 5: control characters are not allowed (character #x0007)"
    )


def test_several_documents_are_refused_with_their_count() -> None:
    data = MINIMAL + b"---\n" + MINIMAL + b"---\n" + MINIMAL
    assert reason(data) == "a manifest file holds exactly one Pod; found 3 documents"


@pytest.mark.parametrize(
    ("data", "noun"),
    [(b"- apiVersion: v1\n  kind: Pod\n", "a list"), (b"hello\n", "a string"), (b"42\n", "a number")],
)
def test_the_top_level_must_be_a_mapping(data: bytes, noun: str) -> None:
    assert reason(data) == f"the document must be a mapping (a Pod object), not {noun}"


def test_a_missing_kind_is_required() -> None:
    assert reason(b"apiVersion: v1\nmetadata: {name: web}\n") == (
        "kind: Required value: a manifest file must hold exactly one Pod (kind: Pod)"
    )


def test_a_deployment_is_not_a_pod() -> None:
    assert reason(b"apiVersion: v1\nkind: Deployment\n") == (
        'kind: Invalid value: "Deployment": a manifest file must hold exactly one Pod (kind: Pod)'
    )


@pytest.mark.parametrize("kind", ["List", "PodList"])
def test_lists_get_a_hint_that_files_hold_single_pods(kind: str) -> None:
    assert reason(f"apiVersion: v1\nkind: {kind}\nitems: []\n".encode()) == (
        f'kind: Invalid value: "{kind}": a manifest file must hold exactly one Pod (kind: Pod); '
        "lists are not accepted in manifest files: put each Pod in its own file"
    )


def test_api_version_must_be_v1() -> None:
    assert reason(b"kind: Pod\n") == 'apiVersion: Required value: a Pod is apiVersion "v1"'
    assert reason(b"apiVersion: apps/v1\nkind: Pod\n") == (
        'apiVersion: Invalid value: "apps/v1": a Pod is apiVersion "v1"'
    )


def test_kind_and_api_version_errors_are_reported_together() -> None:
    assert reason(b"apiVersion: apps/v1\nkind: Deployment\n") == (
        'kind: Invalid value: "Deployment": a manifest file must hold exactly one Pod (kind: Pod); '
        'apiVersion: Invalid value: "apps/v1": a Pod is apiVersion "v1"'
    )


def test_duplicate_keys_are_refused_in_yaml_and_json() -> None:
    assert reason(MINIMAL + b"kind: Pod\n") == (
        'invalid YAML at line 5, column 1: found duplicate key "kind" (while constructing a mapping)'
    )
    duplicated = b'{"apiVersion": "v1", "kind": "Pod", "kind": "Pod"}'
    assert reason(duplicated) == 'invalid JSON: duplicate key "kind"'


def test_mapping_keys_must_be_strings() -> None:
    data = MINIMAL + b"  labels:\n    1: one\n    ~: none\n"
    assert reason(data) == (
        "metadata.labels: Invalid value: 1: a mapping key must be a string: quote it; "
        "metadata.labels: Invalid value: null: a mapping key must be a string: quote it"
    )


def test_values_json_cannot_hold_are_refused() -> None:
    assert reason(MINIMAL + b"spec: {x: .nan}\n") == 'spec.x: Invalid value: "nan": must be a finite number'
    assert reason(b'{"apiVersion": "v1", "kind": "Pod", "x": Infinity}') == (
        'x: Invalid value: "inf": must be a finite number'
    )
    assert reason(MINIMAL + b"spec: {x: !!binary aGk=}\n") == (
        "spec.x: Invalid value: \"b'hi'\": a bytes (from a YAML tag such as !!binary, !!set or !!timestamp) "
        "cannot be part of a Pod: write it as a plain string"
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("!!int abc", 'cannot read "abc" as !!int'),
        ("!!float abc", 'cannot read "abc" as !!float'),
        ("!!bool maybe", 'cannot read "maybe" as !!bool'),
        ("!!timestamp soon", 'cannot read "soon" as !!timestamp'),
    ],
)
def test_explicit_tags_on_unreadable_values_are_yaml_errors(value: str, problem: str) -> None:
    assert reason(MINIMAL + f"x: {value}\n".encode()) == f"invalid YAML at line 5, column 4: {problem}"


def test_python_tags_are_not_constructed() -> None:
    assert reason(MINIMAL + b"x: !!python/object/apply:os.system [ls]\n").startswith(
        "invalid YAML at line 5, column 4: could not determine a constructor for the tag"
    )


def test_billion_laughs_is_stopped() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    assert reason("\n".join(lines).encode()) == (
        f"the document is too large: more than {MAX_VALUES} values once YAML aliases are expanded"
    )


def test_self_referencing_alias_is_stopped() -> None:
    assert reason(b"a: &loop [*loop]\n") == f"the document is nested more than {MAX_DEPTH} levels deep"


@pytest.mark.parametrize(
    "data",
    [b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"a: " + b"[" * 150 + b"]" * 150],
)
def test_absurd_nesting_is_refused_without_crashing(data: bytes) -> None:
    assert re.search(r"nest", reason(data))


# --- load_pod end to end ---------------------------------------------------------------------------------


def test_walkthrough_pod_becomes_a_static_pod() -> None:
    pod = load_pod(WALKTHROUGH, SOURCE, "node1")

    assert isinstance(pod, StaticPod)
    assert pod.name == "nginx-truncator-node1"
    assert pod.namespace == "default"
    assert pod.full_name == "nginx-truncator-node1_default"
    assert re.fullmatch(r"[0-9a-f]{32}", pod.uid)
    assert pod.source == SOURCE
    assert pod.grace_period == 30
    assert pod.metadata["uid"] == pod.uid
    assert pod.metadata["annotations"] == {
        "kubernetes.io/config.hash": pod.uid,
        "kubernetes.io/config.source": "file",
    }
    assert pod.metadata["labels"] == {"app": "nginx"}
    assert pod.metadata["creationTimestamp"] is None
    assert pod.spec["nodeName"] == "node1"
    assert pod.spec["restartPolicy"] == "Always"
    assert pod.spec["dnsPolicy"] == "ClusterFirst"
    assert pod.spec["tolerations"] == [{"operator": "Exists", "effect": "NoExecute"}]
    assert pod.spec["volumes"] == [{"name": "logs", "emptyDir": {}}]

    nginx, truncator = pod.spec["containers"]
    assert nginx["imagePullPolicy"] == "IfNotPresent"
    assert truncator["imagePullPolicy"] == "Always"
    assert nginx["ports"] == [{"name": "http", "containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]
    assert nginx["resources"] == {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "500m", "memory": "128Mi"},
    }
    assert nginx["readinessProbe"] == {
        "httpGet": {"port": "http", "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert truncator["volumeMounts"] == [{"name": "logs", "mountPath": "/logs"}]
    for container in (nginx, truncator):
        assert container["terminationMessagePath"] == "/dev/termination-log"
        assert container["terminationMessagePolicy"] == "File"


def test_walkthrough_pod_round_trips_through_json() -> None:
    pod = load_pod(WALKTHROUGH, SOURCE, "node1")
    assert json.loads(json.dumps(pod.obj)) == pod.obj


def test_load_pod_is_deterministic_and_sensitive_to_content() -> None:
    first = load_pod(WALKTHROUGH, SOURCE, "node1")
    assert load_pod(WALKTHROUGH, SOURCE, "node1").uid == first.uid
    assert load_pod(WALKTHROUGH.replace(b"sleep 60", b"sleep 30"), SOURCE, "node1").uid != first.uid


def test_load_pod_reports_every_validation_error_with_the_file() -> None:
    data = WALKTHROUGH.replace(b"image: busybox", b"image: ''")
    data = data.replace(b"mountPath: /logs", b"mountPath: logs")
    with pytest.raises(ManifestError) as caught:
        load_pod(data, SOURCE, "node1")
    assert str(caught.value) == (
        f"{SOURCE}: spec.containers[1].image: Required value; "
        'spec.containers[1].volumeMounts[0].mountPath: Invalid value: "logs": must be an absolute path'
    )


def test_load_pod_checks_the_generated_name() -> None:
    with pytest.raises(ManifestError) as caught:
        load_pod(WALKTHROUGH, SOURCE, "node_1")
    assert caught.value.reason.startswith(
        'metadata.name: Invalid value: "nginx-truncator-node_1": a lowercase RFC 1123 subdomain'
    )
