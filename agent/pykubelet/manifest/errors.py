"""Errors a person can act on: the file, the field path and the reason, in kubectl's words.

kubectl prints validation failures as ``spec.containers[0].image: Required value``; users of the real
kubelet know that shape, so every problem with a manifest is reported the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_UNSET: Any = object()

# kubectl's strict field validation: ``unknown field "spec.containers[0].imagePullPolice"``
UNKNOWN_FIELD = "Unknown field"
# Warnings (the pod runs): a field only a scheduler or an API server acts on, and one pykubelet could
# honour but does not yet. See ``manifest/fields.py``.
IGNORED_FIELD = "Ignored field"
UNSUPPORTED_FIELD = "Unsupported field"


@dataclass(frozen=True)
class FieldError:
    """One problem at one field path (``k8s.io/apimachinery/pkg/util/validation/field.Error``)."""

    path: str
    kind: str
    detail: str = ""
    value: Any = field(default=_UNSET, compare=False)

    def __str__(self) -> str:
        if self.kind == UNKNOWN_FIELD:
            return f'unknown field "{self.path}"'
        text = f"{self.path}: {self.kind}" if self.path else self.kind
        if self.value is not _UNSET:
            text += f": {_render_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text


def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, "Required value", detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, "Invalid value", detail, value)


def unsupported(path: str, value: Any, supported: list[str]) -> FieldError:
    listed = ", ".join(f'"{s}"' for s in supported)
    return FieldError(path, "Unsupported value", f"supported values: {listed}", value)


def duplicate(path: str, value: Any) -> FieldError:
    return FieldError(path, "Duplicate value", "", value)


def not_found(path: str, value: Any) -> FieldError:
    return FieldError(path, "Not found", "", value)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, "Forbidden", detail)


def type_error(path: str, value: Any, expected: str) -> FieldError:
    return FieldError(path, "Invalid value", f"must be {expected}", value)


def unknown_field(path: str) -> FieldError:
    return FieldError(path, UNKNOWN_FIELD)


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return json.dumps(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


class ManifestError(Exception):
    """A manifest that cannot become a pod. ``source`` names the file (or URL) it came from.

    ``warnings`` are what would have been warnings had the pod been accepted (see ``StaticPod.warnings``).
    """

    def __init__(
        self, source: str, errors: list[FieldError] | str, *, warnings: Sequence[FieldError] = ()
    ) -> None:
        self.source = source
        self.errors: list[FieldError] = [FieldError("", errors)] if isinstance(errors, str) else list(errors)
        self.warnings: tuple[FieldError, ...] = tuple(warnings)
        super().__init__(str(self))

    @property
    def reason(self) -> str:
        """The field errors alone, ``; ``-joined, without the file name."""
        return "; ".join(str(e) for e in self.errors)

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"
