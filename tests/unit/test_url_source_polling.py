"""The URL source's polling loop: failures never escape and each change of reason is logged once, the loop
is supervised, and decoding runs off the event loop, once per changed body.

The servers and the source are those of ``url_source_support.py``; no Docker is needed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from pykubelet.config import url as url_module
from pykubelet.config.file import Snapshot
from pykubelet.config.url import URLSource
from tests.unit.url_source_support import (
    Server,
    Updates,
    assert_kept_with_error,
    body,
    make_source,
    pod_list,
    poll,
)
from tests.unit.url_source_support import server_fixture as server_fixture  # fixture

# --- failures never escape, and are said once --------------------------------------------------------------


async def test_start_up_with_a_bad_body_reports_it_and_starts(server: Server, caplog: Any) -> None:
    server.routes["/pods"] = body(
        b"apiVersion: v1\nkind: Pod\nmetadata: {creationTimestamp: 2024-01-01, a: b, a: c}\n"
    )
    updates = Updates()
    source = make_source(server.url(), updates)
    with caplog.at_level(logging.ERROR, "pykubelet.config.url"):
        await asyncio.wait_for(source.start(), timeout=10)
    try:
        assert not source.seen and updates.snapshots == [], "not seen until a first good answer"
        assert "found duplicate key" in caplog.text
        server.routes["/pods"] = body(pod_list("a"))
        for _ in range(200):  # the supervised loop polls every 0.05 s
            if updates.snapshots:
                break
            await asyncio.sleep(0.02)
        assert updates.names() == {"a"} and source.seen
    finally:
        await source.stop()


async def test_the_polling_loop_is_supervised(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    server.routes["/pods"] = body(pod_list("a"))
    updates = Updates()
    source = make_source(server.url(), updates)
    await source.start()
    try:
        assert source._task is not None and source._task.get_name() == "url-source"
        for _ in range(200):
            if len(server.seen) >= 3:
                break
            await asyncio.sleep(0.02)
        assert len(server.seen) >= 3
    finally:
        await source.stop()
    assert source._task.done()


async def test_an_unexpected_error_is_a_failed_fetch_logged_once(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in decoding")

    updates = Updates()
    source = make_source(server.url(), updates)
    server.routes["/pods"] = body(pod_list("a", "b"))
    await poll(source)
    monkeypatch.setattr(url_module, "load_pods", broken)
    server.routes["/pods"] = body(pod_list("a", "b", "c"))
    with caplog.at_level(logging.ERROR, "pykubelet.config.url"):
        for _ in range(3):
            await poll(source)
    assert_kept_with_error(updates, "unexpected RuntimeError: a bug in decoding")
    records = [r for r in caplog.records if "a bug in decoding" in r.getMessage()]
    assert len(records) == 1 and records[0].exc_info is not None


async def test_each_change_of_reason_is_logged_once(server: Server, caplog: Any) -> None:
    updates = Updates()
    source = make_source(server.url(), updates)
    with caplog.at_level(logging.ERROR, "pykubelet.config.url"):
        for handler in [body(b"", 404)] * 3 + [body(b"", 500)] * 2 + [body(b"", 404)]:
            server.routes["/pods"] = handler
            await poll(source)
    messages = [r.getMessage() for r in caplog.records if r.name == "pykubelet.config.url"]
    assert [("404" in m, "500" in m) for m in messages] == [(True, False), (False, True), (True, False)]


async def test_a_failing_consumer_does_not_escape_poll(server: Server) -> None:
    def consumer(snapshot: Snapshot) -> None:
        raise KeyError("consumer bug")

    server.routes["/pods"] = body(pod_list("a"))
    source = URLSource(server.url(), {}, "node1", 0.05, consumer, timeout=1.0)
    await poll(source)
    assert source.seen


async def test_decoding_runs_off_the_event_loop(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    real = url_module.load_pods

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(url_module, "load_pods", spy)
    server.routes["/pods"] = body(pod_list("a"))
    await poll(make_source(server.url(), Updates()))
    assert threads and threads[0] is not threading.main_thread()


async def test_an_unchanged_body_is_not_decoded_again_and_keeps_its_pods(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = url_module.load_pods

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(url_module, "load_pods", counting)
    server.routes["/pods"] = body(pod_list("a", "b"))
    updates = Updates()
    source = make_source(server.url(), updates)
    await poll(source)
    first = {k: r.pod for k, r in updates.last.items()}
    await poll(source)
    assert len(calls) == 1
    assert {k: r.pod for k, r in updates.last.items()} == first
