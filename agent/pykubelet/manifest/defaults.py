"""The v1 API defaults (``pkg/apis/core/v1/defaults.go``) a Pod gets when the kubelet decodes it.

The kubelet's file source decodes manifests with the API's universal decoder, so a static pod is
defaulted exactly like a pod sent to an API server: ``restartPolicy: Always``, a 30 s grace period,
probe timings, ``imagePullPolicy`` from the image tag, requests copied from limits. Those defaults are
behaviour (they decide restarts, pulls and the QoS class) and they are part of what ``/pods`` shows, so
they are applied here once, explicitly, instead of being assumed by every consumer.

A default fills a field only where it is absent. As in Go, an explicit ``null`` counts as absent, and so
does the zero value (``""``, ``0``) of a field that is not a pointer in the Go type. Values of the wrong
type are left alone: validation reports them with their path, which is more useful than a crash here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

__all__ = ["VOLUME_SOURCES", "apply_defaults", "parse_image_name"]

# Every volume source in the v1 API, in the order validation counts them ("may not specify more than 1").
VOLUME_SOURCES: Final = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs",
    "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte",
    "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume", "photonPersistentDisk",
    "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO", "csi", "ephemeral", "image",
)  # fmt: skip

_POD_SPEC: Final = {
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "securityContext": {},
    "schedulerName": "default-scheduler",
    "enableServiceLinks": True,
}
_CONTAINER: Final = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "resources": {},
}
_PORT: Final = {"protocol": "TCP"}
_PROBE: Final = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
_HTTP_GET: Final = {"path": "/", "scheme": "HTTP"}
_FIELD_REF: Final = {"apiVersion": "v1"}
_HOST_PATH: Final = {"type": ""}
# Pointer fields in the Go types: only nil is "unset"; an explicit 0, false or {} is kept.
_POINTERS: Final = frozenset({"terminationGracePeriodSeconds", "enableServiceLinks", "securityContext"})

_CONTAINER_LISTS: Final = ("containers", "initContainers")
_PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")
_HOOKS: Final = ("postStart", "preStop")


def apply_defaults(pod: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``pod`` with the v1 defaults filled in; ``pod`` itself is not touched."""
    pod = copy.deepcopy(pod)
    metadata = _child(pod, "metadata")
    if metadata is not None:
        _fill(metadata, {"namespace": "default"})
    spec = _child(pod, "spec")
    if spec is not None:
        _default_pod_spec(spec)
    return pod


def parse_image_name(image: str) -> tuple[str, str, str]:
    """``(repository, tag, digest)`` of an image reference, as the kubelet's ``ParseImageName`` gives them.

    The repository is normalised the way Docker does (``nginx`` -> ``docker.io/library/nginx``); the tag is
    ``latest`` when neither a tag nor a digest is given. ``localhost:5000/app`` names a registry port, not a
    tag. Raises :class:`ValueError` for a reference Docker would refuse.
    """
    if len(image) > _MAX_REFERENCE_LENGTH:
        raise ValueError(f"an image reference must be at most {_MAX_REFERENCE_LENGTH} characters long")
    if _ANONYMOUS_ID.fullmatch(image):
        raise ValueError("invalid repository name: cannot specify 64-byte hexadecimal strings")
    match = _REFERENCE.fullmatch(image)
    if match is None:
        raise ValueError(f"couldn't parse image reference {image!r}: invalid reference format")
    name, tag, digest = match.group("name"), match.group("tag") or "", match.group("digest") or ""
    if len(name) > _MAX_NAME_LENGTH:
        raise ValueError(f"repository name must not be more than {_MAX_NAME_LENGTH} characters")
    domain, remainder = _split_domain(name)
    if not tag and not digest:
        tag = "latest"
    return f"{domain}/{remainder}", tag, digest


def _default_pod_spec(spec: dict[str, Any]) -> None:
    _fill(spec, _POD_SPEC)
    host_network = spec.get("hostNetwork") is True
    for key in _CONTAINER_LISTS:
        for container in _mappings(spec.get(key)):
            _default_container(container, host_network)
    for volume in _mappings(spec.get("volumes")):
        _default_volume(volume)


