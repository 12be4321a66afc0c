"""One Pod document -> a validated, defaulted static pod. Pure functions: no I/O here.

The flow is the kubelet's (``pkg/kubelet/config/common.go``): decode one Pod (``parse``), apply the v1
API defaults (``defaults``), give it its static-pod identity (``identity``: name-node, uid, annotations),
then validate (``validate``). Anything wrong raises :class:`ManifestError` naming the file, the field
path and the reason.

Before that, the decoded document is checked against the real v1 Pod schema (``schema``: unknown fields,
wrong types) and each field it sets is classified (``fields``: honoured, accepted and ignored, not
supported yet, refused). What lets the pod run but deserves a word comes back as
:attr:`StaticPod.warnings`; with ``strict=True`` an unknown field is an error, as with kubectl's
``--validate=strict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pykubelet.manifest.errors import FieldError, ManifestError

__all__ = ["FieldError", "ManifestError", "StaticPod", "load_pod"]


@dataclass(frozen=True)
class StaticPod:
    """A desired pod as the config layer hands it to the pod workers.

    ``obj`` is the full v1 Pod (apiVersion, kind, metadata, spec) after defaulting; it is what ``/pods``
    serves, and it is never mutated once built. ``warnings`` are what the manifest asks that pykubelet
    ignores or cannot do yet, and unknown fields; they are not part of the pod's identity.
    """

    uid: str
    name: str
    namespace: str
    source: str
    obj: dict[str, Any]
    warnings: tuple[FieldError, ...] = field(default=(), compare=False)

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


def load_pod(
    data: bytes, source: str, node_name: str, config_source: str = "file", *, strict: bool = False
) -> StaticPod:
    """Turn the bytes of one manifest into a :class:`StaticPod`, or raise :class:`ManifestError`.

    ``strict``: an unknown field refuses the pod instead of being a warning (``--strict-manifests``).
    """
    from pykubelet.manifest import defaults, fields, identity, parse, schema, validate

    document = parse.load_document(data, source)
    structure = schema.check_structure(document)
    classified = fields.classify(document, node_name)
    pod = defaults.apply_defaults(document)
    errors = _merge(
        validate.validate_pod(pod),
        structure.wrong_types,
        classified.errors,
        structure.unknown if strict else (),
    )
    warnings = [
        w
        for w in (*(() if strict else structure.unknown), *classified.warnings)
        if w.path not in {e.path for e in errors}
    ]
    if errors:
        raise ManifestError(source, errors, warnings=warnings)
    pod = identity.make_static(pod, node_name=node_name, source=source, config_source=config_source)
    errors = validate.validate_identity(pod)
    if errors:
        raise ManifestError(source, errors, warnings=warnings)
    meta = pod["metadata"]
    return StaticPod(
        uid=meta["uid"],
        name=meta["name"],
        namespace=meta["namespace"],
        source=source,
        obj=pod,
        warnings=tuple(warnings),
    )


def _merge(first: list[FieldError], *more: tuple[FieldError, ...]) -> list[FieldError]:
    """``validate.py``'s errors, then the others at paths it has not reported: one problem, one error."""
    errors = list(first)
    seen = {e.path for e in errors}
    for group in more:
        for error in group:
            if error.path not in seen:
                errors.append(error)
                seen.add(error.path)
    return errors
