"""Containers and init containers: one table for both, and the rules across the lists.

Mirrors ``pkg/apis/core/validation/validation.go``: ``validateContainers`` / ``validateInitContainers``
(``validateContainerCommon``), ``validateContainerPorts``, ``ValidateVolumeMounts``,
``ValidateSecurityContext``, ``AccumulateUniqueHostPorts``. What differs between the two lists (init or
not) travels in the :class:`~pykubelet.manifest.validate.walker.Context`. ``env``, ``resources`` and
probes have their own modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Final

from pykubelet.manifest.errors import (
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_found,
    required,
    type_error,
    unsupported,
)
from pykubelet.manifest.validate.checks import (
    absolute_path,
    between,
    bind_safe,
    enum,
    image,
    ip_address,
    messages,
    port_number,
    relative_path,
)
from pykubelet.manifest.validate.env import ENV, ENV_FROM
from pykubelet.manifest.validate.names import DNS1123_LABEL, port_name_problems
from pykubelet.manifest.validate.probes import LIFECYCLE_HOOK, probe
from pykubelet.manifest.validate.resources import resource_requirements
from pykubelet.manifest.validate.walker import (
    Context,
    Field,
    child,
    duplicates,
    each,
    is_int,
    nested,
    object_list,
)


def _host_network_port(port: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    host_port, container_port = port.get("hostPort"), port.get("containerPort")
    if ctx.host_network and is_int(host_port) and is_int(container_port) and host_port != container_port:
        yield invalid(
            child(path, "hostPort"), host_port, "must match `containerPort` when `hostNetwork` is true"
        )


_PORTS: Final = object_list(
    (
        Field("containerPort", "integer", port_number(zero_means_unset=False), required=True),
        Field("hostPort", "integer", port_number(zero_means_unset=True)),
        Field("protocol", "string", enum("SCTP", "TCP", "UDP")),
        Field("name", "string", messages(port_name_problems)),
        Field("hostIP", "string", ip_address),
    ),
    _host_network_port,
    unique=("name", duplicate),
)


def _declared_volume(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    if value not in ctx.volumes:
        yield not_found(path, value)


_VOLUME_MOUNTS: Final = object_list(
    (
        Field("name", "string", _declared_volume, required=True),
        Field("mountPath", "string", absolute_path, required=True),
        Field("subPath", "string", relative_path),
        Field("subPathExpr", "string"),
        Field("readOnly", "boolean"),
        Field("mountPropagation", "string", enum("Bidirectional", "HostToContainer", "None")),
    ),
    unique=("mountPath", lambda path, value: invalid(path, value, "must be unique")),
)


USER_ID: Final = between(0, 2147483647)
RUN_AS: Final = (
    Field("runAsUser", "integer", USER_ID),
    Field("runAsGroup", "integer", USER_ID),
    Field("runAsNonRoot", "boolean"),
)


def _privilege_escalation(context: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    if context.get("privileged") is True and context.get("allowPrivilegeEscalation") is False:
        yield invalid(
            path, context, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        )


_CONTAINER_SECURITY: Final = nested(
    (
        *RUN_AS,
        Field("privileged", "boolean"),
        Field("readOnlyRootFilesystem", "boolean"),
        Field("allowPrivilegeEscalation", "boolean"),
        Field("capabilities", "object", nested((
            Field("add", "list", each("string")),
            Field("drop", "list", each("string")),
        ))),
        Field("procMount", "string", enum("Default", "Unmasked")),
    ),
    _privilege_escalation,
)  # fmt: skip


_INIT_ONLY_FIELDS: Final = ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe")
_INIT_ONLY: Final = "may not be set for init containers without restartPolicy=Always"


def _container_restart_policy(value: str, path: str, ctx: Context) -> Iterator[FieldError]:
    """Only init containers may say ``restartPolicy: Always`` (a sidecar); nothing else is defined."""
    if not ctx.init_container:
        yield forbidden(path, "may not be set for non-init containers")
    elif value != "Always":
        yield unsupported(path, value, ["Always"])
    else:
        # Valid upstream (a sidecar), but pykubelet runs init containers strictly one after another.
        yield FieldError(
            path,
            "Unsupported value",
            "pykubelet does not run sidecar (restartPolicy: Always) "
            "init containers yet; make it a regular container",
            value,
        )


def _init_container_rules(container: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    """A plain init container runs to completion: hooks and probes have nothing to act on."""
    if not ctx.init_container or container.get("restartPolicy") == "Always":
        return
    for key in _INIT_ONLY_FIELDS:
        if container.get(key) is not None:
            yield forbidden(child(path, key), _INIT_ONLY)


_CONTAINER: Final = nested(
    (
        Field("name", "string", messages(DNS1123_LABEL.problems), required=True),
        Field("image", "string", image, required=True),
        Field("imagePullPolicy", "string", enum("Always", "IfNotPresent", "Never")),
        Field("command", "list", each("string")),
        Field("args", "list", each("string")),
        Field("workingDir", "string"),
        Field("ports", "list", _PORTS),
        Field("env", "list", ENV),
        Field("envFrom", "list", ENV_FROM),
        Field("volumeMounts", "list", _VOLUME_MOUNTS),
        Field("resources", "object", resource_requirements),
        Field("securityContext", "object", _CONTAINER_SECURITY),
        Field("livenessProbe", "object", probe(success_once=True)),
        Field("readinessProbe", "object", probe(success_once=False)),
        Field("startupProbe", "object", probe(success_once=True)),
        Field("lifecycle", "object", nested((
            Field("postStart", "object", LIFECYCLE_HOOK),
            Field("preStop", "object", LIFECYCLE_HOOK),
        ))),
        Field("restartPolicy", "string", _container_restart_policy),
        Field("terminationMessagePath", "string", bind_safe),
        Field("terminationMessagePolicy", "string", enum("File", "FallbackToLogsOnError")),
        Field("stdin", "boolean"),
        Field("stdinOnce", "boolean"),
        Field("tty", "boolean"),
    ),
    _init_container_rules,
)  # fmt: skip

_CONTAINER_LISTS: Final = (("containers", False), ("initContainers", True))


def container_lists(spec: dict[str, Any], ctx: Context) -> Iterator[FieldError]:
    """Both container lists: names unique across the two, host ports unique among app containers.

    Init containers run one at a time before the app containers, so only app containers can collide on
    a host port (``checkHostPortConflicts`` upstream looks at ``spec.containers`` alone too).
    """
    names: set[str] = set()
    host_ports: set[str] = set()
    for key, init in _CONTAINER_LISTS:
        path = f"spec.{key}"
        items = spec.get(key)
        if items is None or items == []:
            if not init:
                yield required(path)
            continue
        if not isinstance(items, list):
            yield type_error(path, items, "a list")
            continue
        yield from each("object", _CONTAINER)(items, path, replace(ctx, init_container=init))
        yield from duplicates(items, path, "name", duplicate, seen=names)
        if not init:
            yield from _host_port_conflicts(items, path, host_ports)


def _host_port_conflicts(containers: list[Any], path: str, seen: set[str]) -> Iterator[FieldError]:
    """``AccumulateUniqueHostPorts``: one ``protocol/hostIP/hostPort`` per pod."""
    for i, container in enumerate(containers):
        ports = container.get("ports") if isinstance(container, dict) else None
        for j, port in enumerate(ports if isinstance(ports, list) else []):
            host_port = port.get("hostPort") if isinstance(port, dict) else None
            if not is_int(host_port) or host_port == 0:
                continue
            key = f"{port.get('protocol') or 'TCP'}/{port.get('hostIP') or ''}/{host_port}"
            if key in seen:
                yield duplicate(f"{path}[{i}].ports[{j}].hostPort", key)
            seen.add(key)
