"""Is the container runtime up? The one answer (the kubelet's ``runtimeState``, ``pkg/kubelet/runtime.go``).

The kubelet asks the runtime for its status every 5 s (``updateRuntimeUp``) and keeps the last answer
in one place that ``/healthz``, the node's readiness and the metrics all read. pykubelet does the
same: :meth:`RuntimeState.run` pings the runtime with a deadline, so an engine that hangs (rather
than dies) is noticed too, and a request never waits on the runtime to learn whether it is up.
:meth:`RuntimeState.set` is the one writer's door, for anything else that learns the runtime is
gone (the PLEG, when its event stream breaks), so every reader sees one state and one reason.
"""

from __future__ import annotations

import asyncio
import logging

from pykubelet.runtime.api import Runtime

log = logging.getLogger("pykubelet.runtime")

RUNTIME_PING_PERIOD = 5.0
RUNTIME_PING_TIMEOUT = 3.0


class RuntimeState:
    """The runtime's health: ``ok`` and, when not, ``error`` (why, in words for ``/healthz``)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.ok = False
        self.error = "not checked yet"

    def set(self, ok: bool, error: str) -> None:
        """Record an observation; a change is logged once, not at every ping."""
        if ok != self.ok:
            if ok:
                log.info("The container runtime answers")
            else:
                log.error("The container runtime does not answer: %s", error)
        self.ok, self.error = ok, error

    async def run(self) -> None:
        """Ping the runtime every period (supervised: a bug here restarts the loop, not the agent)."""
        while True:
            self.set(*await self._runtime.check_health(RUNTIME_PING_TIMEOUT))
            await asyncio.sleep(RUNTIME_PING_PERIOD)
