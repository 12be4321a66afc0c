"""Bytes of one manifest -> one Pod document (a plain dict), or a :class:`ManifestError` saying why not.

The kubelet's file source (``pkg/kubelet/config/file.go``) accepts exactly one Pod per file, YAML or JSON,
and logs anything else as "couldn't parse as pod". That message helps nobody, so every way a file can be
wrong gets its own reason here: empty, binary, a syntax error with its line and column, several
documents, a Deployment or a List where a Pod belongs. The URL source (``http.go``) also takes a
PodList: :func:`load_pod_or_list` reads it with the very same steps and limits.

Like ``k8s.io/apimachinery/pkg/util/yaml.ToJSON``, a document that starts with ``{`` is read as JSON
first (so tab-indented JSON works, which YAML forbids); anything else is YAML. The result is normalised to
plain JSON data (string keys, finite numbers that fit in 64 bits, no shared sub-trees), because the pod's
UID is a hash of its JSON form and the rest of the agent treats it as such.

Hostile input is refused early and cheaply: YAML values are counted as they are composed (the parser
stops reading at the limit) and aliases sized before anything is built from them; JSON values are counted
before ``json.loads``. Nothing but :class:`ManifestError` leaves this module.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Final

import yaml

from pykubelet.manifest.errors import FieldError, ManifestError, invalid, required
from pykubelet.manifest.yamldoc import (
    MAX_DEPTH,
    MAX_INT_TEXT,
    MAX_VALUES,
    TOO_DEEP,
    TOO_LARGE,
    HugeNumber,
    describe_yaml_error,
    load_yaml,
)

__all__ = ["MAX_DEPTH", "MAX_VALUES", "PodItem", "load_document", "load_pod_or_list"]

_INT64: Final = 2**63  # a Pod's numbers are int32 or int64; json.dumps cannot print >4300 digits anyway

_ONE_POD: Final = "a manifest file must hold exactly one Pod (kind: Pod)"
_LIST_HINT: Final = "; lists are not accepted in manifest files: put each Pod in its own file"
_POD_OR_LIST: Final = "the body must be one Pod, or a PodList (or List) of Pods"
_ITEM_KIND: Final = "every item of a list must be a Pod"
_API_VERSION: Final = 'a Pod is apiVersion "v1"'
_LIST_API_VERSION: Final = 'a PodList or List is apiVersion "v1"'
_EMPTY: Final = "the file is empty: a manifest must hold one Pod"
_TOO_WIDE: Final = "must fit in 64 bits: a Pod's numbers are int32 or int64"
_NOT_JSON: Final = (
    "a {} (from a YAML tag such as !!binary, !!set or !!timestamp) cannot be part of a Pod: "
    "write it as a plain string"
)
# A JSON string (escapes included); possessive, so an unterminated string costs one linear pass.
_JSON_STRING: Final = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_WHITESPACE: Final = re.compile(r"\s+")
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


@dataclass(frozen=True)
class PodItem:
    """One Pod of a body: where it sits (``""`` for a lone Pod, ``items[2]`` in a list) and its document,
    or the errors (paths from the body's root) that keep it from being one."""

    path: str
    document: dict[str, Any] | None
    errors: tuple[FieldError, ...] = ()


def load_document(data: bytes, source: str) -> dict[str, Any]:
    """Decode the single Pod in ``data`` (the bytes of ``source``); raise :class:`ManifestError` if not."""
    document = _decode(data, source)
    errors = _type_meta_errors(document, "", _ONE_POD, _LIST_HINT)
    if errors:
        raise ManifestError(source, errors)
    return document


def load_pod_or_list(data: bytes, source: str) -> list[PodItem]:
    """Decode a Pod, or a PodList / List of Pods, as the URL source serves them.

    The body is decoded as :func:`load_document` decodes a file, or :class:`ManifestError` is raised. An
    item that is not a Pod comes back with its errors, so the others still run. A list item may leave out
    ``kind`` and ``apiVersion`` (the list says what it is): they are filled in, so a Pod served alone or
    in a list is the same document.
    """
    document = _decode(data, source)
    if document.get("kind") not in ("PodList", "List"):
        errors = _type_meta_errors(document, "", _POD_OR_LIST)
        if errors:
            raise ManifestError(source, errors)
        return [PodItem("", document)]
    api_version = document.get("apiVersion")
    if api_version != "v1":
        raise ManifestError(source, [invalid("apiVersion", api_version, _LIST_API_VERSION)])
    items = document.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise ManifestError(source, [invalid("items", _noun(items), "must be a list of Pods")])
    return [_list_item(f"items[{i}]", item) for i, item in enumerate(items)]


def _list_item(path: str, item: Any) -> PodItem:
    if not isinstance(item, dict):
        return PodItem(path, None, (invalid(path, _noun(item), "must be a mapping (a Pod object)"),))
    document = {"apiVersion": "v1", "kind": "Pod", **item}
    errors = _type_meta_errors(document, path, _ITEM_KIND)
    return PodItem(path, None if errors else document, tuple(errors))


def _decode(data: bytes, source: str) -> dict[str, Any]:
    """The steps every manifest goes through: text, exactly one document, plain JSON data, a mapping."""
    text = _decode_text(data, source)
    if not text.strip():
        raise ManifestError(source, _EMPTY)
    documents = [d for d in _load_documents(text, source) if d is not None]
    if not documents:
        raise ManifestError(source, _EMPTY)
    if len(documents) > 1:
        raise ManifestError(
            source, f"a manifest file holds exactly one Pod; found {len(documents)} documents"
        )
    document = _plain_data(documents[0], source)
    if not isinstance(document, dict):
        raise ManifestError(source, f"the document must be a mapping (a Pod object), not {_noun(document)}")
    return document


def _decode_text(data: bytes, source: str) -> str:
    if b"\x00" in data:
        raise ManifestError(source, "not a text file: it contains NUL bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ManifestError(
            source, f"not a text file: byte 0x{data[err.start]:02x} at offset {err.start} is not valid UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def _load_documents(text: str, source: str) -> list[Any]:
    """Every document in the file; JSON first when it looks like JSON, exactly as the kubelet decides."""
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith("{"):
        over = _json_over_limit(text)
        if over:
            raise ManifestError(source, over)
        try:
            unique = functools.partial(_json_object, source)
            return [json.loads(text, object_pairs_hook=unique, parse_int=_json_int)]
        except json.JSONDecodeError as err:
            json_error = err  # maybe a YAML flow mapping; if YAML fails too, the JSON error is the useful one
        except RecursionError:
            raise ManifestError(source, TOO_DEEP) from None
    try:
        return load_yaml(text, source)
    except yaml.YAMLError as err:
        if json_error is not None:
            where = f"line {json_error.lineno}, column {json_error.colno}"
            raise ManifestError(source, f"invalid JSON at {where}: {json_error.msg}") from None
        raise ManifestError(source, describe_yaml_error(err, text)) from None
    except RecursionError:
        raise ManifestError(source, TOO_DEEP) from None


def _json_over_limit(text: str) -> str | None:
    """The limit a JSON text is over, found at C speed before ``json.loads`` builds a thing.

    Outside strings, each value but the first of a non-empty array or object follows a comma, and every
    array or object is a value that may hold a first one. Nesting is measured only past the value limit
    (below it, ``json.loads`` and the walk check it), to say "too deep" where that is the trouble.
    """
    bare = _WHITESPACE.sub("", _JSON_STRING.sub("", text))
    opened = bare.count("[") + bare.count("{") - bare.count("[]") - bare.count("{}")
    if 1 + bare.count(",") + opened <= MAX_VALUES:
        return None
    steps = _NOT_BRACKET.sub("", bare).encode().translate(_DEPTH_STEP)  # an opening 2, a closing 0
    depths = map(operator.sub, itertools.accumulate(steps), itertools.count(1))
    return TOO_DEEP if max(depths, default=0) > MAX_DEPTH else TOO_LARGE


def _json_object(source: str, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ManifestError(source, f"invalid JSON: duplicate key {json.dumps(key)}")
            seen.add(key)
    return result


def _json_int(text: str) -> int | HugeNumber:
    """``json.loads`` raises a bare ValueError on more than 4300 digits; keep such a number as text."""
    return int(text) if len(text) <= MAX_INT_TEXT else HugeNumber(text)


def _plain_data(document: Any, source: str) -> Any:
    """Check the document is JSON data and return an unshared copy of it.

    The walk is iterative and bounded, so alias bombs and self-referencing aliases end in an error
    instead of exhausting memory or the stack. Errors come out in document order.
    """
    errors: list[FieldError] = []
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    visited = 0
    while stack:
        path, value, depth = stack.pop()
        visited += 1
        if visited > MAX_VALUES:
            raise ManifestError(source, TOO_LARGE)
        if depth > MAX_DEPTH:
            raise ManifestError(source, TOO_DEEP)
        children = _children(path, value, errors)
        stack.extend((child_path, child, depth + 1) for child_path, child in reversed(children))
    if errors:
        raise ManifestError(source, errors)
    return json.loads(json.dumps(document))


def _children(path: str, value: Any, errors: list[FieldError]) -> list[tuple[str, Any]]:
    """The sub-values of one value, each with its path; a value JSON cannot hold is added to ``errors``."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                errors.append(invalid(path, key, "a mapping key must be a string: quote it"))
        return [
            (f"{path}.{key}" if path else key, item) for key, item in value.items() if isinstance(key, str)
        ]
    if isinstance(value, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(invalid(path, str(value), "must be a finite number"))
    elif isinstance(value, HugeNumber) or (
        isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64
    ):
        errors.append(invalid(path, str(value), _TOO_WIDE))
    elif not (value is None or isinstance(value, (str, int, float))):
        errors.append(invalid(path, str(value), _NOT_JSON.format(type(value).__name__)))
    return []


def _type_meta_errors(
    document: dict[str, Any], path: str, expected: str, list_hint: str = ""
) -> list[FieldError]:
    """``kind`` must be Pod and ``apiVersion`` v1 (at ``path``: a list item's fields are under it)."""
    errors: list[FieldError] = []
    at = f"{path}." if path else ""
    kind = document.get("kind")
    if kind in (None, ""):
        errors.append(required(f"{at}kind", expected))
    elif kind != "Pod":
        errors.append(
            invalid(f"{at}kind", kind, expected + (list_hint if kind in ("List", "PodList") else ""))
        )
    api_version = document.get("apiVersion")
    if api_version in (None, ""):
        errors.append(required(f"{at}apiVersion", _API_VERSION))
    elif api_version != "v1":
        errors.append(invalid(f"{at}apiVersion", api_version, _API_VERSION))
    return errors


def _noun(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return (
        "a list" if isinstance(value, list) else "a number" if isinstance(value, (int, float)) else "a string"
    )
