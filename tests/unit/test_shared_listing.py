"""SharedListing (runtime/docker/listing.py): pod workers that ask at once share one ``docker ps``.

The fetch is a stand-in that records which pods each listing was for and holds it open until the test
lets it answer, so each test states one property: askers in the same turn of the loop share a listing,
a listing in flight never makes a later asker wait for it, a later asker never gets a listing that
started before it asked, and closing leaves nobody waiting. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pykubelet.runtime import labels as L
from pykubelet.runtime.docker.listing import SharedListing
from tests.unit.conftest import TIMEOUT, until


class Engine:
    """Answers each listing with one container per pod it knows, when the test releases it."""

    def __init__(self) -> None:
        self.pods: list[str] = []
        self.fetches: list[set[str]] = []
        self.release = asyncio.Event()

    async def fetch(self, uids: set[str]) -> list[dict[str, Any]]:
        self.fetches.append(set(uids))
        seen = list(self.pods)  # what exists when the listing starts
        await self.release.wait()
        return [{"Id": f"c-{uid}", "Labels": {L.POD_UID: uid}} for uid in seen]


def run(scenario: Any) -> Any:
    return asyncio.run(asyncio.wait_for(scenario(), 2 * TIMEOUT))


def test_askers_in_the_same_turn_share_one_listing_and_each_gets_its_own_pod() -> None:
    async def scenario() -> tuple[list[set[str]], list[list[str]]]:
        engine = Engine()
        engine.pods = ["a", "b", "c"]
        engine.release.set()
        listing = SharedListing(engine.fetch)
        results = await asyncio.gather(*(listing.get(uid) for uid in ("a", "b", "c")))
        return engine.fetches, [[s["Id"] for s in r] for r in results]

    fetches, results = run(scenario)
    assert fetches == [{"a", "b", "c"}]
    assert results == [["c-a"], ["c-b"], ["c-c"]]


def test_a_later_asker_does_not_wait_for_a_listing_in_flight_and_sees_what_came_before_it() -> None:
    async def scenario() -> tuple[list[set[str]], list[str]]:
        engine = Engine()
        listing = SharedListing(engine.fetch)
        first = asyncio.create_task(listing.get("a"))
        await until("the first listing in flight, held open", lambda: len(engine.fetches) == 1)
        engine.pods.append("late")  # made after the first listing started
        second = asyncio.create_task(listing.get("late"))
        await until("a second listing, while the first is still open", lambda: len(engine.fetches) == 2)
        engine.release.set()
        await first
        return engine.fetches, [s["Id"] for s in await second]

    fetches, late = run(scenario)
    assert fetches == [{"a"}, {"late"}]
    assert late == ["c-late"]


def test_closing_cancels_the_askers_instead_of_leaving_them_waiting() -> None:
    async def scenario() -> bool:
        engine = Engine()
        listing = SharedListing(engine.fetch)
        asker = asyncio.create_task(listing.get("a"))
        await asyncio.sleep(0)  # the listing task exists, and may not have run yet
        listing.close()
        try:
            await asker
        except asyncio.CancelledError:
            return True
        return False

    assert run(scenario)
