"""The read-only port's connection guard, on a real loopback socket with a small app (no Docker).

Timeouts here are shrunk to fractions of a second; every wait is bounded and fails with what it was
waiting for.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from pykubelet.cli import raise_open_files_limit
from pykubelet.server import GuardedSite, ui
from pykubelet.server.guard import AcceptErrorFilter, ConnectionGuard, install, listen_limits
from pykubelet.server.throttle import LogThrottle, ThrottleFilter

HEAD = b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
HALF = b"GET /ok HTTP/1.1\r\nHost: x\r\n"  # no blank line: the head never ends


@dataclass
class Served:
    guard: ConnectionGuard
    port: int
    release: asyncio.Event  # lets /slow answer
    runner: web.AppRunner

    async def connect(self, data: bytes = b"") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        if data:
            writer.write(data)
            await writer.drain()
        return reader, writer

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await self.connect(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        try:
            return parse(await asyncio.wait_for(reader.read(), 5))
        finally:
            writer.close()


def parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    """Whatever the server still sent, once it has closed the connection (fails after ``timeout``)."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionResetError:
        return b""


async def eventually(what: str, check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.02)


Server = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve() -> AsyncIterator[Server]:
    """Start the guarded test app; every one started is cleaned up at the end."""
    started: list[tuple[web.AppRunner, Served]] = []

    async def start(**limits: Any) -> Served:
        guard = ConnectionGuard(**{"head_timeout": 0.4, **limits})
        release = asyncio.Event()
        app = web.Application()
        install(app, guard)

        async def ok(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        async def slow(request: web.Request) -> web.Response:
            await release.wait()
            return web.Response(text="slow")

        async def boom(request: web.Request) -> web.Response:
            raise RuntimeError("a bug in a handler")

        app.router.add_get("/ok", ok)
        app.router.add_get("/slow", slow)
        app.router.add_get("/boom", boom)
        # The real dashboard stream handler, on a stand-in for the snapshot hub.
        # The heartbeat names the node: through the kubelet, or through the server's Host protocol
        # (server/host.py, being introduced); the stand-in answers both ways.
        node = types.SimpleNamespace(name="node-a")
        hub = types.SimpleNamespace(
            current=lambda: (1, b"{}"),
            kubelet=types.SimpleNamespace(node=node),
            host=types.SimpleNamespace(node_facts=lambda: node),
        )
        app[ui.HUB] = hub  # type: ignore[assignment]
        app[ui.CLOSING] = asyncio.Event()
        app.on_shutdown.append(ui._on_shutdown)
        app.router.add_get("/ui/stream", ui.stream)
        # aiohttp's idle timer is set long so that what closes connections here is the guard.
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=60, shutdown_timeout=2)
        await runner.setup()
        site = GuardedSite(runner, guard, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        served = Served(guard, site._server.sockets[0].getsockname()[1], release, runner)  # type: ignore[union-attr]
        started.append((runner, served))
        return served

    yield start
    for runner, served in started:
        served.release.set()
        await runner.cleanup()


# -- head deadline -------------------------------------------------------------------------------------


async def test_a_half_sent_head_is_closed_at_the_deadline(serve: Server) -> None:
    served = await serve()
    half, half_writer = await served.connect(HALF)
    silent, silent_writer = await served.connect()
    assert await closed_by_server(half) == b""
    assert await closed_by_server(silent) == b""
    assert served.guard.timed_out == 2
    half_writer.close()
    silent_writer.close()
    assert served.guard.open_connections == 0


async def test_a_kept_alive_connection_is_closed_after_its_answer_when_nothing_follows(serve: Server) -> None:
    served = await serve()
    reader, writer = await served.connect(HEAD)
    status, _, body = parse(await asyncio.wait_for(reader.readuntil(b"ok"), 5))
    assert (status, body) == (200, b"ok")
    writer.write(HEAD)  # a second request on the same connection is served too
    assert (await asyncio.wait_for(reader.readuntil(b"ok"), 5)).startswith(b"HTTP/1.1 200")
    assert await closed_by_server(reader) == b""
    assert served.guard.timed_out == 1


async def test_a_head_sent_in_pieces_is_served(serve: Server) -> None:
    served = await serve(head_timeout=3.0)
    reader, writer = await served.connect()
    for piece in (b"GET /ok HTTP/1.1\r", b"\nHost: x\r\nConnection: close\r", b"\n", b"\r\n"):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.05)
    status, _, body = parse(await asyncio.wait_for(reader.read(), 5))
    assert (status, body) == (200, b"ok")


