"""Supervised background tasks: a long-lived loop never dies silently and never takes the agent down.

The kubelet's goroutines are started with ``wait.Until`` / ``wait.Forever`` and a panic handler: when one
iteration fails, the failure is logged and the loop runs again after a period. Here every long-lived task
(the file watcher, rescan and relist, the URL poll, the PLEG relist, housekeeping, stats) runs under
:func:`supervise`: an unexpected exception is logged once with the task's name and traceback, and the work
starts again after a back-off (1 s doubling to 30 s, back to 1 s after a minute of health), so a bug hit by
one bad input costs one restart, not the source.

Restarts are counted per task name in :data:`RESTARTS`. For tests, ``PYKUBELET_INJECT_FAULTS`` (task-name
patterns, comma-separated, e.g. ``*`` or ``file-*,stats``) makes the first run of each matching task fail
with :class:`InjectedFault`, so a test can watch every task come back in the real process.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final

log = logging.getLogger("pykubelet.supervisor")

INITIAL_BACKOFF: Final = 1.0
MAX_BACKOFF: Final = 30.0
HEALTHY_AFTER: Final = 60.0  # a run this long resets the back-off

# task name -> how many times its work failed and was started again (since the process started)
RESTARTS: Counter[str] = Counter()

Work = Callable[[], Awaitable[None]]

_INJECT_FAULTS: Final = tuple(p for p in os.environ.get("PYKUBELET_INJECT_FAULTS", "").split(",") if p)


class InjectedFault(RuntimeError):
    """The failure ``PYKUBELET_INJECT_FAULTS`` asks for (tests only)."""


async def supervise(
    name: str,
    work: Work,
    *,
    initial_backoff: float = INITIAL_BACKOFF,
    max_backoff: float = MAX_BACKOFF,
    forever: bool = True,
) -> None:
    """Run ``work()`` until cancelled; restart it with back-off whenever it raises (or, if ``forever``,
    returns).

    ``work`` is a factory (a coroutine function), so each restart gets a fresh coroutine. For a loop that
    should never end (``forever``) cancellation is the only way out: it is how the agent stops its tasks
    at shutdown. A pod worker is not ``forever``: it returns once its pod is gone.
    """
    loop = asyncio.get_running_loop()
    delay = initial_backoff
    inject = any(fnmatch.fnmatchcase(name, pattern) for pattern in _INJECT_FAULTS)
    while True:
        started = loop.time()
        try:
            if inject:
                inject = False
                raise InjectedFault(f"fault injected into {name} by PYKUBELET_INJECT_FAULTS")
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the point of a supervisor: anything else is logged and survived
            RESTARTS[name] += 1
            log.error(
                "Background task %s failed; restarting it in %.0fs: %s",
                name,
                delay,
                f"{type(exc).__name__}: {exc}",
                exc_info=exc,
                extra={"reason": "TaskFailed"},
            )
        else:
            if not forever:
                return
            RESTARTS[name] += 1
            log.error("Background task %s ended on its own; restarting it in %.0fs", name, delay)
        if loop.time() - started >= HEALTHY_AFTER:
            delay = initial_backoff
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_backoff)


def spawn(
    name: str,
    work: Work,
    *,
    initial_backoff: float = INITIAL_BACKOFF,
    max_backoff: float = MAX_BACKOFF,
    forever: bool = True,
) -> asyncio.Task[None]:
    """``asyncio.create_task(supervise(...))`` with the task named after the work, for logs and tests."""
    coroutine = supervise(
        name, work, initial_backoff=initial_backoff, max_backoff=max_backoff, forever=forever
    )
    return asyncio.create_task(coroutine, name=name)


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until every one has finished (shutdown)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
