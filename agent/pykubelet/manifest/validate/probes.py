"""Probes and lifecycle hooks: exactly one handler type, each checked structurally.

Mirrors ``pkg/apis/core/validation/validation.go``: ``validateProbe``, ``validateHandler`` /
``validateLifecycleHandler``, ``validateHTTPGetAction``, ``validateTCPSocketAction``, ``validateGRPCAction``,
``validateSleepAction``. Liveness and startup probes end at the first success, so their
``successThreshold`` must be 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pykubelet.manifest.errors import FieldError, invalid
from pykubelet.manifest.validate.checks import enum, non_negative, port_number, port_or_name
from pykubelet.manifest.validate.walker import (
    NAME_VALUE_LIST,
    Check,
    Context,
    Field,
    child,
    each,
    is_int,
    nested,
    one_type,
    typed_source,
)

_HANDLER_FIELDS: Final[dict[str, tuple[Field, ...]]] = {
    "exec": (Field("command", "list", each("string"), required=True),),
    "httpGet": (
        Field("port", None, port_or_name, required=True),
        Field("path", "string"),
        Field("host", "string"),
        Field("scheme", "string", enum("HTTP", "HTTPS")),
        Field("httpHeaders", "list", NAME_VALUE_LIST),
    ),
    "tcpSocket": (Field("port", None, port_or_name, required=True), Field("host", "string")),
    "grpc": (
        Field("port", "integer", port_number(zero_means_unset=False), required=True),
        Field("service", "string"),
    ),
    "sleep": (Field("seconds", "integer", non_negative, required=True),),
}


def _handler(*kinds: str) -> Check:
    """A probe or lifecycle hook: exactly one handler type, each checked structurally."""

    def check(handler: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
        chosen, errors = one_type(handler, path, kinds, "handler")
        yield from errors
        if chosen is not None:
            yield from typed_source(handler, path, chosen, _HANDLER_FIELDS[chosen], ctx)

    return check


_PROBE_FIELDS: Final = tuple(
    Field(key, "integer", non_negative)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    )
)


def probe(*, success_once: bool) -> Check:
    """Liveness and startup probes end at the first success, so their ``successThreshold`` must be 1."""

    def single_success(obj: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
        threshold = obj.get("successThreshold")
        if success_once and is_int(threshold) and threshold != 1:
            yield invalid(child(path, "successThreshold"), threshold, "must be 1")

    return nested(_PROBE_FIELDS, _handler("exec", "httpGet", "tcpSocket", "grpc"), single_success)


LIFECYCLE_HOOK: Final = _handler("exec", "httpGet", "tcpSocket", "sleep")