# -- connection cap ------------------------------------------------------------------------------------


async def test_at_the_cap_the_longest_waiting_half_sent_connection_makes_room(serve: Server) -> None:
    served = await serve(max_connections=4, head_timeout=30)
    waiting = [await served.connect(HALF) for _ in range(4)]
    await eventually("4 connections waiting", lambda: served.guard.waiting_connections == 4)
    status, _, body = await served.get("/ok")
    assert (status, body) == (200, b"ok")
    assert served.guard.evicted == 1
    assert await closed_by_server(waiting[0][0]) == b"", "the oldest one was evicted"
    for reader, writer in waiting[1:]:
        assert not reader.at_eof()
        writer.write(b"Connection: close\r\n\r\n")  # the others can still finish their request
        status, _, body = parse(await asyncio.wait_for(reader.read(), 5))
        assert (status, body) == (200, b"ok")


async def test_a_flood_of_idle_connections_never_keeps_a_client_out(serve: Server) -> None:
    served = await serve(max_connections=16, head_timeout=30)
    flood = [await served.connect(HALF if i % 2 else b"") for i in range(200)]
    assert (await served.get("/ok"))[0] == 200
    assert served.guard.open_connections <= 16
    assert served.guard.evicted >= 200 + 1 - 16
    for _, writer in flood:
        writer.close()


async def test_busy_connections_are_not_evicted_and_a_full_house_refuses_with_503(serve: Server) -> None:
    served = await serve(max_connections=2, head_timeout=30)
    slow = b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    guard = served.guard
    busy = await served.connect(slow)
    await eventually("/slow busy", lambda: (guard.open_connections, guard.waiting_connections) == (1, 0))
    half = await served.connect(HALF)
    await eventually("2 connections open", lambda: guard.open_connections == 2)
    busy2 = await served.connect(slow)
    assert await closed_by_server(half[0]) == b"", "the half-sent one made room, not the busy one"
    assert guard.evicted == 1
    await eventually("both /slow busy", lambda: (guard.open_connections, guard.waiting_connections) == (2, 0))
    refused = await served.connect(HEAD)
    status, headers, body = parse(await closed_by_server(refused[0]))
    assert status == 503
    assert b"too many connections" in body
    assert headers["x-content-type-options"] == "nosniff"
    assert served.guard.refused == 1
    served.release.set()
    for reader, _ in (busy, busy2):
        status, _, body = parse(await asyncio.wait_for(reader.read(), 5))
        assert (status, body) == (200, b"slow")
    for _, writer in (busy, half, busy2, refused):
        writer.close()


# -- dashboard streams ---------------------------------------------------------------------------------


