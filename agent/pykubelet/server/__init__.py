"""The kubelet's read-only port (10255): answers from the agent's state, never a Docker call per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from pykubelet.server.routes import build_app

if TYPE_CHECKING:
    from pykubelet.kubelet import Kubelet


async def start_server(kubelet: Kubelet, address: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_app(kubelet), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, address, port, reuse_address=True)
    await site.start()
    return runner
