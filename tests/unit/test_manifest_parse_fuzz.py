"""Property tests of manifest decoding: whatever the bytes, the YAML tokens or the mutated Pod, nothing but
:class:`ManifestError` escapes, from a file or from a list."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pykubelet.manifest import ManifestError, load_pod, load_pods
from pykubelet.manifest.parse import load_document, load_pod_or_list
from tests.unit.manifest_parse_support import SOURCE, URL, WALKTHROUGH

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
