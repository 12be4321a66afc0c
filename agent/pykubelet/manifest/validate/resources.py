"""A container's ``resources``: names, quantities, and request <= limit.

Mirrors ``pkg/apis/core/validation/validation.go``'s ``ValidateResourceRequirements``
(``validateContainerResourceName``, ``ValidateResourceQuantityValue``, ``IsOvercommitAllowed``). A quantity
must also convert to the int64 the runtime will use (millicores or bytes), or the pod would fail later.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

from pykubelet.manifest import quantity
from pykubelet.manifest.errors import FieldError, forbidden, invalid, type_error
from pykubelet.manifest.validate.checks import map_key, parse_amount, static_reference
from pykubelet.manifest.validate.names import qualified_name_problems
from pykubelet.manifest.validate.walker import Context, child

_STANDARD_CONTAINER_RESOURCES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})


def _resource_name_problems(name: str) -> list[str]:
    if "/" in name:
        return qualified_name_problems(name)
    if name in _STANDARD_CONTAINER_RESOURCES or name.startswith("hugepages-"):
        return []
    return ["must be a standard resource for containers"]


def _overcommit_allowed(name: str) -> bool:
    """``IsOvercommitAllowed``: hugepages and extended resources must request exactly their limit."""
    native = "/" not in name or "kubernetes.io/" in name
    return native and not name.startswith("hugepages-")


def _resource_list(
    values: dict[Any, Any], path: str
) -> tuple[dict[str, tuple[Decimal, Any]], list[FieldError]]:
    """Parsed amounts by resource name (each with the text it came from), and the errors on the way."""
    amounts: dict[str, tuple[Decimal, Any]] = {}
    errors: list[FieldError] = []
    for name, value in values.items():
        errors += map_key(name, path, _resource_name_problems)
        amount, amount_errors = parse_amount(value, f"{path}[{name}]", milli=name == "cpu")
        errors += amount_errors
        if amount is not None and not amount_errors:
            amounts[str(name)] = (amount, value)
    return amounts, errors


def resource_requirements(resources: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    """``ValidateContainerResourceRequirements``: valid names and quantities, and request <= limit."""
    parsed: dict[str, dict[str, tuple[Decimal, Any]]] = {}
    for key in ("limits", "requests"):
        values = resources.get(key)
        if values is None:
            continue
        if not isinstance(values, dict):
            yield type_error(child(path, key), values, "an object")
            continue
        parsed[key], errors = _resource_list(values, child(path, key))
        yield from errors
    limits = parsed.get("limits", {})
    for name, (request, request_text) in parsed.get("requests", {}).items():
        if name not in limits:
            continue
        limit, limit_text = limits[name]
        if not _overcommit_allowed(name) and request != limit:
            relation = "equal to"
        elif request > limit:
            relation = "less than or equal to"
        else:
            continue
        detail = f"must be {relation} {name} limit of {quantity.format_quantity(limit_text)}"
        yield invalid(child(path, "requests"), quantity.format_quantity(request_text), detail)
    if resources.get("claims"):
        yield forbidden(child(path, "claims"), static_reference("ResourceClaim"))