def _default_container(container: dict[str, Any], host_network: bool) -> None:
    _fill(container, _CONTAINER)
    image = container.get("image")
    if _is_unset(container.get("imagePullPolicy"), "") and (image is None or isinstance(image, str)):
        container["imagePullPolicy"] = _pull_policy(image or "")
    resources = container.get("resources")
    if isinstance(resources, dict):
        _requests_from_limits(resources)
    for port in _mappings(container.get("ports")):
        _default_port(port, host_network)
    for env in _mappings(container.get("env")):
        field_ref = _path(env, "valueFrom", "fieldRef")
        if field_ref is not None:
            _fill(field_ref, _FIELD_REF)
    for key in _PROBES:
        probe = container.get(key)
        if isinstance(probe, dict):
            _fill(probe, _PROBE)
            _default_handler(probe)
    lifecycle = container.get("lifecycle")
    for hook in _HOOKS:
        handler = _path(lifecycle, hook)
        if handler is not None:
            _default_handler(handler)


def _default_handler(handler: dict[str, Any]) -> None:
    http_get = handler.get("httpGet")
    if isinstance(http_get, dict):
        _fill(http_get, _HTTP_GET)


def _default_port(port: dict[str, Any], host_network: bool) -> None:
    """``SetDefaults_ContainerPort`` plus ``defaultHostNetworkPorts``: on the host network the two are one."""
    _fill(port, _PORT)
    container_port = port.get("containerPort")
    if host_network and _is_unset(port.get("hostPort"), 0) and _is_int(container_port):
        port["hostPort"] = container_port


def _requests_from_limits(resources: dict[str, Any]) -> None:
    """``SetDefaults_Pod``: a limit without a request means "request exactly the limit" (QoS Guaranteed)."""
    limits = resources.get("limits")
    if not isinstance(limits, dict):
        return
    requests = _child(resources, "requests")
    if requests is None:
        return
    for name, quantity in limits.items():
        requests.setdefault(name, copy.deepcopy(quantity))


def _default_volume(volume: dict[str, Any]) -> None:
    """``SetDefaults_Volume``: a volume naming no source is an emptyDir."""
    if all(volume.get(source) is None for source in VOLUME_SOURCES):
        volume["emptyDir"] = {}
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        _fill(host_path, _HOST_PATH)


def _pull_policy(image: str) -> str:
    """``SetDefaults_Container``: ``latest`` (said or implied) is re-pulled, anything pinned is not.

    An unparsable reference gets ``IfNotPresent`` like upstream; the runtime reports it as InvalidImageName.
    """
    try:
        _, tag, _ = parse_image_name(image)
    except ValueError:
        return "IfNotPresent"
    return "Always" if tag == "latest" else "IfNotPresent"


def _fill(obj: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    for key, value in defaults.items():
        current = obj.get(key)
        if current is None or (key not in _POINTERS and _is_unset(current, value)):
            obj[key] = copy.deepcopy(value)


def _is_unset(current: Any, zero: Any) -> bool:
    """None, or the Go zero value of the field's type (``""`` for strings, ``0`` for ints, ``{}`` structs)."""
    return current is None or (type(current) is type(zero) and not current)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _child(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``obj[key]`` as a mapping, created when absent; None when it holds something else."""
    if obj.get(key) is None:
        obj[key] = {}
    value = obj[key]
    return value if isinstance(value, dict) else None


def _path(obj: Any, *keys: str) -> dict[str, Any] | None:
    """The mapping at ``obj[k1][k2]...``, or None if any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj if isinstance(obj, dict) else None


def _mappings(items: Any) -> Iterator[dict[str, Any]]:
    if isinstance(items, list):
        yield from (item for item in items if isinstance(item, dict))


# Image references (github.com/distribution/reference, regexp.go), ASCII only as in Go.
_MAX_REFERENCE_LENGTH: Final = 4096
_MAX_NAME_LENGTH: Final = 255
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
_ANONYMOUS_ID = re.compile(r"[a-f0-9]{64}")


def _split_domain(name: str) -> tuple[str, str]:
    """``splitDockerDomain``: the first component is a registry only if it looks like a host name."""
    first, _, rest = name.partition("/")
    if not rest or (
        "." not in first and ":" not in first and first != "localhost" and first == first.lower()
    ):
        domain, remainder = "docker.io", name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder
