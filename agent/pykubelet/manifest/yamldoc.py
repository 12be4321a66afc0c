"""YAML, read the way a hostile file cannot exploit: the YAML half of ``parse``.

libyaml's own composer builds the whole node tree before anyone can count it (6 MB of YAML: 30 s and
1.2 GB), so here Python's composer runs over libyaml's events, counting values and depth as it goes and
stopping at the limits; aliases are sized once per node before anything is constructed ("billion
laughs" and self-references), dates stay the strings they were written as (Go's decoder does the
same), integers too long for int64 are kept as text to be reported with their path, and a repeated key
is an error rather than a silent last-wins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, cast

import yaml

from pykubelet.manifest.errors import ManifestError

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_TEXT",
    "MAX_VALUES",
    "TOO_DEEP",
    "TOO_LARGE",
    "HugeNumber",
    "describe_yaml_error",
    "load_yaml",
]

# Real Pods hold hundreds of values, the largest plausible ones a few thousand (a thousand env vars).
# 50 000 is ten times that and keeps the worst case cheap: decoding 50 000 values costs about a second of
# CPU and 60 MB (load_pod: ~2 s; at 100 000 it took 4-5 s), so any file up to 10 MiB is accepted or refused
# in a couple of seconds. Both limits count YAML aliases as expanded: "billion laughs" and self-references.
MAX_VALUES: Final = 50_000
MAX_DEPTH: Final = 100
TOO_LARGE: Final = f"the document is too large: more than {MAX_VALUES} values once YAML aliases are expanded"
TOO_DEEP: Final = f"the document is nested more than {MAX_DEPTH} levels deep"
_TAB_HINT: Final = "; YAML does not allow tabs for indentation: use spaces"
_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_INT_TAG: Final = "tag:yaml.org,2002:int"
_INT_TEXT: Final = re.compile(r"[-+]?[0-9][0-9a-fA-FxXoObB_:]*")  # what YAML 1.1 might read as an integer
MAX_INT_TEXT: Final = 70  # "0b" and 64 binary digits, with a sign: longer integer text cannot be int64


@dataclass(frozen=True)
class HugeNumber:
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
                raise ManifestError(self.source, TOO_LARGE)
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
            raise ManifestError(self.source, TOO_DEEP)

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

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int | HugeNumber:  # type: ignore[override]
        """Integer text too long for an int64 is kept as text: ``int()`` of 5000 digits raises."""
        if len(node.value) > MAX_INT_TEXT and _INT_TEXT.fullmatch(node.value):
            return HugeNumber(node.value)
        return super().construct_yaml_int(node)


_PodLoader.add_constructor(_INT_TAG, _PodLoader.construct_yaml_int)  # type: ignore[type-var]
_PodLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, source: str) -> list[Any]:
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
                raise ManifestError(source, TOO_LARGE)
            if height[key] > MAX_DEPTH:
                raise ManifestError(source, TOO_DEEP)
        elif key in open_nodes:
            raise ManifestError(source, TOO_DEEP)
        elif key not in size:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _value_nodes(node))


def _value_nodes(node: yaml.Node) -> list[yaml.Node]:
    """What a node holds as values (a merge key's value counts: it is merged in)."""
    if isinstance(node, yaml.MappingNode):
        return [value for _, value in node.value]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


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


def describe_yaml_error(err: yaml.YAMLError, text: str) -> str:
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