async def test_streams_over_the_cap_get_503_and_are_never_idle(serve: Server) -> None:
    served = await serve(max_streams=2, head_timeout=0.3)
    streams = []
    for _ in range(2):
        reader, writer = await served.connect(b"GET /ui/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"text/event-stream" in await asyncio.wait_for(reader.readuntil(b"retry: "), 5)
        streams.append((reader, writer))
    status, headers, body = await served.get("/ui/stream")
    assert status == 503
    assert body.startswith(b"503 too many dashboard streams: 2 are open")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["retry-after"] == "5"
    assert served.guard.streams_refused == 1
    # Streaming for longer than the head deadline: busy, not idle, so still open.
    await asyncio.sleep(1.0)
    assert b"event: snapshot" in await asyncio.wait_for(streams[0][0].readuntil(b"data: {}"), 5)
    assert served.guard.timed_out == 0
    streams[0][1].close()
    await eventually("the closed page's slot freed", lambda: served.guard.streams == 1)
    reader, writer = await served.connect(b"GET /ui/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)).startswith(b"HTTP/1.1 200")
    for _, each in [*streams[1:], (reader, writer)]:
        each.close()


# -- nosniff -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ok", "/no/such/path", "/boom", "/ui/stream"])
async def test_every_answer_says_nosniff(serve: Server, path: str) -> None:
    served = await serve()
    if path == "/ui/stream":
        reader, writer = await served.connect(b"GET /ui/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = parse(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5))
        writer.close()
    else:
        status, headers, _ = await served.get(path)
    assert status in (200, 404, 500)
    assert headers["x-content-type-options"] == "nosniff"


# -- logs ----------------------------------------------------------------------------------------------


def test_log_throttle_counts_what_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    throttle = LogThrottle(period=10, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="pykubelet.server"):
        for _ in range(500):
            throttle(logging.WARNING, "trouble with %s", "x")
            now[0] += 0.01
        now[0] = 12.0
        throttle(logging.WARNING, "trouble with %s", "x")
    assert [r.getMessage() for r in caplog.records] == [
        "trouble with x",
        "trouble with x (and 499 more like it in the last 12s)",
    ]


def test_accept_errors_are_throttled_and_other_reports_pass_through() -> None:
    seen: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(lambda _loop, context: seen.append(context))
        guard = ConnectionGuard()
        accept_errors = AcceptErrorFilter(guard, period=10)
        accept_errors.install(loop)
        for _ in range(300):
            loop.call_exception_handler(
                {"message": AcceptErrorFilter.MESSAGE, "exception": OSError(24, "Too many open files")}
            )
        loop.call_exception_handler({"message": "something else"})
        assert accept_errors.throttle.suppressed == 299
        assert [c["message"] for c in seen] == ["something else"]
        accept_errors.uninstall(loop)
        assert loop.get_exception_handler() is not accept_errors
    finally:
        loop.close()


def test_malformed_requests_log_one_line_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    from aiohttp.http_exceptions import BadStatusLine

    logger = logging.getLogger("pykubelet.test-throttle")
    logger.addFilter(ThrottleFilter(period=10))
    with caplog.at_level(logging.INFO, logger="pykubelet.test-throttle"):
        for _ in range(100):
            try:
                raise BadStatusLine("garbage")
            except BadStatusLine:
                logger.exception("Error handling request from %s", "127.0.0.1")
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info is None
    assert caplog.records[0].getMessage().startswith("Error handling request from 127.0.0.1: ")


def test_the_cap_and_backlog_fit_the_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        cap, backlog = listen_limits()
        assert cap + 2 * backlog + 256 <= 1024
        assert cap >= 256 and backlog >= 128
        if hard == resource.RLIM_INFINITY or hard >= 20000:
            resource.setrlimit(resource.RLIMIT_NOFILE, (20000, hard))
            assert listen_limits()[0] == 512
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_out_of_descriptors_sheds_waiting_connections(serve: Server) -> None:
    served = await serve(head_timeout=30)
    waiting = [await served.connect(HALF) for _ in range(8)]
    await eventually("8 waiting", lambda: served.guard.waiting_connections == 8)
    report = {"message": AcceptErrorFilter.MESSAGE, "exception": OSError(24, "Too many open files")}
    for _ in range(50):  # asyncio reports once per backlog slot: one shedding per second
        served.guard.accept_errors(asyncio.get_running_loop(), report)
    assert served.guard.evicted == 2
    assert await closed_by_server(waiting[0][0]) == b""
    for _, writer in waiting:
        writer.close()


async def test_stopping_closes_the_connections_waiting_for_a_head(serve: Server) -> None:
    served = await serve(head_timeout=30)
    idle = await served.connect()
    half = await served.connect(HALF)
    await eventually("2 waiting", lambda: served.guard.waiting_connections == 2)
    for site in list(served.runner.sites):
        await site.stop()
    assert await closed_by_server(idle[0], timeout=2) == b""
    assert await closed_by_server(half[0], timeout=2) == b""
    assert served.guard.open_connections == 0
    for _, writer in (idle, half):
        writer.close()


def test_the_open_files_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lower = min(soft, 256)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lower, hard))
    try:
        assert raise_open_files_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
