"""Container events of a CRI runtime for the PLEG: the evented PLEG's stream where there is one, else a poll.

``GetContainerEvents`` (the kubelet's evented PLEG, KEP-3386) arrived in containerd 1.7; Debian 12's
containerd 1.6 answers UNIMPLEMENTED. There the generic PLEG's way is used: list this node's sandboxes
and containers every second (two cheap label-filtered calls) and report what the pod's worker did not do
itself: a container or sandbox that exited, or vanished. Starts and creates are the worker's own doings;
waking it for them would cost every pod start a second sync (the Docker runtime skips them too).

Either way the iterator begins with a ``connected`` event once the runtime answers, and raises when the
runtime stops answering, so the PLEG marks the runtime down and reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from cri_api.v1 import api_pb2 as pb

from pykubelet.runtime import labels as L
from pykubelet.runtime.api import ContainerEvent, Summary
from pykubelet.runtime.cri.client import CriClient, CriError

log = logging.getLogger("pykubelet.runtime")

POLL_PERIOD = 1.0  # the generic PLEG's relist period
_GONE_STATES = ("exited", "unknown")
_STREAM_ACTIONS = {pb.CONTAINER_STOPPED_EVENT: "die", pb.CONTAINER_DELETED_EVENT: "destroy"}


async def container_events(
    client: CriClient, node: str, list_summaries: Callable[[], Awaitable[list[Summary]]]
) -> AsyncIterator[ContainerEvent]:
    """``connected``, then this node's container exits and removals until the runtime stops answering."""
    baseline = await list_summaries()  # before "connected": nothing after it goes unseen by the poll
    yield ContainerEvent("", "", "connected")
    try:
        async for event in _stream(client, node):
            yield event
        raise ConnectionError(f"{client.endpoint} closed its container event stream")
    except CriError as exc:
        if exc.code != grpc.StatusCode.UNIMPLEMENTED:
            raise
        log.debug("The runtime has no GetContainerEvents: polling its containers every %gs", POLL_PERIOD)
    async for event in _poll(list_summaries, baseline):
        yield event


async def _stream(client: CriClient, node: str) -> AsyncIterator[ContainerEvent]:
    async for raw in client.stream("GetContainerEvents", pb.GetEventsRequest(), pb.ContainerEventResponse):
        action = _STREAM_ACTIONS.get(raw.container_event_type)
        labels = raw.pod_sandbox_status.labels
        if action is None or labels.get(L.NODE) != node:
            continue
        uid = labels.get(L.POD_UID) or raw.pod_sandbox_status.metadata.uid
        yield ContainerEvent(pod_uid=uid, container_id=raw.container_id, action=action)


async def _poll(
    list_summaries: Callable[[], Awaitable[list[Summary]]], baseline: list[Summary]
) -> AsyncIterator[ContainerEvent]:
    """Relist every POLL_PERIOD; an exit or a removal since the last listing is an event.

    A container first seen already exited (it started and crashed between two listings) counts too.
    """
    previous = {s.id: s for s in baseline}
    while True:
        await asyncio.sleep(POLL_PERIOD)
        current = {s.id: s for s in await list_summaries()}
        for cid, before in previous.items():
            now = current.get(cid)
            if now is None:
                yield ContainerEvent(before.pod_uid, cid, "destroy")
            elif now.state != before.state and now.state in _GONE_STATES:
                yield ContainerEvent(now.pod_uid, cid, "die")
        for cid in current.keys() - previous.keys():
            if current[cid].state in _GONE_STATES:
                yield ContainerEvent(current[cid].pod_uid, cid, "die")
        previous = current
