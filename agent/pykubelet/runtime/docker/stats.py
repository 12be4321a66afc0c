"""What the Docker runtime measures of a container itself: its writable layer on overlay2.

cAdvisor's Docker handler (``container/docker/handler.go``, its ``fsHandler``) reports a container's
``rootfs`` as the ``diff`` directory of its overlay2 mount, found through Docker's layer database:
``<root>/image/overlay2/layerdb/mounts/<id>/mount-id`` names ``<root>/overlay2/<mount-id>/diff``. The
walk is the slow part, so its result is reused for a minute, as the fsHandler re-measures periodically.
With another storage driver there is no such file and the container is left out (no ``rootfs``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from pykubelet.runtime.api import ContainerStats
from pykubelet.stats.disk import DU_TTL_SECONDS, DiskUsageCache
from pykubelet.stats.files import read_text


class WritableLayers:
    """Measures containers' overlay2 ``diff`` directories under one Docker root, walks cached."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, ttl: float = DU_TTL_SECONDS) -> None:
        self._du = DiskUsageCache(clock, ttl)

    def measure(self, docker_root: str, container_ids: Sequence[str]) -> dict[str, ContainerStats]:
        """The writable layer of each container that has one; blocks (it walks directories)."""
        found: dict[str, ContainerStats] = {}
        mounts = os.path.join(docker_root, "image", "overlay2", "layerdb", "mounts")
        for cid in container_ids:
            if not cid:
                continue
            mount_id = (read_text(os.path.join(mounts, os.path.basename(cid), "mount-id")) or "").strip()
            if not _plain_name(mount_id):  # the engine's file, but never a path out of overlay2/
                continue
            usage = self._du.measure(os.path.join(docker_root, "overlay2", mount_id, "diff"))
            if usage is not None:
                found[cid] = ContainerStats(cid, usage[0], usage[1])
        self._du.expire()
        return found


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..")
