"""``metadata``: name, namespace, uid, labels and annotations.

Mirrors ``k8s.io/apimachinery/pkg/api/validation/objectmeta.go`` (``ValidateObjectMeta``,
``ValidateAnnotations``) and ``metav1validation.ValidateLabels``; the uid check is pykubelet's, because the
uid names directories that are deleted with the pod.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pykubelet.manifest.errors import FieldError, invalid, type_error
from pykubelet.manifest.validate.checks import map_key, messages, uid
from pykubelet.manifest.validate.names import (
    DNS1123_LABEL,
    DNS1123_SUBDOMAIN,
    LABEL_VALUE,
    qualified_name_problems,
)
from pykubelet.manifest.validate.walker import Context, Field, nested

_ANNOTATIONS_MAX_BYTES: Final = 256 * 1024


def labels(values: dict[Any, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    """``ValidateLabels``: qualified-name keys, label values; also used for ``nodeSelector``."""
    for key, value in values.items():
        yield from map_key(key, path, qualified_name_problems)
        if not isinstance(value, str):
            yield type_error(f"{path}[{key}]", value, "a string")
        else:
            yield from (invalid(path, value, msg) for msg in LABEL_VALUE.problems(value))


def _annotations(annotations: dict[Any, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    """``ValidateAnnotations``: qualified-name keys (any case), string values, 256 KiB in all."""
    size = 0
    for key, value in annotations.items():
        yield from map_key(key, path, lambda k: qualified_name_problems(k.lower()))
        if not isinstance(value, str):
            yield type_error(f"{path}[{key}]", value, "a string")
        else:
            size += len(str(key).encode()) + len(value.encode())
    if size > _ANNOTATIONS_MAX_BYTES:
        yield FieldError(path, "Too long", f"must have at most {_ANNOTATIONS_MAX_BYTES} bytes")


METADATA: Final = nested(
    (
        Field(
            "name",
            "string",
            messages(DNS1123_SUBDOMAIN.problems),
            required=True,
            required_detail="name is required (generateName is not supported for static pods)",
        ),
        Field("namespace", "string", messages(DNS1123_LABEL.problems)),
        Field("uid", "string", uid),
        Field("labels", "object", labels),
        Field("annotations", "object", _annotations),
    )
)
