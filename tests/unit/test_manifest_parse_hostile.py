"""Decoding hostile manifests: huge, deep, aliased or overflowing documents are each a clear and cheap
:class:`ManifestError`, and nothing else escapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pykubelet.manifest.parse import MAX_DEPTH, MAX_VALUES, load_document
from tests.unit.manifest_parse_support import MINIMAL, SOURCE, _n_values_json, _n_values_yaml, reason

# --- hostile input: every one a clear error, and cheap -------------------------------------------------


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
