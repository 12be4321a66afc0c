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
from typing import Any, Final, cast

import yaml

from pykubelet.manifest.errors import FieldError, ManifestError, invalid, required

__all__ = ["MAX_DEPTH", "MAX_VALUES", "PodItem", "load_document", "load_pod_or_list"]

# Real Pods hold hundreds of values, the largest plausible ones a few thousand (a thousand env vars).
# 50 000 is ten times that and keeps the worst case cheap: decoding 50 000 values costs about a second of
# CPU and 60 MB (load_pod: ~2 s; at 100 000 it took 4-5 s), so any file up to 10 MiB is accepted or refused
# in a couple of seconds. Both limits count YAML aliases as expanded: "billion laughs" and self-references.
MAX_VALUES: Final = 50_000
MAX_DEPTH: Final = 100
_INT64: Final = 2**63  # a Pod's numbers are int32 or int64; json.dumps cannot print >4300 digits anyway
_MAX_INT_TEXT: Final = 70  # "0b" and 64 binary digits, with a sign: longer integer text cannot be int64

_ONE_POD: Final = "a manifest file must hold exactly one Pod (kind: Pod)"
_LIST_HINT: Final = "; lists are not accepted in manifest files: put each Pod in its own file"
_POD_OR_LIST: Final = "the body must be one Pod, or a PodList (or List) of Pods"
_ITEM_KIND: Final = "every item of a list must be a Pod"
_API_VERSION: Final = 'a Pod is apiVersion "v1"'
_LIST_API_VERSION: Final = 'a PodList or List is apiVersion "v1"'
_EMPTY: Final = "the file is empty: a manifest must hold one Pod"
_TAB_HINT: Final = "; YAML does not allow tabs for indentation: use spaces"
_TOO_LARGE: Final = f"the document is too large: more than {MAX_VALUES} values once YAML aliases are expanded"
_TOO_DEEP: Final = f"the document is nested more than {MAX_DEPTH} levels deep"
_TOO_WIDE: Final = "must fit in 64 bits: a Pod's numbers are int32 or int64"
_NOT_JSON: Final = (
    "a {} (from a YAML tag such as !!binary, !!set or !!timestamp) cannot be part of a Pod: "
    "write it as a plain string"
)
_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_INT_TAG: Final = "tag:yaml.org,2002:int"
# A JSON string (escapes included); possessive, so an unterminated string costs one linear pass.
_JSON_STRING: Final = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_WHITESPACE: Final = re.compile(r"\s+")
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_INT_TEXT: Final = re.compile(r"[-+]?[0-9][0-9a-fA-FxXoObB_:]*")  # what YAML 1.1 might read as an integer


@dataclass(frozen=True)
class _HugeNumber:
    """An integer written with too many digits to be an int64; kept as its text, reported with its path."""

    text: str

    def __str__(self) -> str:
        return self.text if len(self.text) <= 24 else f"{self.text[:20]}... ({len(self.text)} characters)"


