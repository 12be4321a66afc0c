"""The kubelet's read-only port (10255): answers from the agent's state, never a Docker call per request.

The port listens through a :class:`GuardedSite`: aiohttp's ``TCPSite`` with each connection's handler
wrapped by the :mod:`pykubelet.server.guard` (head deadline, connection cap, throttled accept errors),
so hostile or broken clients cannot take the file descriptors the agent needs to run pods.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from pykubelet.server.guard import KEEPALIVE_TIMEOUT, ConnectionGuard, listen_limits
from pykubelet.server.host import Host
from pykubelet.server.routes import build_app
from pykubelet.server.throttle import http_logger

log = logging.getLogger("pykubelet.server")


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through ``guard`` before aiohttp's request handler."""

    def __init__(
        self, runner: web.BaseRunner, guard: ConnectionGuard, host: str, port: int, backlog: int = 128
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._guard = guard
        self._host = host
        self._port = port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        handler_factory = self._runner.server
        assert handler_factory is not None  # runner.setup() ran: BaseSite checks it
        self._server = await loop.create_server(
            self._guard.protocol_factory(handler_factory),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
        )
        self._guard.accept_errors.install(loop)

    async def stop(self) -> None:
        self._guard.accept_errors.uninstall(asyncio.get_running_loop())
        await super().stop()
        self._guard.close_waiting()


async def start_server(host: Host, address: str, port: int, *, enable_ui: bool = False) -> web.AppRunner:
    """Serve ``host``'s read-only port on ``address:port``; ``cleanup()`` on the returned runner stops it."""
    cap, backlog = listen_limits()
    guard = ConnectionGuard(max_connections=cap)
    runner = web.AppRunner(
        build_app(host, guard, enable_ui=enable_ui),
        access_log=None,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        logger=http_logger(),
    )
    await runner.setup()
    await GuardedSite(runner, guard, address, port, backlog).start()
    log.info(
        "Serving the read-only port",
        extra={
            "kv": {
                "address": f"{address}:{port}",
                "maxConnections": guard.max_connections,
                "backlog": backlog,
                "maxStreams": guard.max_streams,
                "headTimeout": f"{guard.head_timeout:g}s",
                "idleTimeout": f"{KEEPALIVE_TIMEOUT:g}s",
            }
        },
    )
    return runner
