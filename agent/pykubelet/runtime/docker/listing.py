"""``docker ps`` shared by the pod workers that ask at the same moment."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pykubelet.runtime import labels as L


class SharedListing:
    """``docker ps`` for many askers at once: those who ask before the loop next runs share one listing.

    Fifty pods deleted (or added) together would otherwise make fifty listings, each walking every
    container in the engine while it is busiest. Each asker still gets a listing that *started after*
    it asked, so it sees everything it did before asking; one asker alone gets a listing of its pod.

    Listings do not wait for each other: an asker's listing starts as soon as the loop runs again. When
    one listing had to finish before the next began, a burst's later askers waited for two or three
    listings of a busy engine in a row, and 50 pods deleted at once sent their last SIGTERMs over a
    second late.
    """

    def __init__(self, fetch: Callable[[set[str]], Awaitable[list[dict[str, Any]]]]) -> None:
        self._fetch = fetch
        self._next: tuple[set[str], asyncio.Future[list[dict[str, Any]]]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, uid: str) -> list[dict[str, Any]]:
        """The summaries of one pod's containers, or of the node's when ``uid`` is empty."""
        if self._next is None:
            future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
            future.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved if nobody waits
            self._next = (set(), future)
            task = asyncio.create_task(self._run(self._next))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(functools.partial(_cancel_unless_done, future))
        uids, future = self._next
        uids.add(uid)
        summaries = await asyncio.shield(future)
        if not uid:
            return summaries
        return [s for s in summaries if (s.get("Labels") or {}).get(L.POD_UID) == uid]

    async def _run(self, batch: tuple[set[str], asyncio.Future[list[dict[str, Any]]]]) -> None:
        uids, future = batch
        self._next = None  # from now on askers make the next batch: this listing may not see them
        try:
            future.set_result(await self._fetch(uids))
        except Exception as exc:
            future.set_exception(exc)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


def _cancel_unless_done(future: asyncio.Future[Any], _task: asyncio.Task[None]) -> None:
    """A listing's task ended without an answer (cancelled while closing, even before it ran): its askers
    are cancelled rather than left waiting forever."""
    if not future.done():
        future.cancel()
