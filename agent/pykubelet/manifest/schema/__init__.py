"""The structure of a Pod, checked against the real v1 Pod JSON schema of one Kubernetes release.

``pod-v1.json`` beside this file is the "strict" v1 Pod schema of Kubernetes 1.37.0 as the PyPI package
``kubernetes-validate`` publishes it (generated from that release's OpenAPI document), cut down to the
Pod and the definitions it references by ``scripts/extract-pod-schema.py``. Nothing in it is written by
hand. It answers two questions, as the API server's strict decoder does before any validation runs:

- **Unknown fields.** Every object in the strict schema has ``additionalProperties: false``, so a typo
  such as ``imagePullPolice`` is found wherever it is, and reported like kubectl's strict field
  validation: ``unknown field "spec.containers[0].imagePullPolice"``.
- **Wrong types.** ``ports: "80"`` is ``spec.containers[0].ports: Invalid value: "80": must be a list``,
  in the same words as ``validate.py``.

Values (required fields, enums, names, ranges, cross-field rules) are ``validate.py``'s business, not
this module's: the schema's ``required`` and ``enum`` keywords are not used, so nothing is said twice.

1.37.0 is the newest release the package ships: a manifest written for any current cluster uses fields
this schema knows, and fields only ever get added to v1 Pod (a few alpha ones excepted).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import jsonschema

from pykubelet.manifest.errors import FieldError, type_error, unknown_field

__all__ = [
    "SCHEMA_VERSION",
    "Structure",
    "check_structure",
    "child_schema",
    "definition",
    "pod_schema",
    "render_path",
    "resolve",
]

SCHEMA_VERSION: Final = "1.37.0"
SCHEMA_FILE: Final = "pod-v1.json"
_DEFS_PREFIX: Final = "#/$defs/"

_NOUNS: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "an object",
}
# jsonschema keywords this module reports; "required" and "enum" belong to validate.py and parse.py
_REPORTED: Final = frozenset({"type", "anyOf", "additionalProperties"})


@dataclass(frozen=True)
class Structure:
    """What the schema finds in one document: fields it does not know, and values of the wrong type."""

    unknown: tuple[FieldError, ...] = ()
    wrong_types: tuple[FieldError, ...] = ()


@functools.cache
def pod_schema() -> dict[str, Any]:
    """The shipped v1 Pod schema (read once)."""
    text = importlib.resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(pod_schema())


def check_structure(document: dict[str, Any]) -> Structure:
    """Unknown fields and type errors in a decoded Pod ``document``, each at its kubectl-style path."""
    unknown: list[FieldError] = []
    wrong: list[FieldError] = []
    for error in _validator().iter_errors(document):
        if error.validator not in _REPORTED:
            continue
        where = list(error.absolute_path)
        if error.validator == "additionalProperties":
            known = error.schema.get("properties") or {}
            parent = render_path(where)
            unknown += [
                unknown_field(f"{parent}.{key}" if parent else str(key))
                for key in error.instance
                if key not in known
            ]
        else:
            wrong.append(type_error(render_path(where), error.instance, _expected(error.schema)))
    return Structure(tuple(sorted(unknown, key=lambda e: e.path)), tuple(wrong))


# --- walking the schema alongside a document ----------------------------------------------------------


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` to the definition it names (the file's references are all local)."""
    while isinstance(node.get("$ref"), str):
        node = pod_schema()["$defs"][node["$ref"].removeprefix(_DEFS_PREFIX)]
    return node


def definition(node: dict[str, Any]) -> str | None:
    """The definition a schema node refers to, short (``Container``), or None for an inline schema."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        items = node.get("items")
        return definition(items) if isinstance(items, dict) else None
    return ref.rsplit(".", 1)[-1]


def child_schema(node: dict[str, Any], key: str | int) -> tuple[dict[str, Any] | None, bool]:
    """The schema of ``node``'s child ``key``, and whether that child is a map entry (not a field)."""
    node = resolve(node)
    if isinstance(key, int):
        items = node.get("items")
        return (items if isinstance(items, dict) else None), False
    properties = node.get("properties") or {}
    if key in properties:
        return properties[key], False
    extra = node.get("additionalProperties")
    return (extra if isinstance(extra, dict) else None), True


def render_path(segments: Sequence[str | int]) -> str:
    """``spec.containers[0].resources.limits[cpu]``: fields with dots, list indices and map keys in brackets.

    Map keys are told from fields by the schema, as ``validate.py`` writes them (``metadata.labels[app]``).
    """
    text = ""
    node: dict[str, Any] | None = pod_schema()
    for segment in segments:
        is_key = True
        if node is not None:
            node, is_key = child_schema(node, segment)
        if isinstance(segment, int) or is_key:
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


def _types(node: dict[str, Any]) -> Iterator[str]:
    node = resolve(node)
    kinds = node.get("type")
    if isinstance(kinds, str):
        yield kinds
    elif isinstance(kinds, list):
        yield from (k for k in kinds if k != "null")
    for branch in node.get("anyOf") or []:
        yield from _types(branch)


def _expected(node: dict[str, Any]) -> str:
    """``an integer or a string`` for IntOrString, in the order ``validate.py`` words it."""
    names = sorted({_NOUNS.get(kind, kind) for kind in _types(node)}, key=lambda n: n.split()[-1])
    return " or ".join(names) if names else "something else"