try:  # libyaml's parser emits events fast; the Python composer below counts them as it builds nodes
    from yaml.cyaml import CParser as _EventParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml: the same events, slower
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _EventParser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _PodLoader(
    yaml.composer.Composer, _EventParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
):
    """A safe loader that counts what it composes, keeps dates as strings and refuses duplicate keys.

    libyaml's composer builds the whole tree before anyone can count it (6 MB of YAML: 30 s and 1.2 GB),
    so the Python composer runs over libyaml's events and stops at :data:`MAX_VALUES`. Go's YAML decoder
    hands ``2024-01-01`` to the API as a string, so it must not become a ``date``. A repeated key (two
    ``image:`` lines) silently keeps the last one, which is never what was meant.
    """

    def __init__(self, text: str, source: str) -> None:
        _EventParser.__init__(self, text)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.values = 0  # nodes composed, mapping keys aside (as the walk in _plain_data counts)
        self.depth = 0
        self.aliases = 0  # in the document being composed: without any, the counts above are exact
        self.source = source

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if index is not None or not isinstance(parent, yaml.MappingNode):  # a value, not a mapping key
            self.values += 1
            if self.values > MAX_VALUES:
                raise ManifestError(self.source, _TOO_LARGE)
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
        return cast(yaml.Node, super().compose_node(parent, index))

    # types-PyYAML declares ``anchor`` as a dict; PyYAML passes the anchor's name (or None).
    def compose_sequence_node(self, anchor: str | None) -> yaml.SequenceNode:  # type: ignore[override]
        self._descend()
        node = super().compose_sequence_node(anchor)  # type: ignore[arg-type]
        self.depth -= 1  # (after an error the loader is thrown away: no need for try/finally)
        return node

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:  # type: ignore[override]
        self._descend()
        node = super().compose_mapping_node(anchor)  # type: ignore[arg-type]
        self.depth -= 1
        _reject_duplicate_keys(node)  # here, before merge keys are flattened into it
        return node

    def _descend(self) -> None:  # the composer recurses: bound it here; the walk checks nesting exactly
        self.depth += 1
        if self.depth > MAX_DEPTH + 1:
            raise ManifestError(self.source, _TOO_DEEP)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """An explicit tag on a value it cannot read (``!!int abc``) is a YAML error, not a crash."""
        try:
            return super().construct_object(node, deep=deep)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as err:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            text = str(node.value)
            shown = text if len(text) <= 40 else text[:37] + "..."
            problem = f"cannot read {json.dumps(shown)} as {tag}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from err

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int | _HugeNumber:  # type: ignore[override]
        """Integer text too long for an int64 is kept as text: ``int()`` of 5000 digits raises."""
        if len(node.value) > _MAX_INT_TEXT and _INT_TEXT.fullmatch(node.value):
            return _HugeNumber(node.value)
        return super().construct_yaml_int(node)


_PodLoader.add_constructor(_INT_TAG, _PodLoader.construct_yaml_int)  # type: ignore[type-var]
_PodLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


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
            raise ManifestError(source, _TOO_DEEP) from None
    try:
        return _load_yaml(text, source)
    except yaml.YAMLError as err:
        if json_error is not None:
            where = f"line {json_error.lineno}, column {json_error.colno}"
            raise ManifestError(source, f"invalid JSON at {where}: {json_error.msg}") from None
        raise ManifestError(source, _describe_yaml_error(err, text)) from None
    except RecursionError:
        raise ManifestError(source, _TOO_DEEP) from None


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
    return _TOO_DEEP if max(depths, default=0) > MAX_DEPTH else _TOO_LARGE


def _load_yaml(text: str, source: str) -> list[Any]:
    loader = _PodLoader(text, source)
    try:
        documents = []
        while loader.check_node():
            loader.aliases = 0
            node = loader.get_node()
            if node is None:  # (check_node said there is one)
                break
            if loader.aliases:
                _check_expansion(node, source)
            documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse a document whose aliases expand past the limits, or forever, before anything is built.

    Each node's expanded size and height are computed once (aliases share nodes), so a 400-byte
    "billion laughs" costs a few hundred steps. A node found inside itself is infinitely deep.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _value_nodes(node)
            size[key] = 1 + sum(size[id(child)] for child in children)
            height[key] = 1 + max((height[id(child)] for child in children), default=-1)
            open_nodes.discard(key)
            if size[key] > MAX_VALUES:
                raise ManifestError(source, _TOO_LARGE)
            if height[key] > MAX_DEPTH:
                raise ManifestError(source, _TOO_DEEP)
        elif key in open_nodes:
            raise ManifestError(source, _TOO_DEEP)
        elif key not in size:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _value_nodes(node))


def _value_nodes(node: yaml.Node) -> list[yaml.Node]:
    """What a node holds as values (a merge key's value counts: it is merged in)."""
    if isinstance(node, yaml.MappingNode):
        return [value for _, value in node.value]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _json_object(source: str, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ManifestError(source, f"invalid JSON: duplicate key {json.dumps(key)}")
            seen.add(key)
    return result


def _json_int(text: str) -> int | _HugeNumber:
    """``json.loads`` raises a bare ValueError on more than 4300 digits; keep such a number as text."""
    return int(text) if len(text) <= _MAX_INT_TEXT else _HugeNumber(text)


def _reject_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[tuple[str, str]] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
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
    elif isinstance(value, _HugeNumber) or (
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
