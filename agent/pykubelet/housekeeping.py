"""Housekeeping: remove what runs (or lies on disk) without a manifest (the kubelet's ``HandlePodCleanups``).

The runtime's labels, not memory, say what runs: after an agent restart the pods found in the runtime
whose manifests are still there are adopted as they are, and those whose manifests are gone are
orphans, stopped and removed through a pod worker like any deleted pod. A pod directory on disk (its
emptyDirs) with no pod in the runtime, no manifest and no worker is torn down too.

Nothing is removed before every source has delivered a first complete listing (``seen_all_sources``):
"not read yet" must never look like "deleted". The decisions are pure functions, tested without Docker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping

from pykubelet import volumes
from pykubelet.config.podconfig import PodConfig
from pykubelet.podworkers import PodWorkers
from pykubelet.runtime.api import Runtime

log = logging.getLogger("pykubelet.housekeeping")

HOUSEKEEPING_PERIOD = 2.0  # until the first cleanup has adopted what runs: then five times longer


def orphaned_pods(
    running: Mapping[str, str], desired: Collection[str], workers: Collection[str]
) -> dict[str, str]:
    """Running pods (uid -> full name) that no manifest wants and no worker already handles."""
    return {uid: name for uid, name in running.items() if uid not in desired and uid not in workers}


def is_stale_pod_dir(
    uid: str, desired: Collection[str], running: Collection[str], workers: Collection[str]
) -> bool:
    """A pod directory whose pod is neither desired, nor in the runtime, nor being handled by a worker.

    Asked just before each teardown, not once for the whole list: a worker may start meanwhile.
    """
    return uid not in desired and uid not in running and uid not in workers


class Housekeeping:
    """The periodic cleanup; ``last_run`` feeds the ``syncloop`` health check."""

    def __init__(self, runtime: Runtime, root_dir: str, config: PodConfig, workers: PodWorkers) -> None:
        self._runtime = runtime
        self._root_dir = root_dir
        self._config = config
        self._workers = workers
        self._adopted = False
        self.last_run = time.monotonic()

    async def run(self) -> None:
        """Clean up every period; a failure is logged and retried next period (the loop is supervised)."""
        while True:
            self.last_run = time.monotonic()
            try:
                await self.cleanup()
            except Exception as exc:
                log.warning("Housekeeping failed, will retry: %s", exc)
            await asyncio.sleep(HOUSEKEEPING_PERIOD if not self._adopted else HOUSEKEEPING_PERIOD * 5)

    async def cleanup(self) -> None:
        """Stop orphaned pods and tear down stale pod directories, once every source has been seen."""
        if not self._config.seen_all_sources():
            return
        running = {
            s.pod_uid: f"{s.pod_name or s.pod_uid}_{s.namespace}"
            for s in await self._runtime.list_summaries()
        }
        desired = self._config.desired
        for uid, full_name in orphaned_pods(running, desired, self._workers.workers).items():
            log.info("Removing orphaned pod (its manifest is gone)", extra={"uid": uid, "pod": full_name})
            self._workers.terminate(uid, full_name)
        if not self._adopted:
            adopted = [uid for uid in running if uid in desired]
            if adopted:
                log.info("Adopted %d running pod(s) from the runtime", len(adopted))
            self._adopted = True
        on_disk = await asyncio.to_thread(volumes.known_pod_dirs, self._root_dir)
        for uid in on_disk:
            if is_stale_pod_dir(uid, self._config.desired, running, self._workers.workers):
                await asyncio.to_thread(volumes.teardown, self._root_dir, uid)
