"""Decoding one manifest file: every way a file can be wrong gets its own reason, and nothing else escapes."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pykubelet.manifest import ManifestError, StaticPod, load_pod, load_pod_document, load_pods
from pykubelet.manifest.parse import MAX_DEPTH, MAX_VALUES, PodItem, load_document, load_pod_or_list

SOURCE = "/etc/kubernetes/manifests/web.yaml"
MINIMAL = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"

WALKTHROUGH = b"""\
# nginx writes its access log to a shared emptyDir; busybox truncates it every minute.
apiVersion: v1
kind: Pod
metadata:
  name: nginx-truncator
  labels:
    app: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - name: http
      containerPort: 80
      hostPort: 8080
    resources:
      limits: {cpu: 500m, memory: 128Mi}
    volumeMounts:
    - name: logs
      mountPath: /var/log/nginx
    readinessProbe:
      httpGet: {port: http}
  - name: truncator
    image: busybox
    command: ["sh", "-c", "while true; do : > /logs/access.log; sleep 60; done"]
    volumeMounts:
    - name: logs
      mountPath: /logs
  volumes:
  - name: logs
    emptyDir: {}
"""


def reason(data: bytes, load: Any = load_document, source: str = SOURCE) -> str:
    with pytest.raises(ManifestError) as caught:
        load(data, source)
    assert caught.value.source == source
    return caught.value.reason


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


# --- nothing but ManifestError escapes -------------------------------------------------------------------

_VALID: dict[str, Any] = load_document(WALKTHROUGH, SOURCE)

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "1e99", "../x", "/x", "Always", "1Gi", "http", "v1", "Pod", "emptyDir"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found += _paths(item, (*prefix, key))
    return found


_PATHS = _paths(_VALID)[1:]


def _mutate(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _assert_only_manifest_errors(document: Any) -> None:
    with contextlib.suppress(ManifestError):
        load_pod(json.dumps(document).encode(), SOURCE, "node1")


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _VALUES), min_size=1, max_size=4))
def test_mutated_pods_never_raise_anything_but_manifest_error(
    mutations: list[tuple[tuple[Any, ...], Any]],
) -> None:
    document = copy.deepcopy(_VALID)
    for path, value in mutations:
        try:
            _mutate(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent of this path
    _assert_only_manifest_errors(document)


@settings(max_examples=75, derandomize=True, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _VALUES, max_size=5))
def test_random_documents_never_raise_anything_but_manifest_error(document: dict[str, Any]) -> None:
    _assert_only_manifest_errors({"apiVersion": "v1", "kind": "Pod", **document})


_YAML_TOKENS = st.sampled_from([
    "apiVersion: v1\n", "kind: Pod\n", "metadata:\n", "  name: web\n", "spec:\n", "  containers:\n",
    "  - name: a\n", "    image: nginx\n", "---\n", "- ", ": ", "? ", "[", "]", "{", "}", ",", "\n", "  ",
    "\t", "'", '"', "#", "&a ", "*a ", "<<: ", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ",
    "!!set ", "!!omap ", "!!str ", "!!map ", "!!seq ", "!x ", "x", "1", "-1", "0x", "1e9", ".nan", "~", "yes",
    "2024-01-01", "|\n", ">\n", "%YAML 1.1\n", "\u00e9", "\x07",
])  # fmt: skip


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.lists(_YAML_TOKENS, max_size=40))
def test_yaml_shaped_text_never_raises_anything_but_manifest_error(tokens: list[str]) -> None:
    with contextlib.suppress(ManifestError):
        load_pod("".join(tokens).encode(), SOURCE, "node1")


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_manifest_error(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        load_pod(data, SOURCE, "node1")


# --- hostile input: every one a clear error, and cheap -------------------------------------------------


def _n_values_json(n: int) -> bytes:
    """A Pod-shaped JSON document of exactly ``n`` values (root, apiVersion, kind, the list, its items)."""
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "x": [0] * (n - 4)}).encode()


def _n_values_yaml(n: int) -> bytes:
    return b"apiVersion: v1\nkind: Pod\nx:\n" + b"- 0\n" * (n - 4)


@pytest.mark.parametrize("encode", [_n_values_json, _n_values_yaml])
def test_the_value_limit_is_exact_in_json_and_yaml(encode: Any) -> None:
    assert len(load_document(encode(MAX_VALUES), SOURCE)["x"]) == MAX_VALUES - 4
    assert reason(encode(MAX_VALUES + 1)) == (
        f"the document is too large: more than {MAX_VALUES} values once YAML aliases are expanded"
    )


def test_a_huge_yaml_list_is_refused_before_the_rest_of_the_file_is_read() -> None:
    # the syntax error at the end is never reached: composing stopped at the limit
    data = _n_values_yaml(MAX_VALUES * 3) + b"x: [unclosed\n"
    assert reason(data).startswith("the document is too large")


def test_a_huge_json_array_is_counted_before_it_is_built() -> None:
    data = _n_values_json(MAX_VALUES * 3)[:-2] + b"!garbage"
    assert reason(data).startswith("the document is too large")


def test_json_nested_past_the_value_limit_is_said_to_be_too_deep() -> None:
    depth = MAX_VALUES * 2
    data = b'{"apiVersion": "v1", "kind": "Pod", "x": ' + b"[" * depth + b"]" * depth + b"}"
    assert reason(data) == f"the document is nested more than {MAX_DEPTH} levels deep"


def test_commas_and_brackets_inside_json_strings_are_not_values() -> None:
    text = ',[{"\\"' * (MAX_VALUES // 2)
    document = load_document(json.dumps({"apiVersion": "v1", "kind": "Pod", "x": text}).encode(), SOURCE)
    assert document["x"] == text


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (b'{"apiVersion": "v1", "kind": "Pod", "spec": {"x": ' + b"9" * 5000 + b"}}", "spec.x"),
        (MINIMAL + b"spec:\n  x: " + b"9" * 5000 + b"\n", "spec.x"),
        (MINIMAL + b"spec:\n  x: -" + b"9" * 5000 + b"\n", "spec.x"),
        (MINIMAL + b"spec:\n  l: [1, 0x" + b"f" * 60 + b"]\n", "spec.l[1]"),
        (MINIMAL + b"spec:\n  x: " + b"59:" * 20 + b"1\n", "spec.x"),  # YAML 1.1 base 60
        (MINIMAL + b"spec:\n  x: 9223372036854775808\n", "spec.x"),
        (b'{"apiVersion": "v1", "kind": "Pod", "x": -9223372036854775809}', "x"),
    ],
)
def test_integers_wider_than_64_bits_are_field_errors(data: bytes, path: str) -> None:
    problem = reason(data)
    assert problem.startswith(f"{path}: Invalid value: ")
    assert problem.endswith(": must fit in 64 bits: a Pod's numbers are int32 or int64")
    assert len(problem) < 200  # the 5000 digits are not copied into the message


def test_the_64_bit_limits_themselves_are_accepted() -> None:
    data = MINIMAL + b"spec:\n  a: 9223372036854775807\n  b: -9223372036854775808\n"
    assert load_document(data, SOURCE)["spec"] == {"a": 2**63 - 1, "b": -(2**63)}


def test_an_unreadable_explicit_int_does_not_copy_the_whole_value_into_the_message() -> None:
    assert reason(MINIMAL + b"x: !!int " + b"z" * 5000 + b"\n") == (
        f'invalid YAML at line 5, column 4: cannot read "{"z" * 37}..." as !!int'
    )


@pytest.mark.parametrize(
    ("value", "noun"),
    [
        ("!!binary aGk=", "bytes"),
        ("!!set {a, b}", "set"),
        ("!!timestamp 2024-01-01", "date"),
        ("!!timestamp 2024-01-01T10:00:00Z", "datetime"),
        ("!!omap [a: 1]", "tuple"),
    ],
)
def test_yaml_only_types_name_their_field(value: str, noun: str) -> None:
    problem = reason(MINIMAL + f"spec:\n  x: {value}\n".encode())
    assert problem.startswith("spec.x")
    assert (
        f"a {noun} (from a YAML tag such as !!binary, !!set or !!timestamp) cannot be part of a Pod"
        in problem
    )


def test_an_unquoted_date_in_creation_timestamp_stays_a_string() -> None:
    data = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  creationTimestamp: 2024-01-01T10:00:00Z\n"
    assert load_document(data, SOURCE)["metadata"]["creationTimestamp"] == "2024-01-01T10:00:00Z"


def test_a_deep_billion_laughs_is_refused_from_its_nodes_alone() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    names = [f"l{i}" for i in range(30)]
    for previous, name in zip(["a", *names], names, strict=False):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")  # 10**31 values
    assert reason(("apiVersion: v1\nkind: Pod\n" + "\n".join(lines)).encode()).startswith(
        "the document is too large"
    )


def test_a_merge_key_bomb_is_refused() -> None:
    keys = ", ".join(f"k{i}: {i}" for i in range(100))
    merges = ", ".join(["*a"] * 1000)
    data = MINIMAL + f"x: &a {{{keys}}}\ny: {{<<: [{merges}]}}\n".encode()
    assert reason(data).startswith("the document is too large")


@pytest.mark.parametrize("data", [b"a: &loop [*loop]\n", b"a: &loop {b: *loop}\n", b"a: &loop {<<: *loop}\n"])
def test_a_node_inside_itself_is_infinitely_deep(data: bytes) -> None:
    assert reason(data) == f"the document is nested more than {MAX_DEPTH} levels deep"


def test_an_undefined_alias_is_a_yaml_error() -> None:
    assert (
        reason(MINIMAL + b"x: *nowhere\n")
        == "invalid YAML at line 5, column 4: found undefined alias 'nowhere'"
    )


def test_two_merge_keys_in_one_mapping_are_duplicate_keys() -> None:
    data = MINIMAL + b"a: &a {x: 1}\nb: {<<: *a, <<: *a}\n"
    assert "found duplicate key" in reason(data)


def test_a_key_may_override_what_a_merged_mapping_brought_even_when_merged_again() -> None:
    # (keys longer than one character: PyYAML tells merged keys apart by identity, and one-character
    # strings are shared objects in CPython)
    data = MINIMAL + b"b: &b {xx: 2, z: 0}\nouter:\n  a: &a {xx: 1, <<: *b}\nc: {<<: *a, y: 3}\n"
    document = load_document(data, SOURCE)
    assert document["outer"]["a"] == {"xx": 1, "z": 0}
    assert document["c"] == {"xx": 1, "z": 0, "y": 3}


@pytest.mark.parametrize(
    "data",
    [
        b"- " * 200 + b"x\n",
        b"a:\n" + b"".join(b"  " * i + b"b:\n" for i in range(1, 200)),
        b'{"a":' * 200 + b"1" + b"}" * 200,
        b"x: " + b"{a: " * 200 + b"1" + b"}" * 200,
    ],
)
def test_deep_block_and_flow_nesting_is_refused(data: bytes) -> None:
    assert reason(data) == f"the document is nested more than {MAX_DEPTH} levels deep"


# --- a Pod or a list of Pods (the URL source) -------------------------------------------------------------

URL = "http://127.0.0.1:8080/pods.yaml"
ITEM = "- metadata: {{name: {name}}}\n  spec: {{containers: [{{name: c, image: busybox}}]}}\n"


def list_reason(data: bytes) -> str:
    return reason(data, load_pod_or_list, URL)


def test_a_lone_pod_is_one_item_at_the_root() -> None:
    assert load_pod_or_list(MINIMAL, URL) == [PodItem("", load_document(MINIMAL, SOURCE))]


@pytest.mark.parametrize("kind", ["PodList", "List"])
def test_a_list_gives_each_item_with_its_path_and_the_pod_type_filled_in(kind: str) -> None:
    body = f"apiVersion: v1\nkind: {kind}\nitems:\n{ITEM.format(name='a')}{ITEM.format(name='b')}"
    items = load_pod_or_list(body.encode(), URL)
    assert [i.path for i in items] == ["items[0]", "items[1]"]
    assert [i.document["metadata"]["name"] for i in items if i.document] == ["a", "b"]
    assert all(i.document and i.document["kind"] == "Pod" and i.document["apiVersion"] == "v1" for i in items)


def test_an_item_that_is_not_a_pod_has_its_own_errors() -> None:
    body = b"apiVersion: v1\nkind: List\nitems:\n- {kind: Service}\n- 3\n- {apiVersion: apps/v1}\n"
    assert [[str(e) for e in i.errors] for i in load_pod_or_list(body, URL)] == [
        ['items[0].kind: Invalid value: "Service": every item of a list must be a Pod'],
        ['items[1]: Invalid value: "a number": must be a mapping (a Pod object)'],
        ['items[2].apiVersion: Invalid value: "apps/v1": a Pod is apiVersion "v1"'],
    ]


def test_an_empty_list_has_no_items() -> None:
    assert load_pod_or_list(b"apiVersion: v1\nkind: PodList\nitems: []\n", URL) == []
    assert load_pod_or_list(b"apiVersion: v1\nkind: PodList\n", URL) == []


def test_what_is_neither_a_pod_nor_a_list_says_what_the_url_must_serve() -> None:
    assert list_reason(b"apiVersion: apps/v1\nkind: Deployment\n") == (
        'kind: Invalid value: "Deployment": the body must be one Pod, or a PodList (or List) of Pods; '
        'apiVersion: Invalid value: "apps/v1": a Pod is apiVersion "v1"'
    )
    assert list_reason(b"apiVersion: v1\nkind: PodList\nitems: {a: 1}\n") == (
        'items: Invalid value: "a string": must be a list of Pods'
    )
    assert list_reason(b"apiVersion: v2\nkind: PodList\nitems: []\n") == (
        'apiVersion: Invalid value: "v2": a PodList or List is apiVersion "v1"'
    )


def test_a_list_is_decoded_with_the_same_limits_and_messages_as_a_file() -> None:
    for data in (_n_values_yaml(MAX_VALUES + 1), b"a: &loop [*loop]\n", MINIMAL + b"kind: Pod\n", b"\x00"):
        with pytest.raises(ManifestError) as as_file:
            load_document(data, URL)
        assert list_reason(data) == as_file.value.reason


def test_load_pods_names_the_item_in_every_error_and_keeps_the_good_ones() -> None:
    body = (
        "apiVersion: v1\nkind: PodList\nitems:\n"
        + ITEM.format(name="a")
        + ITEM.format(name="b").replace("image: busybox", "image: ''")
    )
    good, bad = load_pods(body.encode(), URL, "node1")
    assert isinstance(good, StaticPod) and good.name == "a-node1" and good.source == URL
    assert good.metadata["annotations"]["kubernetes.io/config.source"] == "http"
    assert isinstance(bad, ManifestError)
    assert str(bad) == f"{URL}: items[1].spec.containers[0].image: Required value"


def test_load_pod_document_equals_load_pod_without_re_encoding() -> None:
    from_bytes = load_pod(WALKTHROUGH, SOURCE, "node1")
    from_document = load_pod_document(load_document(WALKTHROUGH, SOURCE), SOURCE, "node1")
    assert from_document == from_bytes and from_document.obj == from_bytes.obj


def test_the_same_pod_alone_or_in_a_list_has_the_same_uid() -> None:
    alone = (
        b"apiVersion: v1\nkind: Pod\n"
        + ITEM.format(name="a").removeprefix("- ").replace("\n  ", "\n").encode()
    )
    listed = b"apiVersion: v1\nkind: PodList\nitems:\n" + ITEM.format(name="a").encode()
    [one], [other] = load_pods(alone, URL, "node1"), load_pods(listed, URL, "node1")
    assert isinstance(one, StaticPod) and isinstance(other, StaticPod) and one.uid == other.uid


# --- property: nothing but ManifestError, whatever the bytes ----------------------------------------------

_JSONISH_SCALARS = st.sampled_from([
    "9" * 5000, "-" + "9" * 4400, "0x" + "f" * 80, "1e999", "-1e999", ".nan", "NaN", "Infinity", "0", "-0",
    '"x"', "'y'", "true", "yes", "null", "~", "2024-01-01", "2024-01-01T00:00:00Z", "!!binary aGk=",
    "!!set {a}", "!!timestamp 2001-12-14", "*a", "&a 1", "&a [1]", "!!int x", "1:2:3", '"\\ud800"', "",
])  # fmt: skip


def _jsonish(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.lists(st.tuples(st.sampled_from(['"k"', "k", '"kind"', "<<", "1", "[a]"]), inner), max_size=4)
    return st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        pairs.map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
    )


_JSONISH = st.recursive(_JSONISH_SCALARS, _jsonish, max_leaves=12)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    _JSONISH,
    st.sampled_from(["{}", '{{"apiVersion": "v1", "kind": "Pod", "spec": {}}}', "kind: PodList\nitems: {}"]),
)
def test_jsonish_documents_never_raise_anything_but_manifest_error(value: str, frame: str) -> None:
    data = frame.format(value).encode()
    for load in (load_document, load_pod_or_list):
        with contextlib.suppress(ManifestError):
            load(data, SOURCE)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_but_manifest_error_as_a_list_either(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        load_pods(data, URL, "node1")
