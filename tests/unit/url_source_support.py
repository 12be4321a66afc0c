"""Shared pieces of the URL source tests (``test_url_source*.py``): loopback aiohttp servers whose answer
per path the test sets, recording every request, and a :class:`URLSource` with small limits whose
snapshots are kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from pykubelet.config.file import Snapshot
from pykubelet.config.url import URLSource

TOKEN = "X-Token"
POD_LIST = "apiVersion: v1\nkind: PodList\nitems:\n{items}"
ITEM = "- metadata: {{name: {name}}}\n  spec:\n    containers:\n    - name: c\n      image: busybox\n"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def pod_list(*names: str) -> bytes:
    return POD_LIST.format(items="".join(ITEM.format(name=n) for n in names)).encode()


def body(data: bytes, status: int = 200) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=data, status=status)

    return handle


@dataclass
class Server:
    """A loopback HTTP server whose answer per path the test sets, recording every request."""

    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path, X-Token header)

    def url(self, path: str = "/pods") -> str:
        return self.base + path

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get(TOKEN)))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such page")
        return await handler(request)


async def _serve() -> AsyncIterator[Server]:
    server = Server()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture(name="server")
async def server_fixture() -> AsyncIterator[Server]:
    async for each in _serve():
        yield each


@pytest.fixture(name="other_server")
async def other_server_fixture() -> AsyncIterator[Server]:
    """A second server: another port is another origin."""
    async for each in _serve():
        yield each


@dataclass
class Updates:
    snapshots: list[Snapshot] = field(default_factory=list)

    def __call__(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]

    def names(self) -> set[str]:
        return {r.pod.metadata["name"].removesuffix("-node1") for r in self.last.values() if r.pod}

    def errors(self) -> list[str]:
        return [str(r.error) for r in self.last.values() if r.error is not None]


def make_source(url: str, updates: Updates, **limits: Any) -> URLSource:
    limits.setdefault("timeout", 1.0)
    return URLSource(url, {TOKEN: "secret"}, "node1", 0.05, updates, **limits)


async def poll(source: URLSource) -> None:
    await asyncio.wait_for(source.poll(), timeout=10)  # a hang guard: the source's own deadline is 1 s


async def good_then(server: Server, handler: Handler, **limits: Any) -> tuple[URLSource, Updates]:
    """A source that has fetched two good pods, then meets ``handler``."""
    updates = Updates()
    source = make_source(server.url(), updates, **limits)
    server.routes["/pods"] = body(pod_list("a", "b"))
    await poll(source)
    assert updates.names() == {"a", "b"}
    server.routes["/pods"] = handler
    await poll(source)
    return source, updates


def assert_kept_with_error(updates: Updates, expected: str) -> None:
    assert updates.names() == {"a", "b"}, "a failed fetch keeps the last good set"
    [error] = updates.errors()
    assert expected in error, error
