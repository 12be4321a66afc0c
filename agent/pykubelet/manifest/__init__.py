"""One Pod document -> a validated, defaulted static pod. Pure functions: no I/O here.

The flow is the kubelet's (``pkg/kubelet/config/common.go``): decode one Pod (``parse``), apply the v1
API defaults (``defaults``), give it its static-pod identity (``identity``: name-node, uid, annotations),
then validate (``validate``). Anything wrong raises :class:`ManifestError` naming the file, the field
path and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pykubelet.manifest.errors import FieldError, ManifestError

__all__ = ["FieldError", "ManifestError", "StaticPod", "load_pod"]


@dataclass(frozen=True)
class StaticPod:
    """A desired pod as the config layer hands it to the pod workers.

    ``obj`` is the full v1 Pod (apiVersion, kind, metadata, spec) after defaulting; it is what ``/pods``
    serves, and it is never mutated once built.
    """

    uid: str
    name: str
    namespace: str
    source: str
    obj: dict[str, Any]

    @property
    def spec(self) -> dict[str, Any]:
        return self.obj["spec"]

    @property
    def metadata(self) -> dict[str, Any]:
        return self.obj["metadata"]

    @property
    def full_name(self) -> str:
        """The kubelet's ``format.Pod`` key: ``name_namespace``; unique per node."""
        return f"{self.name}_{self.namespace}"

    @property
    def grace_period(self) -> int:
        return int(self.spec.get("terminationGracePeriodSeconds", 30))

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def load_pod(data: bytes, source: str, node_name: str, config_source: str = "file") -> StaticPod:
    """Turn the bytes of one manifest into a :class:`StaticPod`, or raise :class:`ManifestError`."""
    from pykubelet.manifest import defaults, identity, parse, validate

    document = parse.load_document(data, source)
    pod = defaults.apply_defaults(document)
    errors = validate.validate_pod(pod)
    if errors:
        raise ManifestError(source, errors)
    pod = identity.make_static(pod, node_name=node_name, source=source, config_source=config_source)
    errors = validate.validate_identity(pod)
    if errors:
        raise ManifestError(source, errors)
    meta = pod["metadata"]
    return StaticPod(uid=meta["uid"], name=meta["name"], namespace=meta["namespace"], source=source, obj=pod)
