"""Scalar checks: one value at one path, and pykubelet's own refusals.

The value rules of ``pkg/apis/core/validation/validation.go`` that are not names: ranges
(``ValidatePortNumOrName``, ``ValidateNonnegativeField``), IP addresses, paths (absolute,
``validatePathNoBacksteps``), quantities (``ValidateResourceQuantityValue``). Two rule families are
pykubelet's own: a path must survive Docker's bind syntax (``host:container:options``), and a field that
only names an API object is Forbidden, as in kubelets with ``PreventStaticPodAPIReferences``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, Final

from pykubelet.manifest import quantity
from pykubelet.manifest.errors import FieldError, forbidden, invalid, required, type_error, unsupported
from pykubelet.manifest.validate.names import port_name_problems
from pykubelet.manifest.validate.walker import Check, Context, is_int
from pykubelet.safepath import UID_FORMAT, is_valid_uid


def enum(*values: str) -> Check:
    def check(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
        if value not in values:
            yield unsupported(path, value, list(values))

    return check


def messages(problems: Callable[[str], list[str]]) -> Check:
    """One Invalid error per problem, as the API reports a badly formed name."""

    def check(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
        yield from (invalid(path, value, msg) for msg in problems(value))

    return check


def between(low: int, high: int) -> Check:
    def check(value: int, path: str, ctx: Context) -> Iterator[FieldError]:
        if not low <= value <= high:
            yield invalid(path, value, f"must be between {low} and {high}, inclusive")

    return check


def non_negative(value: int, path: str, ctx: Context) -> Iterator[FieldError]:
    if value < 0:
        yield invalid(path, value, "must be greater than or equal to 0")


def port_number(*, zero_means_unset: bool) -> Check:
    """``containerPort: 0`` is a missing port; ``hostPort: 0`` means "no host port"."""
    in_range = between(1, 65535)

    def check(value: int, path: str, ctx: Context) -> Iterator[FieldError]:
        if value == 0:
            if not zero_means_unset:
                yield required(path)
            return
        yield from in_range(value, path, ctx)

    return check


def port_or_name(value: Any, path: str, ctx: Context) -> Iterator[FieldError]:
    """A probe's ``port``: a number, or the name of one of the container's ports."""
    if is_int(value):
        yield from between(1, 65535)(value, path, ctx)
    elif isinstance(value, str):
        yield from messages(port_name_problems)(value, path, ctx)
    else:
        yield type_error(path, value, "an integer or a string")


def ip_address(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        yield invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")


def uid(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    """The uid names the pod's directories, which are deleted with the pod: it must be a uid, not a path."""
    if not is_valid_uid(value):
        yield invalid(path, value, UID_FORMAT)


def absolute_path(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    if not value.startswith("/"):
        yield invalid(path, value, "must be an absolute path")
    yield from bind_safe(value, path, ctx)


def bind_safe(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    """Docker's bind syntax is ``host:container:options`` with options split on ','; a path holding
    either character would be read as another field of the bind, so it is refused, not passed on."""
    for char in (":", ","):
        if char in value:
            yield invalid(path, value, f"must not contain {char!r} (a Docker bind cannot express it)")
    if "\0" in value:
        yield invalid(path, value, "must not contain a NUL character")


def _no_backsteps(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    if ".." in value.split("/"):
        yield invalid(path, value, "must not contain '..'")


def relative_path(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    if value.startswith("/"):
        yield invalid(path, value, "must be a relative path")
    yield from _no_backsteps(value, path, ctx)
    yield from bind_safe(value, path, ctx)


def host_path(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    yield from absolute_path(value, path, ctx)
    yield from _no_backsteps(value, path, ctx)


def image(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    if value != value.strip():
        yield invalid(path, value, "must not have leading or trailing whitespace")


def quantity_amount(value: Any, path: str, ctx: Context) -> Iterator[FieldError]:
    yield from parse_amount(value, path)[1]


def parse_amount(value: Any, path: str, *, milli: bool = False) -> tuple[Decimal | None, list[FieldError]]:
    """A non-negative quantity that also converts to the int64 the runtime will use (millicores or units)."""
    try:
        amount = quantity.parse_quantity(value)
        (quantity.cpu_millis if milli else quantity.memory_bytes)(value)
    except ValueError as err:
        return None, [invalid(path, value, str(err))]
    if amount < 0:
        return amount, [invalid(path, quantity.format_quantity(value), "must be greater than or equal to 0")]
    return amount, []


_NO_API_SERVER: Final = "pykubelet runs static pods without an API server"
DOCKER_LOGIN: Final = "log the node's Docker engine in to the registry instead"


def static_reference(kind: str, hint: str = "") -> str:
    text = f"a static pod may not reference API objects ({kind}); {_NO_API_SERVER}"
    return f"{text}: {hint}" if hint else text


def api_reference(kind: str, hint: str = "") -> Check:
    """Forbid a field whose only job is to name an API object; an empty list names none."""
    detail = static_reference(kind, hint)

    def check(value: Any, path: str, ctx: Context) -> Iterator[FieldError]:
        if value != []:
            yield forbidden(path, detail)

    return check


def map_key(key: Any, path: str, problems: Callable[[str], list[str]]) -> Iterator[FieldError]:
    if not isinstance(key, str):
        yield type_error(path, key, "a string key")
    else:
        yield from (invalid(path, key, msg) for msg in problems(key))
