"""What pykubelet does with each field of the v1 Pod: honoured, ignored, not supported yet, or refused.

Every field of the shipped v1 Pod schema (``manifest/schema``) parses. What happens next is decided here,
per field of each object type of the schema (``Container.volumeDevices``, ``PodSpec.affinity``, ...):

- **honoured**: pykubelet acts on it as the kubelet does;
- **accepted and ignored**: only a scheduler or an API server acts on it (``affinity``, ``tolerations``,
  ``priorityClassName``, ...), or it changes nothing on a lone node. The pod runs; the fields are named in
  one warning;
- **not supported yet**: pykubelet could honour it but does not yet. The pod runs without it and a
  warning says so: it is never dropped silently;
- **refused**: running the pod without the field would be wrong, usually less isolated than it asks to
  be (a seccomp profile from the node, user namespaces), or the field
  names an API object a static pod may not reference. The pod does not run, and the error says why.

Some fields are judged by their value: ``seccompProfile.type: RuntimeDefault`` is what Docker does
anyway, ``Unconfined`` is not. A field set to nothing (null, ``""``, ``[]``, ``{}``) asks for nothing and
is never reported. Refusals that ``validate.py`` already makes (API object references, volume types,
sidecars) are listed here for the documentation's table and left to it, so nothing is reported twice.

The rules themselves, one per field, are data: ``fieldrules.py``. docs/pod-fields.md's table is generated
from :data:`RULES` and :func:`locations` by
``scripts/gen-docs.py`` (the docs tooling, outside the agent); tests/unit/test_docs_generated.py fails when
the page is stale, and tests/unit/test_manifest_fields.py when a field of the schema has no rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pykubelet.manifest.errors import IGNORED_FIELD, UNSUPPORTED_FIELD, FieldError
from pykubelet.manifest.fieldrules import RULES, Rule, Support, Where
from pykubelet.manifest.schema import (
    child_schema,
    definition,
    pod_schema,
    render_path,
    resolve,
)

__all__ = ["RULES", "Classified", "Rule", "Support", "classify", "locations"]


# --- classifying a document -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classified:
    """Warnings (the pod runs) and refusals (it does not) for one document."""

    warnings: tuple[FieldError, ...] = ()
    errors: tuple[FieldError, ...] = ()


def classify(document: dict[str, Any], node_name: str = "") -> Classified:
    """Every field of the raw ``document`` that is not simply honoured, as a warning or an error."""
    found: list[tuple[Rule, list[str | int], Any]] = []
    _walk(document, pod_schema(), "Pod", [], document, None, node_name, found)
    warnings: list[FieldError] = []
    errors: list[FieldError] = []
    for rule, segments, value in found:
        path = render_path(segments)
        if rule.support is Support.IGNORED:
            warnings.append(FieldError(path, IGNORED_FIELD, rule.note))
        elif rule.support is Support.UNSUPPORTED:
            warnings.append(FieldError(path, UNSUPPORTED_FIELD, rule.note, value))
        elif rule.kind == "Forbidden":
            errors.append(FieldError(path, rule.kind, rule.note))
        else:
            errors.append(FieldError(path, rule.kind, rule.note, value))
    return Classified(tuple(warnings), tuple(errors))


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def _walk(
    obj: dict[str, Any],
    node: dict[str, Any],
    name: str,
    segments: list[str | int],
    pod: dict[str, Any],
    container: dict[str, Any] | None,
    node_name: str,
    found: list[tuple[Rule, list[str | int], Any]],
) -> None:
    rules = RULES.get(name, {})
    if name == "Container":
        container = obj
    where = Where(pod, obj, container, node_name)
    for key, value in obj.items():
        rule = rules.get(key)
        if rule is None or _absent(value):
            continue  # an unknown field: the schema reports it
        path = [*segments, key]
        fine = rule.support is Support.HONOURED or (rule.fine_if is not None and rule.fine_if(value, where))
        if not fine:
            if not rule.by_validation:
                found.append((rule, path, value))
            continue
        if not rule.fields_too:
            continue
        child, _ = child_schema(node, key)
        child_name = definition(child) if child is not None else None
        if child is None or child_name is None:
            continue
        if isinstance(value, dict):
            _walk(value, child, child_name, path, pod, container, node_name, found)
        elif isinstance(value, list):
            items, _ = child_schema(child, 0)
            for i, item in enumerate(value):
                if isinstance(item, dict) and items is not None:
                    _walk(item, items, child_name, [*path, i], pod, container, node_name, found)


# --- the object types the rules reach ----------------------------------------------------------------------


def locations() -> dict[str, list[str]]:
    """Each classified object type and the paths it appears at (``[*]`` for any list index), in walk order.

    Only fields whose rule says ``fields_too`` are followed, so this is also the set of object types
    whose every field needs a rule.
    """
    found: dict[str, list[str]] = {"Pod": [""]}
    queue: list[tuple[str, dict[str, Any], str]] = [("Pod", pod_schema(), "")]
    while queue:
        name, node, path = queue.pop(0)
        for key, rule in RULES.get(name, {}).items():
            if not (rule.support is Support.HONOURED and rule.fields_too):
                continue
            child, _ = child_schema(node, key)
            if child is None:
                continue
            child_name = definition(child)
            if child_name is None:
                continue
            child_path = f"{path}.{key}" if path else key
            if "items" in resolve(child):
                child_path += "[*]"
                child, _ = child_schema(child, 0)
                assert child is not None
            paths = found.setdefault(child_name, [])
            if child_path not in paths:
                paths.append(child_path)
                queue.append((child_name, child, child_path))
    return found
