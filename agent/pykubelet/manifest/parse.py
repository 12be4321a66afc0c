"""Bytes of one manifest file -> one Pod document (a plain dict), or a :class:`ManifestError` saying why not.

The kubelet's file source (``pkg/kubelet/config/file.go``) accepts exactly one Pod per file, YAML or JSON,
and logs anything else as "couldn't parse as pod". That message helps nobody, so every way a file can be
wrong gets its own reason here: empty, binary, a syntax error with its line and column, several
documents, a Deployment or a List where a Pod belongs.

Like ``k8s.io/apimachinery/pkg/util/yaml.ToJSON``, a document that starts with ``{`` is read as JSON
first (so tab-indented JSON works, which YAML forbids); anything else is YAML. The result is normalised to
plain JSON data (string keys, finite numbers, no shared sub-trees), because the pod's UID is a hash of its
JSON form and the rest of the agent treats it as such.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import yaml

from pykubelet.manifest.errors import FieldError, ManifestError, invalid, required

__all__ = ["MAX_DEPTH", "MAX_VALUES", "load_document"]

# A Pod has a few thousand values at most. These bound the work a hostile file can cause: YAML aliases
# ("billion laughs") expand exponentially when walked, and a self-referencing alias never ends.
MAX_VALUES: Final = 1_000_000
MAX_DEPTH: Final = 100

_ONE_POD: Final = "a manifest file must hold exactly one Pod (kind: Pod)"
_LIST_HINT: Final = "; lists are not accepted in manifest files: put each Pod in its own file"
_API_VERSION: Final = 'a Pod is apiVersion "v1"'
_EMPTY: Final = "the file is empty: a manifest must hold one Pod"
_TAB_HINT: Final = "; YAML does not allow tabs for indentation: use spaces"
_TOO_LARGE: Final = f"the document is too large: more than {MAX_VALUES} values once YAML aliases are expanded"
_TOO_DEEP: Final = f"the document is nested more than {MAX_DEPTH} levels deep"
_NOT_JSON: Final = (
    "a {} (from a YAML tag such as !!binary, !!set or !!timestamp) cannot be part of a Pod: "
    "write it as a plain string"
)
_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PodLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader that keeps dates as the strings they were written as and refuses duplicate keys.

    Go's YAML decoder hands ``2024-01-01`` to the API as a string, so it must not become a ``date``. A
    repeated key (two ``image:`` lines) silently keeps the last one, which is never what was meant.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """An explicit tag on a value it cannot read (``!!int abc``) is a YAML error, not a crash."""
        try:
            return super().construct_object(node, deep=deep)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as err:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            problem = f"cannot read {json.dumps(node.value, default=str)} as {tag}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from err

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            _reject_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_PodLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def load_document(data: bytes, source: str) -> dict[str, Any]:
    """Decode the single Pod in ``data`` (the bytes of ``source``); raise :class:`ManifestError` if not."""
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
    errors = _type_meta_errors(document)
    if errors:
        raise ManifestError(source, errors)
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
        try:
            return [json.loads(text, object_pairs_hook=_json_object)]
        except json.JSONDecodeError as err:
            json_error = err  # maybe a YAML flow mapping; if YAML fails too, the JSON error is the useful one
        except RecursionError:
            raise ManifestError(source, _TOO_DEEP) from None
        except _DuplicateKeyError as err:
            raise ManifestError(source, f"invalid JSON: duplicate key {json.dumps(err.key)}") from None
    try:
        return _load_yaml(text)
    except yaml.YAMLError as err:
        if json_error is not None:
            raise ManifestError(source, _describe_json_error(json_error)) from None
        raise ManifestError(source, _describe_yaml_error(err, text)) from None
    except RecursionError:
        raise ManifestError(source, _TOO_DEEP) from None


def _load_yaml(text: str) -> list[Any]:
    loader = _PodLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = (key_node.tag, key_node.value)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {json.dumps(key_node.value)}",
                key_node.start_mark,
            )
        seen.add(key)


def _describe_yaml_error(err: yaml.YAMLError, text: str) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        context = f" ({err.context})" if err.context else ""
        hint = _TAB_HINT if text[mark.index : mark.index + 1] == "\t" else ""
        return f"invalid YAML at {where}: {err.problem}{context}{hint}"
    if isinstance(err, yaml.reader.ReaderError):
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        return f"invalid YAML at line {line}, column {column}: {err.reason} (character #x{err.character:04x})"
    return f"invalid YAML: {err}"


def _describe_json_error(err: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"


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
            raise ManifestError(source, _TOO_LARGE)
        if depth > MAX_DEPTH:
            raise ManifestError(source, _TOO_DEEP)
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
    elif not (value is None or isinstance(value, (str, int, float))):
        errors.append(invalid(path, str(value), _NOT_JSON.format(type(value).__name__)))
    return []


def _type_meta_errors(document: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    kind = document.get("kind")
    if kind in (None, ""):
        errors.append(required("kind", _ONE_POD))
    elif kind != "Pod":
        errors.append(invalid("kind", kind, _ONE_POD + (_LIST_HINT if kind in ("List", "PodList") else "")))
    api_version = document.get("apiVersion")
    if api_version in (None, ""):
        errors.append(required("apiVersion", _API_VERSION))
    elif api_version != "v1":
        errors.append(invalid("apiVersion", api_version, _API_VERSION))
    return errors


def _noun(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"
