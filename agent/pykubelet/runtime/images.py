"""``EnsureImageExists`` (``pkg/kubelet/images/image_manager.go``): the pull policy, with back-off.

``Never`` with the image missing is ``ErrImageNeverPull``; a failed pull is ``ErrImagePull`` and starts a
back-off per pod and image, during which the answer is ``ImagePullBackOff`` without asking the registry
again. The events and their wording are the kubelet's, since ``describe pod`` shows them.
"""

from __future__ import annotations

import time

from pykubelet.events import WARNING, Recorder
from pykubelet.lifecycle.backoff import Backoff
from pykubelet.manifest import StaticPod
from pykubelet.runtime.api import Runtime, RuntimeError_


class ImageManager:
    def __init__(self, runtime: Runtime, recorder: Recorder) -> None:
        self.runtime = runtime
        self.recorder = recorder
        self.backoff = Backoff()

    def remaining(self, pod: StaticPod, image: str) -> float:
        """Seconds left in the pull back-off of ``image`` for ``pod``."""
        return self.backoff.remaining(f"{pod.uid}_{image}")

    def forget(self, uid: str) -> None:
        self.backoff.forget_prefix(f"{uid}_")

    async def ensure(self, pod: StaticPod, container: str | None, image: str, policy: str) -> None:
        """Make sure ``image`` is there for ``container`` of ``pod`` (None: the sandbox), or raise."""
        present = await self.runtime.image_status(image) if policy != "Always" else None
        if present is not None:
            if container is not None:
                message = f'Container image "{image}" already present on machine'
                self.recorder.pod_event(pod, "Pulled", message, container=container)
            return
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.recorder.pod_event(pod, "ErrImageNeverPull", message, type=WARNING, container=container)
            raise RuntimeError_("ErrImageNeverPull", message)
        key = f"{pod.uid}_{image}"
        if self.backoff.remaining(key) > 0:
            message = f'Back-off pulling image "{image}"'
            self.recorder.pod_event(pod, "BackOff", message, container=container)
            raise RuntimeError_("ImagePullBackOff", message)
        self.recorder.pod_event(pod, "Pulling", f'Pulling image "{image}"', container=container)
        started = time.monotonic()
        try:
            await self.runtime.pull_image(image)
        except RuntimeError_ as exc:
            self.backoff.next(key)
            message = f'Failed to pull image "{image}": {exc.message}'
            self.recorder.pod_event(pod, "Failed", message, type=WARNING, container=container)
            self.recorder.pod_event(pod, "Failed", "Error: ErrImagePull", type=WARNING, container=container)
            raise
        self.backoff.reset(key)
        message = f'Successfully pulled image "{image}" in {time.monotonic() - started:.3f}s'
        self.recorder.pod_event(pod, "Pulled", message, container=container)
