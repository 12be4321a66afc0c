"""The Pod: :func:`validate_pod` (the whole defaulted object) and :func:`validate_identity`.

Mirrors ``pkg/apis/core/validation/validation.go``'s ``ValidatePodCreate`` / ``ValidatePodSpec``: the
pod-level spec rules (restart and DNS policy, ``dnsConfig``, the pod security context, deadlines) here,
metadata, containers and volumes from their modules. All errors are collected, so one edit can fix a
file. :func:`validate_identity` checks the static identity the kubelet gives the pod (``name-node``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pykubelet.manifest.errors import FieldError, invalid, required, type_error
from pykubelet.manifest.validate.checks import (
    DOCKER_LOGIN,
    api_reference,
    between,
    enum,
    ip_address,
    messages,
    non_negative,
)
from pykubelet.manifest.validate.containers import RUN_AS, USER_ID, container_lists
from pykubelet.manifest.validate.metadata import METADATA, labels
from pykubelet.manifest.validate.names import DNS1123_LABEL, DNS1123_SUBDOMAIN
from pykubelet.manifest.validate.volumes import VOLUMES, volume_names
from pykubelet.manifest.validate.walker import NAME_VALUE_LIST, Context, Field, child, each, nested, section


def validate_pod(pod: dict[str, Any]) -> list[FieldError]:
    """Every problem with the API-defaulted ``pod`` (before it gets its static identity)."""
    if not isinstance(pod, dict):
        return [type_error("", pod, "an object")]
    errors = list(section(pod, "metadata", METADATA, Context()))
    spec = pod.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [*errors, type_error("spec", spec, "an object")]
    spec = spec or {}
    ctx = Context(volumes=volume_names(spec), host_network=spec.get("hostNetwork") is True)
    errors += _SPEC(spec, "spec", ctx)
    errors += container_lists(spec, ctx)
    return errors


def validate_identity(pod: dict[str, Any]) -> list[FieldError]:
    """Problems with the static identity: ``name-node`` must still be a DNS-1123 subdomain (<= 253)."""
    metadata = pod.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str):
        return [type_error("metadata.name", name, "a string")]
    return [invalid("metadata.name", name, msg) for msg in DNS1123_SUBDOMAIN.problems(name)]


def _dns_none_needs_config(spec: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    if spec.get("dnsPolicy") != "None":
        return
    config = spec.get("dnsConfig")
    if config is None:
        yield required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
    elif isinstance(config, dict) and not config.get("nameservers"):
        yield required(
            child(path, "dnsConfig.nameservers"),
            "must provide at least one DNS nameserver when `dnsPolicy` is None",
        )


_SPEC: Final = nested(
    (
        Field("volumes", "list", VOLUMES),
        Field("restartPolicy", "string", enum("Always", "OnFailure", "Never")),
        Field("terminationGracePeriodSeconds", "integer", non_negative),
        Field("activeDeadlineSeconds", "integer", between(1, 2147483647)),
        Field("dnsPolicy", "string", enum("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")),
        Field("dnsConfig", "object", nested((
            Field("nameservers", "list", each("string", ip_address)),
            Field("searches", "list", each("string")),
            Field("options", "list", NAME_VALUE_LIST),
        ))),
        Field("hostNetwork", "boolean"),
        Field("hostPID", "boolean"),
        Field("hostIPC", "boolean"),
        Field("shareProcessNamespace", "boolean"),
        Field("enableServiceLinks", "boolean"),
        Field("hostname", "string", messages(DNS1123_LABEL.problems)),
        Field("subdomain", "string", messages(DNS1123_LABEL.problems)),
        Field("nodeSelector", "object", labels),
        Field("nodeName", "string"),
        Field("schedulerName", "string"),
        Field("priorityClassName", "string"),
        Field("securityContext", "object", nested((
            *RUN_AS,
            Field("fsGroup", "integer", USER_ID),
            Field("supplementalGroups", "list", each("integer", USER_ID)),
            Field("sysctls", "list", NAME_VALUE_LIST),
        ))),
        Field("tolerations", "list", each("object")),
        Field("serviceAccountName", "string"),
        Field("serviceAccount", "string"),
        Field("imagePullSecrets", "list", api_reference("Secret", DOCKER_LOGIN)),
        Field("resourceClaims", "list", api_reference("ResourceClaim")),
    ),
    _dns_none_needs_config,
)  # fmt: skip
