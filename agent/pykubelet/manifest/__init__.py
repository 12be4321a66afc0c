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

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pykubelet.manifest.errors import FieldError, ManifestError

__all__ = ["FieldError", "ManifestError", "StaticPod", "load_pod", "load_pod_document", "load_pods"]


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
        spec: dict[str, Any] = self.obj["spec"]
        return spec

    @property
    def metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = self.obj["metadata"]
        return metadata

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
    from pykubelet.manifest import parse

    document = parse.load_document(data, source)
    return load_pod_document(document, source, node_name, config_source, strict=strict)


def load_pods(
    data: bytes, source: str, node_name: str, config_source: str = "http", *, strict: bool = False
) -> list[StaticPod | ManifestError]:
    """A body holding one Pod or a PodList/List (``--manifest-url``) -> one result per pod, in order.

    The body is decoded exactly as a manifest file is; if it cannot be, :class:`ManifestError` is
    raised. Each item of a list is then validated on its own, so one bad item does not stop the others;
    its error paths start at the body's root (``items[2].spec.containers[0].image: Required value``).
    A lone Pod that fails validation raises, as the kubelet's ``http.go`` returns an error and sends no
    update: the URL's last good set stays.
    """
    from pykubelet.manifest import parse

    results: list[StaticPod | ManifestError] = []
    for item in parse.load_pod_or_list(data, source):
        try:
            if item.document is None:
                raise ManifestError(source, list(item.errors))
            results.append(
                load_pod_document(
                    item.document, source, node_name, config_source, strict=strict, path=item.path
                )
            )
        except ManifestError as exc:
            if not item.path:  # the body was one Pod
                raise
            results.append(exc)
    return results


def load_pod_document(
    document: dict[str, Any],
    source: str,
    node_name: str,
    config_source: str = "file",
    *,
    strict: bool = False,
    path: str = "",
) -> StaticPod:
    """Default, identify and validate one decoded Pod ``document`` (it is modified in place).

    ``path`` is where the Pod sits in what ``source`` served (``items[2]`` in a list): every error and
    warning path is given under it, so a person can find the field.
    """
    from pykubelet.manifest import defaults, fields, identity, schema, validate

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
        raise ManifestError(source, _under(path, errors), warnings=_under(path, warnings))
    pod = identity.make_static(pod, node_name=node_name, source=source, config_source=config_source)
    errors = validate.validate_identity(pod)
    if errors:
        raise ManifestError(source, _under(path, errors), warnings=_under(path, warnings))
    meta = pod["metadata"]
    return StaticPod(
        uid=meta["uid"],
        name=meta["name"],
        namespace=meta["namespace"],
        source=source,
        obj=pod,
        warnings=tuple(_under(path, warnings)),
    )


def _under(path: str, errors: Iterable[FieldError]) -> list[FieldError]:
    """``errors`` with their field paths placed under ``path`` (unchanged when ``path`` is empty)."""
    if not path:
        return list(errors)
    return [dataclasses.replace(e, path=f"{path}.{e.path}" if e.path else path) for e in errors]


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
