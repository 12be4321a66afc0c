"""Handlers of the read-only port. Every answer comes from state the agent already holds."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from pykubelet.kubelet import Kubelet

KUBELET = web.AppKey("kubelet", object)
SYNCLOOP_MAX_AGE = 300.0


def _checks(kubelet: Kubelet) -> list[tuple[str, str | None]]:
    """(name, failure reason or None) for each healthz check, as the kubelet names them."""
    age = time.monotonic() - kubelet.last_housekeeping
    syncloop = None if age < SYNCLOOP_MAX_AGE else f"sync Loop took longer than expected ({age:.0f}s)"
    runtime = None if kubelet.pleg.healthy else kubelet.pleg.runtime_error
    return [("ping", None), ("log", None), ("syncloop", syncloop), ("runtime", runtime)]


async def healthz(request: web.Request) -> web.Response:
    kubelet: Kubelet = request.app[KUBELET]
    checks = _checks(kubelet)
    failed = [name for name, reason in checks if reason]
    if "verbose" not in request.query and not failed:
        return web.Response(text="ok", content_type="text/plain", charset="utf-8")
    lines = [f"[-]{name} failed: {reason}" if reason else f"[+]{name} ok" for name, reason in checks]
    lines.append("healthz check failed" if failed else "healthz check passed")
    return web.Response(
        text="\n".join(lines) + "\n",
        status=500 if failed else 200,
        content_type="text/plain",
        charset="utf-8",
    )


async def pods(request: web.Request) -> web.Response:
    kubelet: Kubelet = request.app[KUBELET]
    return web.Response(text=json.dumps(kubelet.pod_list()), content_type="application/json")


def build_app(kubelet: Kubelet) -> web.Application:
    app = web.Application()
    app[KUBELET] = kubelet
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/pods", pods)
    return app
