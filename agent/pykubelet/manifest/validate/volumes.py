"""``spec.volumes``: exactly one source each, and only the ones a static pod can have.

Mirrors ``pkg/apis/core/validation/validation.go``'s ``ValidateVolumes`` / ``validateVolumeSource``
(``validateHostPathVolumeSource``, ``validateEmptyDirVolumeSource``). pykubelet supports emptyDir and
hostPath; sources that name API objects are Forbidden, the rest Unsupported, and an unknown key (a typo
like ``hostpath``) is reported instead of silently becoming an emptyDir.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pykubelet.manifest.defaults import VOLUME_SOURCES
from pykubelet.manifest.errors import FieldError, duplicate, forbidden
from pykubelet.manifest.validate.checks import enum, host_path, messages, quantity_amount, static_reference
from pykubelet.manifest.validate.names import DNS1123_LABEL
from pykubelet.manifest.validate.walker import Context, Field, child, object_list, one_type, typed_source

_HOST_PATH_TYPES: Final = (
    "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket",
)  # fmt: skip
_LOCAL_VOLUMES: Final[dict[str, tuple[Field, ...]]] = {
    "emptyDir": (Field("medium", "string", enum("", "Memory")), Field("sizeLimit", None, quantity_amount)),
    "hostPath": (
        Field("path", "string", host_path, required=True),
        Field("type", "string", enum(*_HOST_PATH_TYPES)),
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


def _volume_source(volume: dict[str, Any], path: str, ctx: Context) -> Iterator[FieldError]:
    chosen, errors = one_type(volume, path, VOLUME_SOURCES, "volume")
    yield from errors
    for key in volume:
        if key not in _VOLUME_KEYS:  # a typo ("hostpath") would otherwise silently become an emptyDir
            yield FieldError(child(path, str(key)), "Unsupported value", _UNKNOWN_VOLUME_TYPE, key)
    if chosen in _LOCAL_VOLUMES:
        yield from typed_source(volume, path, chosen, _LOCAL_VOLUMES[chosen], ctx)
    elif chosen in API_VOLUMES:
        detail = static_reference(API_VOLUMES[chosen], "use hostPath or emptyDir")
        yield forbidden(child(path, chosen), detail)
    elif chosen is not None:
        yield FieldError(path, "Unsupported value", _LOCAL_ONLY, chosen)


VOLUMES: Final = object_list(
    (Field("name", "string", messages(DNS1123_LABEL.problems), required=True),),
    _volume_source,
    unique=("name", duplicate),
)


def volume_names(spec: dict[str, Any]) -> frozenset[str]:
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        return frozenset()
    return frozenset(v["name"] for v in volumes if isinstance(v, dict) and isinstance(v.get("name"), str))
