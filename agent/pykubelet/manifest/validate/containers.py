"""Validation of a defaulted Pod, in the API server's words (``pkg/apis/core/validation/validation.go``).

People who run kubelets know ``spec.containers[0].image: Required value``, so errors use the same paths,
kinds and sentences. All errors are collected, so one edit can fix a file. A manifest is untrusted input:
a string where a list belongs is reported at its path (``must be a list``), never a crash.

The checks are tables: every object type is a tuple of :class:`_Field` (key, JSON kind, check), walked by
one function. Containers and init containers share one table; the :class:`_Context` carries what differs
(init or not, host network, the declared volumes).

Two rules are pykubelet's own, because it runs static pods without an API server: anything that names an
API object (ConfigMap, Secret, PersistentVolumeClaim, ...) is Forbidden, as in kubelets
with ``PreventStaticPodAPIReferences``; and volume types other than emptyDir and hostPath are Unsupported.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

from pykubelet.manifest import quantity
from pykubelet.manifest.defaults import VOLUME_SOURCES
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
from pykubelet.safepath import UID_FORMAT, is_valid_uid

__all__ = ["validate_identity", "validate_pod"]


def validate_pod(pod: dict[str, Any]) -> list[FieldError]:
    """Every problem with the API-defaulted ``pod`` (before it gets its static identity)."""
    if not isinstance(pod, dict):
        return [type_error("", pod, "an object")]
    errors = list(_section(pod, "metadata", _METADATA, _Context()))
    spec = pod.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [*errors, type_error("spec", spec, "an object")]
    spec = spec or {}
    ctx = _Context(volumes=_volume_names(spec), host_network=spec.get("hostNetwork") is True)
    errors += _SPEC(spec, "spec", ctx)
    errors += _containers(spec, ctx)
    return errors


def validate_identity(pod: dict[str, Any]) -> list[FieldError]:
    """Problems with the static identity: ``name-node`` must still be a DNS-1123 subdomain (<= 253)."""
    metadata = pod.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str):
        return [type_error("metadata.name", name, "a string")]
    return [invalid("metadata.name", name, msg) for msg in _DNS1123_SUBDOMAIN.problems(name)]


# --- the walker -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What a check may need beyond the value itself."""

    volumes: frozenset[str] = frozenset()
    host_network: bool = False
    init_container: bool = False


Check = Callable[[Any, str, _Context], Iterable[FieldError]]


@dataclass(frozen=True)
class _Field:
    """One key of an object: its JSON kind (None: the check decides) and what else must hold."""

    key: str
    kind: str | None
    check: Check | None = None
    required: bool = False
    required_detail: str = ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_KINDS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (_is_int, "an integer"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "object": (lambda v: isinstance(v, dict), "an object"),
}


