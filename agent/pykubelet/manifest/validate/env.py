"""A container's ``env`` and ``envFrom``.

Mirrors ``pkg/apis/core/validation/validation.go``: ``ValidateEnv``, ``validateEnvVarValueFrom`` (exactly
one source), ``validateObjectFieldSelector`` (the downward API's field paths),
``validateContainerResourceFieldSelector`` and ``validateContainerResourceDivisor``, ``ValidateEnvFrom``.
ConfigMap and Secret references are Forbidden: a static pod has no API server to read them from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from pykubelet.manifest import quantity
from pykubelet.manifest.errors import FieldError, invalid, unsupported
from pykubelet.manifest.validate.checks import api_reference, enum, messages, quantity_amount
from pykubelet.manifest.validate.names import env_var_name_problems, qualified_name_problems
from pykubelet.manifest.validate.walker import Check, Context, Field, child, nested, object_list

_ENV_FIELD_PATHS: Final = (
    "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
    "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
    "status.podIPs",
)  # fmt: skip
_SUBSCRIPTED_FIELD_PATH: Final = re.compile(r"(metadata\.(?:labels|annotations))\['(.*)'\]", re.DOTALL)
_RESOURCE_FIELD_PATHS: Final = tuple(
    f"{kind}.{resource}"
    for kind in ("limits", "requests")
    for resource in ("cpu", "memory", "ephemeral-storage")
)
_INLINE_VALUE: Final = "set the variable with `value`"


def _env_field_path(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    """``fieldRef.fieldPath``: a pod field, or one label/annotation by key (``metadata.labels['app']``)."""
    match = _SUBSCRIPTED_FIELD_PATH.fullmatch(value)
    if match is not None:
        base, key = match.groups()
        key_problems = qualified_name_problems(key.lower() if base == "metadata.annotations" else key)
        yield from (invalid(path, key, msg) for msg in key_problems)
    elif value not in _ENV_FIELD_PATHS:
        yield unsupported(path, value, list(_ENV_FIELD_PATHS))


_MEMORY_DIVISORS: Final = ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")
_DIVISORS: Final = {
    "cpu": (("1m", "1"), "cpu"),
    "memory": (_MEMORY_DIVISORS, "memory"),
    "ephemeral-storage": (_MEMORY_DIVISORS, "local ephemeral storage"),
}


def _supported_divisor(ref: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    """``validateContainerResourceDivisor``: the value is printed in whole units of a round divisor."""
    resource, divisor = ref.get("resource"), ref.get("divisor")
    allowed = _DIVISORS.get(resource.partition(".")[2]) if isinstance(resource, str) else None
    if allowed is None or divisor is None:
        return
    try:
        text = quantity.format_quantity(divisor)
    except ValueError:
        return  # reported by the divisor's own check
    values, noun = allowed
    if text != "0" and text not in values:
        detail = f"only divisor's values {', '.join(values)} are supported with the {noun} resource"
        yield invalid(child(path, "divisor"), resource, detail)


def _exactly_one(keys: tuple[str, ...], missing: str) -> Check:
    """Exactly one of ``keys`` set: ``EnvVarSource`` and ``EnvFromSource`` report it on the object itself."""

    def check(obj: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
        count = sum(obj.get(key) is not None for key in keys)
        if count == 0:
            yield invalid(path, "", missing)
        elif count > 1:
            yield invalid(path, "", "may not have more than one field specified at a time")

    return check


_ENV_VAR_SOURCE: Final = nested(
    (
        Field("fieldRef", "object", nested((
            Field("apiVersion", "string", enum("v1")),
            Field("fieldPath", "string", _env_field_path, required=True),
        ))),
        Field("resourceFieldRef", "object", nested((
            Field("containerName", "string"),
            Field("resource", "string", enum(*_RESOURCE_FIELD_PATHS), required=True),
            Field("divisor", None, quantity_amount),
        ), _supported_divisor)),
        Field("configMapKeyRef", "object", api_reference("ConfigMap", _INLINE_VALUE)),
        Field("secretKeyRef", "object", api_reference("Secret", _INLINE_VALUE)),
    ),
    _exactly_one(
        ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"),
        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
    ),
)  # fmt: skip


def _value_or_value_from(env: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    if env.get("valueFrom") is not None and env.get("value") not in (None, ""):
        yield invalid(child(path, "valueFrom"), "", "may not be specified when `value` is not empty")


ENV: Final = object_list(
    (
        Field("name", "string", messages(env_var_name_problems), required=True),
        Field("value", "string"),
        Field("valueFrom", "object", _ENV_VAR_SOURCE),
    ),
    _value_or_value_from,
)
ENV_FROM: Final = object_list(
    (
        Field("prefix", "string", messages(env_var_name_problems)),
        Field("configMapRef", "object", api_reference("ConfigMap", "list the variables under `env`")),
        Field("secretRef", "object", api_reference("Secret", "list the variables under `env`")),
    ),
    _exactly_one(("configMapRef", "secretRef"), "must specify one of: `configMapRef` or `secretRef`"),
)
