"""Handlers of the read-only port (``pkg/kubelet/server/server.go``, read-only mode).

Every answer comes from state the agent already holds (the pod workers' statuses, the housekeeping's
stats, the machine info read at start): a request never waits on Docker, so a hung engine cannot hang
``/healthz`` or ``/pods``. Nothing here changes state: only GET and HEAD are allowed, and the debugging
paths the real read-only port refuses are refused the same way.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.registry import Collector

from pykubelet.metrics import ExpositionCollector
from pykubelet.server.guard import ConnectionGuard, install
from pykubelet.server.host import Host
from pykubelet.stats.prometheus import CadvisorCollector, ResourceMetricsCollector

HOST: web.AppKey[Host] = web.AppKey("host")
DEBUG_PREFIXES = (
    "/run/",
    "/exec/",
    "/attach/",
    "/portForward/",
    "/containerLogs/",
    "/runningpods/",
    "/logs/",
    "/debug/pprof/",
)
DEBUG_EXACT = {p.rstrip("/") for p in DEBUG_PREFIXES}
MAX_URL = 8192


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload), status=status, content_type="application/json")


def _text(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain", charset="utf-8")


# -- healthz ------------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    host = request.app[HOST]
    checks = host.health_checks()
    failed = [name for name, reason in checks if reason]
    if "verbose" not in request.query and not failed:
        return _text("ok")
    lines = [f"[-]{name} failed: {reason}" if reason else f"[+]{name} ok" for name, reason in checks]
    lines.append("healthz check failed" if failed else "healthz check passed")
    return _text("\n".join(lines) + "\n", status=500 if failed else 200)


async def healthz_check(request: web.Request) -> web.Response:
    host = request.app[HOST]
    name = request.match_info["check"]
    for check, reason in host.health_checks():
        if check == name:
            return _text(f"internal server error: {reason}\n", status=500) if reason else _text("ok")
    return _text("404 page not found\n", status=404)


# -- pods, events, manifests --------------------------------------------------------------------------


async def pods(request: web.Request) -> web.Response:
    host = request.app[HOST]
    return web.Response(body=host.pod_list_json(), content_type="application/json")


async def events(request: web.Request) -> web.Response:
    host = request.app[HOST]
    return _json({"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": host.events()})


async def manifests(request: web.Request) -> web.Response:
    host = request.app[HOST]
    return _json({"items": host.manifest_report()})


# -- machine and stats --------------------------------------------------------------------------------


async def spec(request: web.Request) -> web.Response:
    host = request.app[HOST]
    return _json(host.machine_info())


async def spec_redirect(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/spec/")


async def stats_summary(request: web.Request) -> web.Response:
    host = request.app[HOST]
    only = request.query.get("only_cpu_and_memory", "").lower() == "true"
    return web.Response(
        body=host.stats_summary_json(only_cpu_and_memory=only), content_type="application/json"
    )


def prometheus_handler(*collectors: Collector) -> Handler:
    """A metrics endpoint served by prometheus_client's own aiohttp handler: the ``Accept`` header picks
    the text format (0.0.4) or OpenMetrics, ``Accept-Encoding`` gzip, ``name[]`` filters families. Each
    endpoint has its own registry, as the kubelet's ``/metrics``, ``/metrics/probes``, ... do; registering
    checks the collectors' described names against each other."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in collectors:
        registry.register(collector)
    return make_aiohttp_handler(registry)


# -- refusals -----------------------------------------------------------------------------------------


@web.middleware
async def read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """GET and HEAD only; the debugging handlers are disabled; unknown paths 404 in the kubelet's words."""
    if len(request.raw_path) > MAX_URL:
        return _text("414 request URI too long\n", status=414)
    path = request.path
    if path in DEBUG_EXACT or path.startswith(DEBUG_PREFIXES):
        return _text("Debug endpoints are disabled.\n", status=405)
    if request.method not in ("GET", "HEAD"):
        response = _text(
            f"405 method not allowed: {request.method} (the read-only port only answers GET)\n", status=405
        )
        response.headers["Allow"] = "GET, HEAD"
        return response
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return _text("404 page not found\n", status=404)
    except web.HTTPMethodNotAllowed:
        return _text("405 method not allowed\n", status=405)


def build_app(
    host: Host, guard: ConnectionGuard | None = None, *, enable_ui: bool = False
) -> web.Application:
    """The read-only port's routes, behind ``guard`` (a fresh one with the defaults if not given);
    with ``enable_ui``, the lab dashboard under ``/ui/`` too."""
    # aiohttp's parser refuses a request line over 8190 bytes with its own bare 400; a little room past
    # MAX_URL lets the read_only middleware answer 414 as the kubelet's Go server does.
    app = web.Application(
        middlewares=[read_only], client_max_size=64 * 1024, handler_args={"max_line_size": MAX_URL + 64}
    )
    install(app, guard or ConnectionGuard())
    app[HOST] = host
    add = app.router.add_get
    add("/healthz", healthz)
    add("/healthz/{check}", healthz_check)
    add("/pods", pods)
    add("/pods/", pods)
    add("/events", events)
    add("/manifests", manifests)
    add("/spec/", spec)
    add("/spec", spec_redirect)
    add("/stats/summary", stats_summary)
    add("/metrics", prometheus_handler(ExpositionCollector(host.metrics_text)))
    add("/metrics/probes", prometheus_handler(ExpositionCollector(host.probe_metrics_text)))
    add(
        "/metrics/resource",
        prometheus_handler(ResourceMetricsCollector(lambda: json.loads(host.stats_summary_json(True)))),
    )
    add(
        "/metrics/cadvisor",
        prometheus_handler(
            CadvisorCollector(
                lambda: json.loads(host.stats_summary_json()),
                host.pod_list,
                host.machine_info,
                host.cadvisor_names,
            )
        ),
    )
    if enable_ui:
        from pykubelet.server.ui import add_ui_routes

        add_ui_routes(app, host)
    return app