def _check_fields(
    obj: dict[str, Any], path: str, fields: Iterable[_Field], ctx: _Context
) -> Iterator[FieldError]:
    """Go semantics: null is absent, and so is ``""`` for a string; a required field must be non-empty."""
    for field in fields:
        value = obj.get(field.key)
        field_path = _child(path, field.key)
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


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _nested(fields: Iterable[_Field], *extras: Check) -> Check:
    """An object: its fields, then checks that span several of them."""
    fields = tuple(fields)

    def check(obj: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
        yield from _check_fields(obj, path, fields, ctx)
        for extra in extras:
            yield from extra(obj, path, ctx)

    return check


def _each(kind: str, item_check: Check | None = None) -> Check:
    """A list whose items are all of ``kind``."""
    accepts, noun = _KINDS[kind]

    def check(items: list[Any], path: str, ctx: _Context) -> Iterator[FieldError]:
        for i, item in enumerate(items):
            item_path = f"{path}[{i}]"
            if not accepts(item):
                yield type_error(item_path, item, noun)
            elif item_check is not None:
                yield from item_check(item, item_path, ctx)

    return check


def _items(
    fields: Iterable[_Field],
    *extras: Check,
    unique: tuple[str, Callable[[str, Any], FieldError]] | None = None,
) -> Check:
    """A list of objects, optionally with one key unique across the list."""
    each = _each("object", _nested(fields, *extras))

    def check(items: list[Any], path: str, ctx: _Context) -> Iterator[FieldError]:
        yield from each(items, path, ctx)
        if unique is not None:
            yield from _duplicates(items, path, *unique, seen=set())

    return check


def _duplicates(
    items: list[Any], path: str, key: str, error: Callable[[str, Any], FieldError], *, seen: set[str]
) -> Iterator[FieldError]:
    for i, item in enumerate(items):
        value = item.get(key) if isinstance(item, dict) else None
        if isinstance(value, str) and value:
            if value in seen:
                yield error(f"{path}[{i}].{key}", value)
            seen.add(value)


def _section(obj: dict[str, Any], key: str, check: Check, ctx: _Context) -> Iterator[FieldError]:
    """A top-level object that may be missing (then its own required fields are reported)."""
    value = obj.get(key)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        yield type_error(key, value, "an object")
    else:
        yield from check(value, key, ctx)


# Header, DNS option and sysctl lists all share this shape.
_NAME_VALUE_LIST: Final = _items((_Field("name", "string", required=True), _Field("value", "string")))

# --- scalar checks ----------------------------------------------------------------------------------------


def _enum(*values: str) -> Check:
    def check(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
        if value not in values:
            yield unsupported(path, value, list(values))

    return check


def _messages(problems: Callable[[str], list[str]]) -> Check:
    """One Invalid error per problem, as the API reports a badly formed name."""

    def check(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
        yield from (invalid(path, value, msg) for msg in problems(value))

    return check


def _between(low: int, high: int) -> Check:
    def check(value: int, path: str, ctx: _Context) -> Iterator[FieldError]:
        if not low <= value <= high:
            yield invalid(path, value, f"must be between {low} and {high}, inclusive")

    return check


def _non_negative(value: int, path: str, ctx: _Context) -> Iterator[FieldError]:
    if value < 0:
        yield invalid(path, value, "must be greater than or equal to 0")


def _port_number(*, zero_means_unset: bool) -> Check:
    """``containerPort: 0`` is a missing port; ``hostPort: 0`` means "no host port"."""
    in_range = _between(1, 65535)

    def check(value: int, path: str, ctx: _Context) -> Iterator[FieldError]:
        if value == 0:
            if not zero_means_unset:
                yield required(path)
            return
        yield from in_range(value, path, ctx)

    return check


def _port_or_name(value: Any, path: str, ctx: _Context) -> Iterator[FieldError]:
    """A probe's ``port``: a number, or the name of one of the container's ports."""
    if _is_int(value):
        yield from _between(1, 65535)(value, path, ctx)
    elif isinstance(value, str):
        yield from _messages(_port_name_problems)(value, path, ctx)
    else:
        yield type_error(path, value, "an integer or a string")


def _ip_address(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        yield invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")


def _uid(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    """The uid names the pod's directories, which are deleted with the pod: it must be a uid, not a path."""
    if not is_valid_uid(value):
        yield invalid(path, value, UID_FORMAT)


def _absolute_path(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    if not value.startswith("/"):
        yield invalid(path, value, "must be an absolute path")
    yield from _bind_safe(value, path, ctx)


def _bind_safe(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    """Docker's bind syntax is ``host:container:options`` with options split on ','; a path holding
    either character would be read as another field of the bind, so it is refused, not passed on."""
    for char in (":", ","):
        if char in value:
            yield invalid(path, value, f"must not contain {char!r} (a Docker bind cannot express it)")
    if "\0" in value:
        yield invalid(path, value, "must not contain a NUL character")


def _no_backsteps(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    if ".." in value.split("/"):
        yield invalid(path, value, "must not contain '..'")


def _relative_path(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    if value.startswith("/"):
        yield invalid(path, value, "must be a relative path")
    yield from _no_backsteps(value, path, ctx)
    yield from _bind_safe(value, path, ctx)


def _host_path(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    yield from _absolute_path(value, path, ctx)
    yield from _no_backsteps(value, path, ctx)


def _image(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    if value != value.strip():
        yield invalid(path, value, "must not have leading or trailing whitespace")


def _quantity(value: Any, path: str, ctx: _Context) -> Iterator[FieldError]:
    yield from _parse_amount(value, path)[1]


def _parse_amount(value: Any, path: str, *, milli: bool = False) -> tuple[Decimal | None, list[FieldError]]:
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
_DOCKER_LOGIN: Final = "log the node's Docker engine in to the registry instead"


def _static_reference(kind: str, hint: str = "") -> str:
    text = f"a static pod may not reference API objects ({kind}); {_NO_API_SERVER}"
    return f"{text}: {hint}" if hint else text


def _api_reference(kind: str, hint: str = "") -> Check:
    """Forbid a field whose only job is to name an API object; an empty list names none."""
    detail = _static_reference(kind, hint)

    def check(value: Any, path: str, ctx: _Context) -> Iterator[FieldError]:
        if value != []:
            yield forbidden(path, detail)

    return check


# --- names (k8s.io/apimachinery/pkg/util/validation) ------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    """A regular-expression name format and its error text (``RegexError``, examples included)."""

    fmt: str
    message: str
    examples: tuple[str, ...]
    max_length: int | None = None

    @property
    def error(self) -> str:
        examples = " or ".join(f"'{example}', " for example in self.examples)
        return f"{self.message} (e.g. {examples}regex used for validation is '{self.fmt}')"

    def problems(self, value: str) -> list[str]:
        found = []
        if self.max_length is not None and len(value) > self.max_length:
            found.append(f"must be no more than {self.max_length} characters")
        if re.fullmatch(self.fmt, value, re.ASCII) is None:
            found.append(self.error)
        return found


_DNS1123_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL: Final = _Format(
    _DNS1123_LABEL_FMT,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character",
    ("my-name", "123-abc"),
    63,
)
_DNS1123_SUBDOMAIN: Final = _Format(
    _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*",
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character",
    ("example.com",),
    253,
)
_QUALIFIED_NAME_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME: Final = _Format(
    _QUALIFIED_NAME_FMT,
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character",
    ("MyName", "my.name", "123-abc"),
    63,
)
_LABEL_VALUE: Final = _Format(
    f"({_QUALIFIED_NAME_FMT})?",
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character",
    ("MyValue", "my_value", "12345"),
    63,
)
_ENV_VAR_NAME: Final = _Format(
    "[-._a-zA-Z][-._a-zA-Z0-9]*",
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
    "and must not start with a digit",
    ("my.env-name", "MY_ENV.NAME", "MyEnvName1"),
)


def _qualified_name_problems(value: str) -> list[str]:
    """``IsQualifiedName``: ``[prefix/]name``, the prefix a DNS subdomain, the name at most 63 characters."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            f"a qualified name {_QUALIFIED_NAME.error} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    problems = []
    if len(parts) == 2:
        prefix = parts[0]
        prefix_problems = _DNS1123_SUBDOMAIN.problems(prefix) if prefix else ["must be non-empty"]
        problems += [f"prefix part {msg}" for msg in prefix_problems]
    name = parts[-1]
    if not name:
        problems.append("name part must be non-empty")
    problems += [f"name part {msg}" for msg in _QUALIFIED_NAME.problems(name)]
    return problems


def _env_var_name_problems(value: str) -> list[str]:
    problems = _ENV_VAR_NAME.problems(value)
    if value in (".", ".."):
        problems.append(f"must not be '{value}'")
    elif value.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def _port_name_problems(value: str) -> list[str]:
    """``IsValidPortName``: an IANA service name."""
    checks = (
        (len(value) > 15, "must be no more than 15 characters"),
        (
            re.fullmatch("[-a-z0-9]+", value) is None,
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        ),
        (re.search("[a-z]", value) is None, "must contain at least one letter (a-z)"),
        ("--" in value, "must not contain consecutive hyphens"),
        (value.startswith("-") or value.endswith("-"), "must not begin or end with a hyphen"),
    )
    return [message for failed, message in checks if failed]


# --- metadata ---------------------------------------------------------------------------------------------

_ANNOTATIONS_MAX_BYTES: Final = 256 * 1024


def _labels(labels: dict[Any, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    """``ValidateLabels``: qualified-name keys, label values; also used for ``nodeSelector``."""
    for key, value in labels.items():
        yield from _map_key(key, path, _qualified_name_problems)
        if not isinstance(value, str):
            yield type_error(f"{path}[{key}]", value, "a string")
        else:
            yield from (invalid(path, value, msg) for msg in _LABEL_VALUE.problems(value))


def _annotations(annotations: dict[Any, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    """``ValidateAnnotations``: qualified-name keys (any case), string values, 256 KiB in all."""
    size = 0
    for key, value in annotations.items():
        yield from _map_key(key, path, lambda k: _qualified_name_problems(k.lower()))
        if not isinstance(value, str):
            yield type_error(f"{path}[{key}]", value, "a string")
        else:
            size += len(str(key).encode()) + len(value.encode())
    if size > _ANNOTATIONS_MAX_BYTES:
        yield FieldError(path, "Too long", f"must have at most {_ANNOTATIONS_MAX_BYTES} bytes")


def _map_key(key: Any, path: str, problems: Callable[[str], list[str]]) -> Iterator[FieldError]:
    if not isinstance(key, str):
        yield type_error(path, key, "a string key")
    else:
        yield from (invalid(path, key, msg) for msg in problems(key))


_METADATA: Final = _nested(
    (
        _Field(
            "name",
            "string",
            _messages(_DNS1123_SUBDOMAIN.problems),
            required=True,
            required_detail="name is required (generateName is not supported for static pods)",
        ),
        _Field("namespace", "string", _messages(_DNS1123_LABEL.problems)),
        _Field("uid", "string", _uid),
        _Field("labels", "object", _labels),
        _Field("annotations", "object", _annotations),
    )
)


# --- containers: ports, env, mounts, resources, security, probes -----------------------------------------


def _host_network_port(port: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    host_port, container_port = port.get("hostPort"), port.get("containerPort")
    if ctx.host_network and _is_int(host_port) and _is_int(container_port) and host_port != container_port:
        yield invalid(
            _child(path, "hostPort"), host_port, "must match `containerPort` when `hostNetwork` is true"
        )


_PORTS: Final = _items(
    (
        _Field("containerPort", "integer", _port_number(zero_means_unset=False), required=True),
        _Field("hostPort", "integer", _port_number(zero_means_unset=True)),
        _Field("protocol", "string", _enum("SCTP", "TCP", "UDP")),
        _Field("name", "string", _messages(_port_name_problems)),
        _Field("hostIP", "string", _ip_address),
    ),
    _host_network_port,
    unique=("name", duplicate),
)

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


def _env_field_path(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    """``fieldRef.fieldPath``: a pod field, or one label/annotation by key (``metadata.labels['app']``)."""
    match = _SUBSCRIPTED_FIELD_PATH.fullmatch(value)
    if match is not None:
        base, key = match.groups()
        key_problems = _qualified_name_problems(key.lower() if base == "metadata.annotations" else key)
        yield from (invalid(path, key, msg) for msg in key_problems)
    elif value not in _ENV_FIELD_PATHS:
        yield unsupported(path, value, list(_ENV_FIELD_PATHS))


_MEMORY_DIVISORS: Final = ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")
_DIVISORS: Final = {
    "cpu": (("1m", "1"), "cpu"),
    "memory": (_MEMORY_DIVISORS, "memory"),
    "ephemeral-storage": (_MEMORY_DIVISORS, "local ephemeral storage"),
}


def _supported_divisor(ref: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
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
        yield invalid(_child(path, "divisor"), resource, detail)


def _exactly_one(keys: tuple[str, ...], missing: str) -> Check:
    """Exactly one of ``keys`` set: ``EnvVarSource`` and ``EnvFromSource`` report it on the object itself."""

    def check(obj: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
        count = sum(obj.get(key) is not None for key in keys)
        if count == 0:
            yield invalid(path, "", missing)
        elif count > 1:
            yield invalid(path, "", "may not have more than one field specified at a time")

    return check


_ENV_VAR_SOURCE: Final = _nested(
    (
        _Field("fieldRef", "object", _nested((
            _Field("apiVersion", "string", _enum("v1")),
            _Field("fieldPath", "string", _env_field_path, required=True),
        ))),
        _Field("resourceFieldRef", "object", _nested((
            _Field("containerName", "string"),
            _Field("resource", "string", _enum(*_RESOURCE_FIELD_PATHS), required=True),
            _Field("divisor", None, _quantity),
        ), _supported_divisor)),
        _Field("configMapKeyRef", "object", _api_reference("ConfigMap", _INLINE_VALUE)),
        _Field("secretKeyRef", "object", _api_reference("Secret", _INLINE_VALUE)),
    ),
    _exactly_one(
        ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"),
        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
    ),
)  # fmt: skip


def _value_or_value_from(env: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    if env.get("valueFrom") is not None and env.get("value") not in (None, ""):
        yield invalid(_child(path, "valueFrom"), "", "may not be specified when `value` is not empty")


_ENV: Final = _items(
    (
        _Field("name", "string", _messages(_env_var_name_problems), required=True),
        _Field("value", "string"),
        _Field("valueFrom", "object", _ENV_VAR_SOURCE),
    ),
    _value_or_value_from,
)
_ENV_FROM: Final = _items(
    (
        _Field("prefix", "string", _messages(_env_var_name_problems)),
        _Field("configMapRef", "object", _api_reference("ConfigMap", "list the variables under `env`")),
        _Field("secretRef", "object", _api_reference("Secret", "list the variables under `env`")),
    ),
    _exactly_one(("configMapRef", "secretRef"), "must specify one of: `configMapRef` or `secretRef`"),
)


def _declared_volume(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
    if value not in ctx.volumes:
        yield not_found(path, value)


_VOLUME_MOUNTS: Final = _items(
    (
        _Field("name", "string", _declared_volume, required=True),
        _Field("mountPath", "string", _absolute_path, required=True),
        _Field("subPath", "string", _relative_path),
        _Field("subPathExpr", "string"),
        _Field("readOnly", "boolean"),
        _Field("mountPropagation", "string", _enum("Bidirectional", "HostToContainer", "None")),
    ),
    unique=("mountPath", lambda path, value: invalid(path, value, "must be unique")),
)

_STANDARD_CONTAINER_RESOURCES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})


def _resource_name_problems(name: str) -> list[str]:
    if "/" in name:
        return _qualified_name_problems(name)
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
        errors += _map_key(name, path, _resource_name_problems)
        amount, amount_errors = _parse_amount(value, f"{path}[{name}]", milli=name == "cpu")
        errors += amount_errors
        if amount is not None and not amount_errors:
            amounts[str(name)] = (amount, value)
    return amounts, errors


def _resources(resources: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    """``ValidateContainerResourceRequirements``: valid names and quantities, and request <= limit."""
    parsed: dict[str, dict[str, tuple[Decimal, Any]]] = {}
    for key in ("limits", "requests"):
        values = resources.get(key)
        if values is None:
            continue
        if not isinstance(values, dict):
            yield type_error(_child(path, key), values, "an object")
            continue
        parsed[key], errors = _resource_list(values, _child(path, key))
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
        yield invalid(_child(path, "requests"), quantity.format_quantity(request_text), detail)
    if resources.get("claims"):
        yield forbidden(_child(path, "claims"), _static_reference("ResourceClaim"))


_USER_ID: Final = _between(0, 2147483647)
_RUN_AS: Final = (
    _Field("runAsUser", "integer", _USER_ID),
    _Field("runAsGroup", "integer", _USER_ID),
    _Field("runAsNonRoot", "boolean"),
)


def _privilege_escalation(context: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    if context.get("privileged") is True and context.get("allowPrivilegeEscalation") is False:
        yield invalid(
            path, context, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        )


_CONTAINER_SECURITY: Final = _nested(
    (
        *_RUN_AS,
        _Field("privileged", "boolean"),
        _Field("readOnlyRootFilesystem", "boolean"),
        _Field("allowPrivilegeEscalation", "boolean"),
        _Field("capabilities", "object", _nested((
            _Field("add", "list", _each("string")),
            _Field("drop", "list", _each("string")),
        ))),
        _Field("procMount", "string", _enum("Default", "Unmasked")),
    ),
    _privilege_escalation,
)  # fmt: skip

_HANDLER_FIELDS: Final[dict[str, tuple[_Field, ...]]] = {
    "exec": (_Field("command", "list", _each("string"), required=True),),
    "httpGet": (
        _Field("port", None, _port_or_name, required=True),
        _Field("path", "string"),
        _Field("host", "string"),
        _Field("scheme", "string", _enum("HTTP", "HTTPS")),
        _Field("httpHeaders", "list", _NAME_VALUE_LIST),
    ),
    "tcpSocket": (_Field("port", None, _port_or_name, required=True), _Field("host", "string")),
    "grpc": (
        _Field("port", "integer", _port_number(zero_means_unset=False), required=True),
        _Field("service", "string"),
    ),
    "sleep": (_Field("seconds", "integer", _non_negative, required=True),),
}


def _one_type(
    obj: dict[str, Any], path: str, keys: Iterable[str], noun: str
) -> tuple[str | None, list[FieldError]]:
    """The single set key among ``keys`` (a volume type, a handler type) and the errors if not exactly one."""
    present = [key for key in keys if obj.get(key) is not None]
    errors = [forbidden(_child(path, key), f"may not specify more than 1 {noun} type") for key in present[1:]]
    if not present:
        errors.append(required(path, f"must specify a {noun} type"))
    return (present[0] if present else None), errors


def _typed_source(
    obj: dict[str, Any], path: str, key: str, fields: Iterable[_Field], ctx: _Context
) -> Iterator[FieldError]:
    """The object under the chosen type key (``hostPath: {...}``), checked with that type's fields."""
    value, source_path = obj[key], _child(path, key)
    if not isinstance(value, dict):
        yield type_error(source_path, value, "an object")
    else:
        yield from _check_fields(value, source_path, fields, ctx)


def _handler(*kinds: str) -> Check:
    """A probe or lifecycle hook: exactly one handler type, each checked structurally."""

    def check(handler: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
        chosen, errors = _one_type(handler, path, kinds, "handler")
        yield from errors
        if chosen is not None:
            yield from _typed_source(handler, path, chosen, _HANDLER_FIELDS[chosen], ctx)

    return check


_PROBE_FIELDS: Final = tuple(
    _Field(key, "integer", _non_negative)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    )
)


def _probe(*, success_once: bool) -> Check:
    """Liveness and startup probes end at the first success, so their ``successThreshold`` must be 1."""

    def single_success(probe: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
        threshold = probe.get("successThreshold")
        if success_once and _is_int(threshold) and threshold != 1:
            yield invalid(_child(path, "successThreshold"), threshold, "must be 1")

    return _nested(_PROBE_FIELDS, _handler("exec", "httpGet", "tcpSocket", "grpc"), single_success)


_LIFECYCLE_HOOK: Final = _handler("exec", "httpGet", "tcpSocket", "sleep")
_INIT_ONLY_FIELDS: Final = ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe")
_INIT_ONLY: Final = "may not be set for init containers without restartPolicy=Always"


def _container_restart_policy(value: str, path: str, ctx: _Context) -> Iterator[FieldError]:
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


def _init_container_rules(container: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    """A plain init container runs to completion: hooks and probes have nothing to act on."""
    if not ctx.init_container or container.get("restartPolicy") == "Always":
        return
    for key in _INIT_ONLY_FIELDS:
        if container.get(key) is not None:
            yield forbidden(_child(path, key), _INIT_ONLY)


_CONTAINER: Final = _nested(
    (
        _Field("name", "string", _messages(_DNS1123_LABEL.problems), required=True),
        _Field("image", "string", _image, required=True),
        _Field("imagePullPolicy", "string", _enum("Always", "IfNotPresent", "Never")),
        _Field("command", "list", _each("string")),
        _Field("args", "list", _each("string")),
        _Field("workingDir", "string"),
        _Field("ports", "list", _PORTS),
        _Field("env", "list", _ENV),
        _Field("envFrom", "list", _ENV_FROM),
        _Field("volumeMounts", "list", _VOLUME_MOUNTS),
        _Field("resources", "object", _resources),
        _Field("securityContext", "object", _CONTAINER_SECURITY),
        _Field("livenessProbe", "object", _probe(success_once=True)),
        _Field("readinessProbe", "object", _probe(success_once=False)),
        _Field("startupProbe", "object", _probe(success_once=True)),
        _Field("lifecycle", "object", _nested((
            _Field("postStart", "object", _LIFECYCLE_HOOK),
            _Field("preStop", "object", _LIFECYCLE_HOOK),
        ))),
        _Field("restartPolicy", "string", _container_restart_policy),
        _Field("terminationMessagePath", "string", _bind_safe),
        _Field("terminationMessagePolicy", "string", _enum("File", "FallbackToLogsOnError")),
        _Field("stdin", "boolean"),
        _Field("stdinOnce", "boolean"),
        _Field("tty", "boolean"),
    ),
    _init_container_rules,
)  # fmt: skip

_CONTAINER_LISTS: Final = (("containers", False), ("initContainers", True))


def _containers(spec: dict[str, Any], ctx: _Context) -> Iterator[FieldError]:
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
        yield from _each("object", _CONTAINER)(items, path, replace(ctx, init_container=init))
        yield from _duplicates(items, path, "name", duplicate, seen=names)
        if not init:
            yield from _host_port_conflicts(items, path, host_ports)


def _host_port_conflicts(containers: list[Any], path: str, seen: set[str]) -> Iterator[FieldError]:
    """``AccumulateUniqueHostPorts``: one ``protocol/hostIP/hostPort`` per pod."""
    for i, container in enumerate(containers):
        ports = container.get("ports") if isinstance(container, dict) else None
        for j, port in enumerate(ports if isinstance(ports, list) else []):
            host_port = port.get("hostPort") if isinstance(port, dict) else None
            if not _is_int(host_port) or host_port == 0:
                continue
            key = f"{port.get('protocol') or 'TCP'}/{port.get('hostIP') or ''}/{host_port}"
            if key in seen:
                yield duplicate(f"{path}[{i}].ports[{j}].hostPort", key)
            seen.add(key)


# --- volumes and the pod spec -----------------------------------------------------------------------------

_HOST_PATH_TYPES: Final = (
    "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket",
)  # fmt: skip
_LOCAL_VOLUMES: Final[dict[str, tuple[_Field, ...]]] = {
    "emptyDir": (_Field("medium", "string", _enum("", "Memory")), _Field("sizeLimit", None, _quantity)),
    "hostPath": (
        _Field("path", "string", _host_path, required=True),
        _Field("type", "string", _enum(*_HOST_PATH_TYPES)),
    ),
}
API_VOLUMES: Final = {
    "configMap": "ConfigMap",
    "secret": "Secret",
    "persistentVolumeClaim": "PersistentVolumeClaim",
    "projected": "ConfigMap, Secret, ServiceAccount token",
    "ephemeral": "PersistentVolumeClaim",
}
_LOCAL_ONLY: Final = "pykubelet supports only emptyDir and hostPath volumes"
_UNKNOWN_VOLUME_TYPE: Final = f"unknown volume type (names are case-sensitive): {_LOCAL_ONLY}"
_VOLUME_KEYS: Final = frozenset({"name", *VOLUME_SOURCES})


def _volume_source(volume: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    chosen, errors = _one_type(volume, path, VOLUME_SOURCES, "volume")
    yield from errors
    for key in volume:
        if key not in _VOLUME_KEYS:  # a typo ("hostpath") would otherwise silently become an emptyDir
            yield FieldError(_child(path, str(key)), "Unsupported value", _UNKNOWN_VOLUME_TYPE, key)
    if chosen in _LOCAL_VOLUMES:
        yield from _typed_source(volume, path, chosen, _LOCAL_VOLUMES[chosen], ctx)
    elif chosen in API_VOLUMES:
        detail = _static_reference(API_VOLUMES[chosen], "use hostPath or emptyDir")
        yield forbidden(_child(path, chosen), detail)
    elif chosen is not None:
        yield FieldError(path, "Unsupported value", _LOCAL_ONLY, chosen)


_VOLUMES: Final = _items(
    (_Field("name", "string", _messages(_DNS1123_LABEL.problems), required=True),),
    _volume_source,
    unique=("name", duplicate),
)


def _volume_names(spec: dict[str, Any]) -> frozenset[str]:
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        return frozenset()
    return frozenset(v["name"] for v in volumes if isinstance(v, dict) and isinstance(v.get("name"), str))


def _dns_none_needs_config(spec: dict[str, Any], path: str, ctx: _Context) -> Iterator[FieldError]:
    if spec.get("dnsPolicy") != "None":
        return
    config = spec.get("dnsConfig")
    if config is None:
        yield required(_child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
    elif isinstance(config, dict) and not config.get("nameservers"):
        yield required(
            _child(path, "dnsConfig.nameservers"),
            "must provide at least one DNS nameserver when `dnsPolicy` is None",
        )


_SPEC: Final = _nested(
    (
        _Field("volumes", "list", _VOLUMES),
        _Field("restartPolicy", "string", _enum("Always", "OnFailure", "Never")),
        _Field("terminationGracePeriodSeconds", "integer", _non_negative),
        _Field("activeDeadlineSeconds", "integer", _between(1, 2147483647)),
        _Field("dnsPolicy", "string", _enum("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")),
        _Field("dnsConfig", "object", _nested((
            _Field("nameservers", "list", _each("string", _ip_address)),
            _Field("searches", "list", _each("string")),
            _Field("options", "list", _NAME_VALUE_LIST),
        ))),
        _Field("hostNetwork", "boolean"),
        _Field("hostPID", "boolean"),
        _Field("hostIPC", "boolean"),
        _Field("shareProcessNamespace", "boolean"),
        _Field("enableServiceLinks", "boolean"),
        _Field("hostname", "string", _messages(_DNS1123_LABEL.problems)),
        _Field("subdomain", "string", _messages(_DNS1123_LABEL.problems)),
        _Field("nodeSelector", "object", _labels),
        _Field("nodeName", "string"),
        _Field("schedulerName", "string"),
        _Field("priorityClassName", "string"),
        _Field("securityContext", "object", _nested((
            *_RUN_AS,
            _Field("fsGroup", "integer", _USER_ID),
            _Field("supplementalGroups", "list", _each("integer", _USER_ID)),
            _Field("sysctls", "list", _NAME_VALUE_LIST),
        ))),
        _Field("tolerations", "list", _each("object")),
        _Field("serviceAccountName", "string"),
        _Field("serviceAccount", "string"),
        _Field("imagePullSecrets", "list", _api_reference("Secret", _DOCKER_LOGIN)),
        _Field("resourceClaims", "list", _api_reference("ResourceClaim")),
    ),
    _dns_none_needs_config,
)  # fmt: skip
