"""The walker: object types as tables of :class:`Field` (key, JSON kind, check), and the combinators.

``pkg/apis/core/validation/validation.go`` walks each object type by hand with a ``field.Path``; here
every object type is a tuple of fields walked by one function, so a table reads like the API reference.
Go decodes JSON into typed structs before validating, so a wrong type is a decode error there; a manifest
here is untrusted input, so the walker reports it at its path (``must be a list``), never a crash.
Go semantics for absence: null is absent, and so is ``""`` for a string.

:class:`Context` carries what a check may need beyond the value (init container or not, host network,
the declared volumes), as the upstream functions take extra arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from pykubelet.manifest.errors import FieldError, forbidden, required, type_error


@dataclass(frozen=True)
class Context:
    """What a check may need beyond the value itself."""

    volumes: frozenset[str] = frozenset()
    host_network: bool = False
    init_container: bool = False


Check = Callable[[Any, str, Context], Iterable[FieldError]]


@dataclass(frozen=True)
class Field:
    """One key of an object: its JSON kind (None: the check decides) and what else must hold."""

    key: str
    kind: str | None
    check: Check | None = None
    required: bool = False
    required_detail: str = ""


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_KINDS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (is_int, "an integer"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "object": (lambda v: isinstance(v, dict), "an object"),
}


def _check_fields(
    obj: dict[str, Any], path: str, fields: Iterable[Field], ctx: Context
) -> Iterator[FieldError]:
    """Go semantics: null is absent, and so is ``""`` for a string; a required field must be non-empty."""
    for field in fields:
        value = obj.get(field.key)
        field_path = child(path, field.key)
        absent = value is None or (value == "" and field.kind == "string")
        if absent or (field.required and isinstance(value, (str, list, dict)) and not value):
            if field.required:
                yield required(field_path, field.required_detail)
            continue
        if field.kind is not None:
            accepts, noun = _KINDS[field.kind]
            if not accepts(value):
                yield type_error(field_path, value, noun)
                continue
        if field.check is not None:
            yield from field.check(value, field_path, ctx)


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def nested(fields: Iterable[Field], *extras: Check) -> Check:
    """An object: its fields, then checks that span several of them."""
    fields = tuple(fields)

    def check(obj: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
        yield from _check_fields(obj, path, fields, ctx)
        for extra in extras:
            yield from extra(obj, path, ctx)

    return check


def each(kind: str, item_check: Check | None = None) -> Check:
    """A list whose items are all of ``kind``."""
    accepts, noun = _KINDS[kind]

    def check(items: list[Any], path: str, ctx: Context) -> Iterator[FieldError]:
        for i, item in enumerate(items):
            item_path = f"{path}[{i}]"
            if not accepts(item):
                yield type_error(item_path, item, noun)
            elif item_check is not None:
                yield from item_check(item, item_path, ctx)

    return check


def object_list(
    fields: Iterable[Field],
    *extras: Check,
    unique: tuple[str, Callable[[str, Any], FieldError]] | None = None,
) -> Check:
    """A list of objects, optionally with one key unique across the list."""
    each_object = each("object", nested(fields, *extras))

    def check(items: list[Any], path: str, ctx: Context) -> Iterator[FieldError]:
        yield from each_object(items, path, ctx)
        if unique is not None:
            yield from duplicates(items, path, *unique, seen=set())

    return check


def duplicates(
    items: list[Any], path: str, key: str, error: Callable[[str, Any], FieldError], *, seen: set[str]
) -> Iterator[FieldError]:
    for i, item in enumerate(items):
        value = item.get(key) if isinstance(item, dict) else None
        if isinstance(value, str) and value:
            if value in seen:
                yield error(f"{path}[{i}].{key}", value)
            seen.add(value)


def section(obj: dict[str, Any], key: str, check: Check, ctx: Context) -> Iterator[FieldError]:
    """A top-level object that may be missing (then its own required fields are reported)."""
    value = obj.get(key)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        yield type_error(key, value, "an object")
    else:
        yield from check(value, key, ctx)


# Header, DNS option and sysctl lists all share this shape.
NAME_VALUE_LIST: Final = object_list((Field("name", "string", required=True), Field("value", "string")))


def one_type(
    obj: dict[str, Any], path: str, keys: Iterable[str], noun: str
) -> tuple[str | None, list[FieldError]]:
    """The single set key among ``keys`` (a volume type, a handler type) and the errors if not exactly one."""
    present = [key for key in keys if obj.get(key) is not None]
    errors = [forbidden(child(path, key), f"may not specify more than 1 {noun} type") for key in present[1:]]
    if not present:
        errors.append(required(path, f"must specify a {noun} type"))
    return (present[0] if present else None), errors


def typed_source(
    obj: dict[str, Any], path: str, key: str, fields: Iterable[Field], ctx: Context
) -> Iterator[FieldError]:
    """The object under the chosen type key (``hostPath: {...}``), checked with that type's fields."""
    value, source_path = obj[key], child(path, key)
    if not isinstance(value, dict):
        yield type_error(source_path, value, "an object")
    else:
        yield from _check_fields(value, source_path, fields, ctx)
